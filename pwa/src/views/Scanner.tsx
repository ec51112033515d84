import { useEffect, useRef, useState } from "preact/hooks";
import { type Key, t } from "../i18n";
import { type Scan, startScan } from "../scan/camera";
import { decodeFile } from "../scan/decode";

/** getUserMedia's error names (and Chromium's older aliases) → what the person reads and can do about it. */
const CAMERA_ERRORS: Record<string, Key> = {
  NotFoundError: "scan.err.not_found",
  DevicesNotFoundError: "scan.err.not_found",
  NotAllowedError: "scan.err.not_allowed",
  PermissionDeniedError: "scan.err.not_allowed",
  NotReadableError: "scan.err.not_readable",
  TrackStartError: "scan.err.not_readable",
  AbortError: "scan.err.not_readable",
  OverconstrainedError: "scan.err.overconstrained",
  ConstraintNotSatisfiedError: "scan.err.overconstrained",
  SecurityError: "scan.err.security",
  NotSupportedError: "scan.err.security",
};

export function cameraErrorKey(e: unknown): Key {
  const name = (e as { name?: string } | null)?.name ?? "";
  return CAMERA_ERRORS[name] ?? "scan.err.other";
}

/** Full-width camera view that calls onText once with the first code it reads. */
export function Scanner({ onText, onCancel }: { onText: (text: string) => void; onCancel: () => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const scan = useRef<Scan | null>(null);
  const [cameraError, setCameraError] = useState<{ key: Key; name: string } | null>(null);
  const [photoError, setPhotoError] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const [torch, setTorch] = useState(false);
  const [hasTorch, setHasTorch] = useState(false);
  useEffect(() => {
    let cancelled = false;
    setCameraError(null);
    startScan(video.current!, onText)
      .then((s) => {
        if (cancelled) return s.stop();
        scan.current = s;
        setHasTorch(s.hasTorch);
      })
      .catch((e: unknown) => {
        if (!cancelled) setCameraError({ key: cameraErrorKey(e), name: String((e as { name?: string } | null)?.name ?? "Error") });
      });
    return () => {
      cancelled = true;
      scan.current?.stop();
      scan.current = null;
    };
  }, [attempt]);
  return (
    <div class="scanner" data-testid="scanner">
      {cameraError ? (
        <div class="camera-error" role="alert" data-testid="camera-error" data-error-name={cameraError.name}>
          <p class="error">{t(cameraError.key)}</p>
          <button onClick={() => setAttempt(attempt + 1)} data-testid="camera-retry">{t("scan.retry")}</button>
        </div>
      ) : (
        <p class="hint">{t("verify.aim")}</p>
      )}
      {photoError && <p class="error" role="alert">{t("verify.no_code_found")}</p>}
      <div class={cameraError ? "viewport off" : "viewport"}>
        <video ref={video} muted playsInline aria-label={t("scan.video_label")} />
        {!cameraError && <div class="frame" />}
      </div>
      <div class="row">
        {hasTorch && (
          <button onClick={async () => (await scan.current?.torch(!torch)) && setTorch(!torch)} aria-pressed={torch}>
            {t("verify.torch")}
          </button>
        )}
        <label class="button">
          {t("scan.pick")}
          <input type="file" accept="image/*" hidden data-testid="scanner-photo" onChange={async (e) => {
            const f = (e.target as HTMLInputElement).files?.[0];
            const text = f ? await decodeFile(f).catch(() => null) : null;
            if (text) { scan.current?.stop(); onText(text); } else setPhotoError(true);
          }} />
        </label>
        <button onClick={onCancel}>{t("verify.cancel")}</button>
      </div>
    </div>
  );
}
