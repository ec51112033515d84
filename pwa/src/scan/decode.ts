// QR decoding: the browser's BarcodeDetector where it exists, else the self-hosted zxing-wasm reader running in a
// Web Worker (decode.worker.ts), compiled there while the page is idle so the main thread never pays for it.
import type { WorkerReply, WorkerRequest } from "./decode.worker";
import { preopenCamera } from "./camera";

interface Detector {
  detect(source: ImageBitmapSource): Promise<{ rawValue: string }[]>;
}

let detector: Detector | null | undefined;

async function nativeDetector(): Promise<Detector | null> {
  if (detector !== undefined) return detector;
  detector = null;
  const BD = (globalThis as unknown as { BarcodeDetector?: { new (o: object): Detector; getSupportedFormats(): Promise<string[]> } }).BarcodeDetector;
  if (BD) {
    try {
      if ((await BD.getSupportedFormats()).includes("qr_code")) detector = new BD({ formats: ["qr_code"] });
    } catch {
      detector = null;
    }
  }
  return detector;
}

// ---- the worker ------------------------------------------------------------------------------------------------

type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

let worker: Worker | null = null;
let workerBroken = false;
let nextId = 1;
const pending = new Map<number, (reply: WorkerReply) => void>();

function failAll(error: string): void {
  for (const [id, done] of pending) done({ id, text: null, ms: 0, error });
  pending.clear();
}

function getWorker(): Worker | null {
  if (workerBroken) return null;
  if (worker) return worker;
  try {
    worker = new Worker(new URL("./decode.worker.ts", import.meta.url), { type: "module" });
  } catch {
    workerBroken = true;
    return null;
  }
  worker.onmessage = (e: MessageEvent<WorkerReply>) => {
    const done = pending.get(e.data.id);
    pending.delete(e.data.id);
    done?.(e.data);
  };
  worker.onerror = () => {
    // A browser that cannot run the module worker: decode on the main thread from now on.
    workerBroken = true;
    worker?.terminate();
    worker = null;
    failAll("worker");
  };
  return worker;
}

function ask(req: Request, transfer: Transferable[] = []): Promise<WorkerReply> | null {
  const w = getWorker();
  if (!w) return null;
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    w.postMessage({ ...req, id } as WorkerRequest, transfer);
  });
}

// ---- the main-thread fallback (only where module workers do not run) ---------------------------------------------

async function decodeHere(img: ImageData, tryHarder: boolean): Promise<string | null> {
  const [{ prepareZXingModule, readBarcodes }, { default: wasmUrl }] = await Promise.all([
    import("zxing-wasm/reader"),
    import("zxing-wasm/reader/zxing_reader.wasm?url"),
  ]);
  prepareZXingModule({ overrides: { locateFile: (path: string, prefix: string) => (path.endsWith(".wasm") ? wasmUrl : prefix + path) } });
  const results = await readBarcodes(img, { formats: ["QRCode"], tryHarder, maxNumberOfSymbols: 1 });
  const ok = results.find((r) => r.isValid && r.text);
  return ok ? ok.text : null;
}

function toImageData(bitmap: ImageBitmap): ImageData {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}

/** Decode one picture in the worker (handing the bitmap over), or here when the worker cannot run. */
async function decodeBitmap(bitmap: ImageBitmap, tryHarder: boolean): Promise<string | null> {
  const reply = ask({ kind: "decode", image: bitmap, tryHarder }, [bitmap]);
  if (reply) {
    const r = await reply;
    try {
      performance.mark("scan:worker-decode", { detail: { ms: r.ms, pixelsMs: r.pixelsMs } }); // the worker's own time on this picture (make bench)
    } catch {
      /* marks are for measuring only */
    }
    return r.error ? null : r.text; // (a worker that died mid-picture: the next frame goes to the fallback)
  }
  return decodeHere(toImageData(bitmap), tryHarder);
}

// ---- what the views and the camera call ------------------------------------------------------------------------

export async function decodeImageData(img: ImageData): Promise<string | null> {
  const native = await nativeDetector();
  if (native) {
    try {
      const found = await native.detect(img);
      if (found.length) return found[0].rawValue;
    } catch {
      /* fall through to zxing */
    }
  }
  return decodeBitmap(await createImageBitmap(img), true);
}

/** The largest side the camera's frames are scaled down to before decoding (a QR at arm's length keeps ≥ 4 px a module). */
const FRAME_SIDE = 720;

/**
 * One camera frame: the centre square (where the on-screen frame asks the code to be) or, when `whole`, the whole
 * picture — scaled down off the main thread (createImageBitmap) and decoded in the worker.
 */
export async function decodeVideoFrame(video: HTMLVideoElement, whole: boolean): Promise<string | null> {
  const native = await nativeDetector();
  if (native) {
    try {
      const found = await native.detect(video);
      return found.length ? found[0].rawValue : null;
    } catch {
      /* fall through to zxing */
    }
  }
  const w = video.videoWidth, h = video.videoHeight;
  const side = Math.min(w, h);
  const [sx, sy, sw, sh] = whole ? [0, 0, w, h] : [Math.floor((w - side) / 2), Math.floor((h - side) / 2), side, side];
  const scale = Math.min(1, FRAME_SIDE / Math.max(sw, sh));
  const bitmap = await createImageBitmap(video, sx, sy, sw, sh,
    scale < 1 ? { resizeWidth: Math.round(sw * scale), resizeHeight: Math.round(sh * scale), resizeQuality: "medium" } : {});
  return decodeBitmap(bitmap, whole);
}

export async function decodeFile(file: Blob): Promise<string | null> {
  const native = await nativeDetector();
  const probe = await createImageBitmap(file);
  const scale = Math.min(1, 1600 / Math.max(probe.width, probe.height));
  const bitmap = scale < 1
    ? await createImageBitmap(probe, { resizeWidth: Math.round(probe.width * scale), resizeHeight: Math.round(probe.height * scale), resizeQuality: "high" })
    : probe;
  if (bitmap !== probe) probe.close();
  if (native) {
    try {
      const found = await native.detect(bitmap);
      if (found.length) return found[0].rawValue;
    } catch {
      /* fall through to zxing */
    }
  }
  return decodeBitmap(bitmap, true);
}

let warmed: Promise<void> | null = null;

/** Start the decoder (the worker compiles the wasm) without waiting for it; safe to call often. */
export function warmDecoder(): Promise<void> {
  warmed ??= (async () => {
    if (await nativeDetector()) return;
    const reply = ask({ kind: "warm" });
    if (reply) await reply;
  })();
  return warmed;
}

function whenIdle(run: () => void): void {
  const ric = (globalThis as { requestIdleCallback?: (cb: () => void, o?: { timeout: number }) => number }).requestIdleCallback;
  if (ric) ric(run, { timeout: 1500 });
  else setTimeout(run, 300);
}

/**
 * Get the scanner ready while the person looks at the page: once the page is idle, the worker compiles the decoder
 * (and the wasm is fetched while online), and the camera opens if this site may already use it.
 */
export async function warmUp(): Promise<void> {
  whenIdle(() => {
    void warmDecoder();
    void preopenCamera();
  });
}
