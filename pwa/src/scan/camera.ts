// The camera: getUserMedia → video → frames (each new one, via requestVideoFrameCallback) → the decoder in its
// worker, until a code is found or it is stopped. The stream may already be open (preopenCamera) when the person
// taps, so the scan starts from a running camera.
//
// Performance marks (read by `make bench`): scan:tap (startScan called), scan:stream (stream in hand),
// scan:playing (the video plays), scan:frame (first frame sent to the decoder), scan:decoded (a code read);
// scan:preopened (the camera opened ahead of the tap); decode.ts adds scan:worker-decode (detail: the worker's ms).
import { decodeVideoFrame, warmDecoder } from "./decode";

export interface Scan {
  stop(): void;
  torch(on: boolean): Promise<boolean>;
  hasTorch: boolean;
}

const CONSTRAINTS: MediaStreamConstraints = {
  video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
  audio: false,
};

/** How long a camera opened ahead of a tap stays open unused before it is closed (the camera light goes off). */
const WARM_MS = 30_000;

let warm: { stream: MediaStream; timer: ReturnType<typeof setTimeout> } | null = null;
let opening: Promise<MediaStream | null> | null = null;

function live(stream: MediaStream): boolean {
  return stream.getVideoTracks().some((t) => t.readyState === "live");
}

/** Close a camera opened ahead that no scan took (e.g. when the person leaves the verify page). */
export function releasePreopenedCamera(): void {
  release();
}

function release(): void {
  if (!warm) return;
  clearTimeout(warm.timer);
  warm.stream.getTracks().forEach((t) => t.stop());
  warm = null;
}

function hold(stream: MediaStream): void {
  release();
  warm = { stream, timer: setTimeout(release, WARM_MS) };
}

function mark(name: string): void {
  try {
    performance.mark(name);
  } catch {
    /* marks are for measuring only */
  }
}

if (typeof document !== "undefined") {
  // A camera opened ahead never stays on behind another app or tab.
  document.addEventListener("visibilitychange", () => document.visibilityState === "hidden" && release());
}

/**
 * Open the camera ahead of the tap, but only when this site may already use it (no prompt appears on its own):
 * the stream is held for WARM_MS, then closed if no scan took it.
 */
export async function preopenCamera(): Promise<void> {
  if (warm || opening || !navigator.mediaDevices?.getUserMedia) return;
  try {
    const p = await navigator.permissions?.query({ name: "camera" as PermissionName });
    if (p?.state !== "granted") return;
  } catch {
    return; // a browser that cannot say: wait for the tap
  }
  if (warm || opening || document.visibilityState === "hidden") return;
  opening = navigator.mediaDevices.getUserMedia(CONSTRAINTS).then(
    (stream) => {
      hold(stream);
      mark("scan:preopened");
      return stream;
    },
    () => null,
  );
  await opening;
  opening = null;
}

async function takeStream(): Promise<MediaStream> {
  if (opening) await opening;
  if (warm && live(warm.stream)) {
    const { stream, timer } = warm;
    clearTimeout(timer);
    warm = null;
    return stream;
  }
  release();
  try {
    return await navigator.mediaDevices.getUserMedia(CONSTRAINTS);
  } catch (e) {
    // A camera that refuses even "ideal" settings: any camera will do.
    if ((e as Error).name === "OverconstrainedError") return navigator.mediaDevices.getUserMedia({ video: true, audio: false });
    throw e;
  }
}

type FrameVideo = HTMLVideoElement & { requestVideoFrameCallback?: (cb: () => void) => number };

export async function startScan(video: HTMLVideoElement, onText: (text: string) => void): Promise<Scan> {
  mark("scan:tap");
  void warmDecoder(); // compiles in its worker while the camera opens, if the page did not already
  if (!navigator.mediaDevices?.getUserMedia) {
    throw Object.assign(new Error("getUserMedia unavailable"), { name: "NotSupportedError" });
  }
  const stream = await takeStream();
  mark("scan:stream");
  video.srcObject = stream;
  video.muted = true;
  video.setAttribute("playsinline", "true");
  await video.play();
  mark("scan:playing");
  const track = stream.getVideoTracks()[0];
  const caps = (track.getCapabilities?.() ?? {}) as MediaTrackCapabilities & { torch?: boolean };
  let running = true;
  let tries = 0;
  const v = video as FrameVideo;
  const next = () => {
    if (!running) return;
    // Each new camera frame, as soon as it is there (no fixed sleep); older browsers: about every 40 ms.
    if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(() => void tick());
    else setTimeout(() => void tick(), 40);
  };
  const tick = async () => {
    if (!running) return;
    if (video.readyState < 2 || !video.videoWidth) return next();
    tries++;
    if (tries === 1) mark("scan:frame");
    try {
      // Mostly the centre square, scaled down (fast); every third try the whole picture, read harder.
      const text = await decodeVideoFrame(video, tries % 3 === 0);
      if (text && running) {
        mark("scan:decoded");
        stop();
        onText(text);
        return;
      }
    } catch {
      /* a frame that fails to decode: try the next */
    }
    next();
  };
  const stop = () => {
    running = false;
    stream.getTracks().forEach((t) => t.stop());
    video.srcObject = null;
  };
  void tick(); // the first frame is usually there already when the stream was open before the tap
  return {
    stop,
    hasTorch: !!caps.torch,
    async torch(on: boolean) {
      try {
        await track.applyConstraints({ advanced: [{ torch: on } as MediaTrackConstraintSet] });
        return true;
      } catch {
        return false;
      }
    },
  };
}
