import { useEffect, useRef, useState } from "preact/hooks";
import { t } from "../i18n";
import { type Scan, startScan } from "../scan/camera";
import { decodeFile } from "../scan/decode";

/** Full-width camera view that calls onText once with the first code it reads. */
export function Scanner({ onText, onCancel }: { onText: (text: string) => void; onCancel: () => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const scan = useRef<Scan | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [torch, setTorch] = useState(false);
  const [hasTorch, setHasTorch] = useState(false);
  useEffect(() => {
    let cancelled = false;
    startScan(video.current!, onText)
      .then((s) => {
        if (cancelled) return s.stop();
        scan.current = s;
        setHasTorch(s.hasTorch);
      })
      .catch((e: Error) => setError(t("verify.camera_error", { msg: e.message || e.name })));
    return () => {
      cancelled = true;
      scan.current?.stop();
    };
  }, []);
  return (
    <div class="scanner" data-testid="scanner">
      {error ? <p class="error" role="alert">{error}</p> : <p class="hint">{t("verify.aim")}</p>}
      <div class="viewport">
        <video ref={video} muted playsInline />
        <div class="frame" />
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
            if (text) { scan.current?.stop(); onText(text); } else setError(t("verify.no_code_found"));
          }} />
        </label>
        <button onClick={onCancel}>{t("verify.cancel")}</button>
      </div>
    </div>
  );
}
