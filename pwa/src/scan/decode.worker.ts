// The QR decoder off the main thread: zxing-wasm compiled and run in this worker, so neither the page's start
// nor the camera preview stalls while it works. Messages: see decode.ts (WorkerRequest / WorkerReply).
import wasmUrl from "zxing-wasm/reader/zxing_reader.wasm?url";
import { prepareZXingModule, readBarcodes } from "zxing-wasm/reader";

export type WorkerRequest =
  | { id: number; kind: "warm" }
  | { id: number; kind: "decode"; image: ImageBitmap | ImageData; tryHarder: boolean };
export type WorkerReply = { id: number; text: string | null; ms: number; pixelsMs?: number; error?: string };

let ready: Promise<unknown> | null = null;

function prepare(): Promise<unknown> {
  // Our own copy of the WebAssembly (precached by the service worker): never a CDN.
  ready ??= prepareZXingModule({
    overrides: { locateFile: (path: string, prefix: string) => (path.endsWith(".wasm") ? new URL(wasmUrl, self.location.href).href : prefix + path) },
    fireImmediately: true,
  });
  return ready;
}

let canvas: OffscreenCanvas | null = null;

function pixels(image: ImageBitmap | ImageData): ImageData {
  if (image instanceof ImageData) return image;
  canvas ??= new OffscreenCanvas(image.width, image.height);
  if (canvas.width !== image.width || canvas.height !== image.height) {
    canvas.width = image.width;
    canvas.height = image.height;
  }
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.drawImage(image, 0, 0);
  image.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = async (e: MessageEvent<WorkerRequest>) => {
  const req = e.data;
  const t0 = performance.now();
  try {
    await prepare();
    if (req.kind === "warm") {
      // Reads of empty pictures the size of a camera frame run the module's own start-up, grow its memory and get
      // its hot code optimised, so the first real frame pays none of it.
      const blank = new ImageData(720, 720);
      for (let i = 0; i < 3; i++) await readBarcodes(blank, { formats: ["QRCode"], tryHarder: i > 0, maxNumberOfSymbols: 1 });
      scope.postMessage({ id: req.id, text: null, ms: performance.now() - t0 } satisfies WorkerReply);
      return;
    }
    const t1 = performance.now();
    const img = pixels(req.image);
    const pixelsMs = performance.now() - t1;
    const results = await readBarcodes(img, { formats: ["QRCode"], tryHarder: req.tryHarder, maxNumberOfSymbols: 1 });
    const ok = results.find((r) => r.isValid && r.text);
    scope.postMessage({ id: req.id, text: ok ? ok.text : null, ms: performance.now() - t0, pixelsMs } satisfies WorkerReply);
  } catch (err) {
    scope.postMessage({ id: req.id, text: null, ms: performance.now() - t0, error: String(err) } satisfies WorkerReply);
  }
};
