// The camera: getUserMedia → video → canvas frames → decoder, until a code is found or it is stopped.
import { decodeImageData } from "./decode";

export interface Scan {
  stop(): void;
  torch(on: boolean): Promise<boolean>;
  hasTorch: boolean;
}

export async function startScan(video: HTMLVideoElement, onText: (text: string) => void): Promise<Scan> {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
    audio: false,
  });
  video.srcObject = stream;
  video.setAttribute("playsinline", "true");
  await video.play();
  const track = stream.getVideoTracks()[0];
  const caps = (track.getCapabilities?.() ?? {}) as MediaTrackCapabilities & { torch?: boolean };
  let running = true;
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  const loop = async () => {
    while (running) {
      if (video.readyState >= 2 && video.videoWidth) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        ctx.drawImage(video, 0, 0);
        try {
          const text = await decodeImageData(ctx.getImageData(0, 0, canvas.width, canvas.height));
          if (text && running) {
            running = false;
            stop();
            onText(text);
            return;
          }
        } catch {
          /* a frame that fails to decode: try the next */
        }
      }
      await new Promise((r) => setTimeout(r, 120));
    }
  };
  const stop = () => {
    running = false;
    stream.getTracks().forEach((t) => t.stop());
    video.srcObject = null;
  };
  void loop();
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
