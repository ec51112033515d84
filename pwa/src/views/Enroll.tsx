import { useEffect, useState } from "preact/hooks";
import { t } from "../i18n";
import { ApiError } from "../app/api";
import { useAppState } from "../app/hooks";
import { ed25519Supported, enroll, loadPass } from "../app/pass";
import { photoFor } from "../app/photos";
import { navigate } from "../app/router";
import { refresh } from "../app/state";
import * as dp1 from "../dp1";
import { Scanner } from "./Scanner";

function codeFrom(text: string): string {
  try {
    return new URL(text).searchParams.get("code") ?? text;
  } catch {
    return text;
  }
}

export function Enroll() {
  const s = useAppState();
  const [code, setCode] = useState(new URLSearchParams(location.search).get("code") ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [scanning, setScanning] = useState(false);
  const [hasPass, setHasPass] = useState(false);
  const [supported, setSupported] = useState(true);
  useEffect(() => {
    void loadPass().then((p) => setHasPass(!!p));
    void ed25519Supported().then(setSupported);
  }, []);

  const submit = async (value: string) => {
    setError(null);
    if (!navigator.onLine) return setError(t("enroll.offline"));
    setBusy(true);
    try {
      const p = await enroll(value);
      await refresh();
      await photoFor(p.serial, dp1.decodeCred(p.cred).photoDigest, true);
      navigate("/pass");
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  if (scanning)
    return <Scanner onText={(text) => { setScanning(false); const c = codeFrom(text); setCode(c); void submit(c); }} onCancel={() => setScanning(false)} />;
  return (
    <main class="enroll">
      <h1>{t("enroll.title")}</h1>
      <p>{t("enroll.intro")}</p>
      {!supported && <p class="error" role="alert">{t("enroll.unsupported")}</p>}
      {hasPass && <p class="note">{t("enroll.replace")}</p>}
      <form onSubmit={(e) => { e.preventDefault(); void submit(code); }}>
        <label>
          {t("enroll.code")}
          <input name="code" value={code} onInput={(e) => setCode((e.target as HTMLInputElement).value)}
            autocomplete="off" autocapitalize="characters" spellcheck={false} placeholder="XXXX-XXXX-XXXX" required />
        </label>
        <button class="primary" type="submit" disabled={busy || !supported} data-testid="enroll-submit">
          {busy ? t("enroll.working") : t("enroll.submit")}
        </button>
      </form>
      <button onClick={() => setScanning(true)} disabled={busy} data-testid="enroll-scan">{t("enroll.scan")}</button>
      {error && <p class="error" role="alert" data-testid="enroll-error">{error}</p>}
      {!s.online && <p class="note">{t("enroll.offline")}</p>}
    </main>
  );
}
