// QR decoding: the browser's BarcodeDetector where it exists, else the self-hosted zxing-wasm reader.
import wasmUrl from "zxing-wasm/reader/zxing_reader.wasm?url";
import { prepareZXingModule, readBarcodes } from "zxing-wasm/reader";

let prepared = false;

function prepare(): void {
  if (prepared) return;
  // Our own copy of the WebAssembly, precached by the service worker: never a CDN.
  prepareZXingModule({ overrides: { locateFile: (path: string, prefix: string) => (path.endsWith(".wasm") ? wasmUrl : prefix + path) } });
  prepared = true;
}

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
  prepare();
  const results = await readBarcodes(img, { formats: ["QRCode"], tryHarder: true, maxNumberOfSymbols: 1 });
  const ok = results.find((r) => r.isValid && r.text);
  return ok ? ok.text : null;
}

export async function decodeFile(file: Blob): Promise<string | null> {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
  const canvas = new OffscreenCanvas(Math.round(bitmap.width * scale), Math.round(bitmap.height * scale));
  const ctx = canvas.getContext("2d")!;
  ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return decodeImageData(ctx.getImageData(0, 0, canvas.width, canvas.height));
}

/** Warm the decoder so the first scan is fast (and the wasm is fetched while online). */
export async function warmUp(): Promise<void> {
  if (await nativeDetector()) return;
  prepare();
  try {
    await readBarcodes(new ImageData(8, 8), { formats: ["QRCode"] });
  } catch {
    /* warming only */
  }
}
