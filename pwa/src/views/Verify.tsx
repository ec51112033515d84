import { useEffect, useState } from "preact/hooks";
import { t } from "../i18n";
import { ApiError, api } from "../app/api";
import { useAppState } from "../app/hooks";
import { now, state } from "../app/state";
import { deviceId } from "../app/store";
import * as dp1 from "../dp1";
import { releasePreopenedCamera } from "../scan/camera";
import { decodeFile, warmUp } from "../scan/decode";
import { Scanner } from "./Scanner";
import { type ServerAnswer, type Shown, VerdictCard, fromOffline, fromServer, verdictWords } from "./Verdict";
import { CareSwitch } from "./Home";
import { refreshDirectory } from "../app/directory";

type Mode = "idle" | "scanning" | "typing" | "result";

export function Verify() {
  const s = useAppState();
  const [mode, setMode] = useState<Mode>("idle");
  const [shown, setShown] = useState<Shown | null>(null);
  const [frame, setFrame] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [serial, setSerial] = useState("");
  const [code6, setCode6] = useState("");
  useEffect(() => {
    void warmUp();
    return releasePreopenedCamera; // a camera opened early does not stay on after the person leaves this page
  }, []);
  useEffect(() => void refreshDirectory(), [s.online]);
  // What a screen reader says when a verdict appears (the region is always on the page, so the change is announced).
  const announce = mode === "result" && shown ? verdictWords(shown) : "";
  const liveRegion = <p class="dp-live" role="status" aria-live="assertive" aria-atomic="true" data-testid="verdict-live">{announce}</p>;

  const check = async (text: string) => {
    setError(null);
    setFrame(text);
    const trust = state.trust, status = state.status;
    let offline: Shown | undefined;
    if (trust && status) {
      offline = fromOffline(await dp1.verify(text, now(), trust, status), status);
      setShown(offline);
      setMode("result");
    } else if (!navigator.onLine) {
      setError(t("verify.no_lists"));
      setMode("idle");
      return;
    }
    if (navigator.onLine) {
      try {
        const answer = await api<ServerAnswer>("/api/verify", { qr: text.slice(0, 4096), device_id: await deviceId() });
        setShown(fromServer(answer, digestOf(text)));
        setMode("result");
      } catch (e) {
        if (!offline) setError(e instanceof ApiError ? e.message : String(e));
      }
    }
  };

  const byCode = async () => {
    setError(null);
    if (!navigator.onLine) return setError(t("verify.type_online"));
    try {
      const answer = await api<ServerAnswer>("/api/verify/code", { serial: Number(serial), code: code6, device_id: await deviceId() });
      // A wrong code, an unknown number and a pass not yet activated get one answer that names no one.
      if (answer.result === "bad_code" && !answer.holder) return setError(t("verify.code_wrong"));
      setFrame(undefined);
      setShown(fromServer(answer, undefined, true));
      setMode("result");
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };

  const fromPhoto = async (file: File | undefined) => {
    if (!file) return;
    const text = await decodeFile(file).catch(() => null);
    if (text) await check(text);
    else setError(t("verify.no_code_found"));
  };

  if (mode === "result" && shown)
    return <>{liveRegion}<VerdictCard shown={shown} online={s.online} frame={frame} onAgain={() => { setShown(null); setMode("scanning"); }} /></>;
  if (mode === "scanning") return <>{liveRegion}<Scanner onText={(text) => void check(text)} onCancel={() => setMode("idle")} /></>;
  return (
    <main class="verify">
      {liveRegion}
      <h1>{t("verify.title")}</h1>
      {!s.trust && <p class="note" data-testid="no-lists">{s.online ? "…" : t("verify.no_lists")}</p>}
      <button class="big primary" onClick={() => setMode("scanning")} data-testid="start-scan">{t("verify.scan")}</button>
      <label class="big file">
        {t("verify.photo")}
        <input type="file" accept="image/*" data-testid="pick-photo" onChange={(e) => void fromPhoto((e.target as HTMLInputElement).files?.[0])} />
      </label>
      {mode === "typing" ? (
        <form class="typed" onSubmit={(e) => { e.preventDefault(); void byCode(); }}>
          <label>{t("verify.serial")}<input inputMode="numeric" autoComplete="off" value={serial} onInput={(e) => setSerial((e.target as HTMLInputElement).value.replace(/\D/g, ""))} required /></label>
          <label>{t("verify.code6")}<input inputMode="numeric" maxLength={6} value={code6} onInput={(e) => setCode6((e.target as HTMLInputElement).value.replace(/\D/g, ""))} required /></label>
          <button class="primary" type="submit">{t("verify.check")}</button>
          {!s.online && <p class="note">{t("verify.type_online")}</p>}
        </form>
      ) : (
        <button class="big" onClick={() => setMode("typing")}>{t("verify.type")}</button>
      )}
      {error && <p class="error" role="alert" data-testid="verify-error">{error}</p>}
      <CareSwitch />
    </main>
  );
}

function digestOf(text: string): Uint8Array | undefined {
  try {
    return dp1.parseQr(text).cred.photoDigest;
  } catch {
    return undefined;
  }
}
