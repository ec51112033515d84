import { useState } from "preact/hooks";
import { type Key, t } from "../i18n";
import { dateTime } from "../app/format";
import { addRecord } from "../app/outbox";
import { useOutbox } from "../app/useOutbox";
import * as dp1 from "../dp1";
import { Scanner } from "./Scanner";
import { trySave } from "./save";
import { parseVisitCode } from "../app/visitcode";
import { now } from "../app/state";

/** docs/devices.md, The visit code: VISIT_CODE_WINDOW, and the clock skew allowed before the code's time. */
const VISIT_CODE_WINDOW = 3600;
const VISIT_CODE_SKEW = 300;

function position(): Promise<{ lat: number; lon: number } | null> {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: Math.round(p.coords.latitude * 1e5) / 1e5, lon: Math.round(p.coords.longitude * 1e5) / 1e5 }),
      () => resolve(null),
      { timeout: 8000, maximumAge: 60000 },
    );
  });
}

/** The worker checks in by scanning the household's visit code (DPV2, signed by the household's phone; the check-in
 * carries it whole, for the server to pair with that household's review), and checks out when done. Without
 * `allowCheckin` (a red or revoked pass) no new visit starts here; visits already open can still be checked out. */
export function CheckinPanel({ serial, cred, allowCheckin = true }: { serial: number; cred: dp1.Credential; allowCheckin?: boolean }) {
  const records = useOutbox();
  const [mode, setMode] = useState<"idle" | "scan" | "form">("idle");
  const [visit, setVisit] = useState<{ visitId: string; code: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const services = dp1.servicesOf(cred.services);
  const [service, setService] = useState<string>(services[0] ?? "cleaning");
  const [place, setPlace] = useState("");
  const [withLocation, setWithLocation] = useState(false);
  const [saved, setSaved] = useState(false);

  const ended = new Set(records.filter((r) => r.kind === "checkout").map((r) => r.body.visit_id as string));
  const open = records.filter((r) => r.kind === "checkin" && !ended.has(r.body.visit_id as string));

  if (mode === "scan")
    return (
      <Scanner onCancel={() => setMode("idle")} onText={(text) => {
        const v = parseVisitCode(text);
        if (!v || v.serial !== serial) {
          setError(t("checkin.bad_code"));
          setMode("idle");
          return;
        }
        // The server takes a check-in within an hour of the household's verification (5 minutes of clocks apart).
        const age = now() - v.at;
        if (age > VISIT_CODE_WINDOW || age < -VISIT_CODE_SKEW) {
          setError(t("checkin.old_code"));
          setMode("idle");
          return;
        }
        setVisit({ visitId: v.visitId, code: text });
        setMode("form");
      }} />
    );
  return (
    <section class="checkin">
      {mode === "form" && visit ? (
        <form class="sheet" data-testid="checkin-form" onSubmit={async (e) => {
          e.preventDefault();
          const fields: Record<string, unknown> = { visit_id: visit.visitId, serial, visit_code: visit.code, service, place };
          if (withLocation) {
            const p = await position();
            if (p) Object.assign(fields, p);
          }
          if (!(await trySave(() => addRecord("checkin", fields, `${t(`service.${service}` as Key)} ${place}`), setError))) return;
          setError(null);
          setMode("idle");
          setSaved(true);
        }}>
          <h2>{t("checkin.title")}</h2>
          <label>{t("checkin.service")}
            <select value={service} onChange={(e) => setService((e.target as HTMLSelectElement).value)}>
              {services.map((k) => <option key={k} value={k}>{t(`service.${k}` as Key)}</option>)}
            </select>
          </label>
          <label>{t("checkin.place")}<input value={place} maxLength={200} onInput={(e) => setPlace((e.target as HTMLInputElement).value)} /></label>
          <label class="check"><input type="checkbox" checked={withLocation} onChange={(e) => setWithLocation((e.target as HTMLInputElement).checked)} /> {t("checkin.location")}</label>
          <button class="primary" type="submit" data-testid="checkin-submit">{t("checkin.submit")}</button>
        </form>
      ) : allowCheckin && (
        <button class="big" onClick={() => { setError(null); setSaved(false); setMode("scan"); }} data-testid="checkin-scan">{t("checkin.scan")}</button>
      )}
      {saved && <p class="saved" role="status">{t("saved.toast")}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      {open.length > 0 && (
        <div>
          <h2>{t("checkin.open")}</h2>
          {open.map((r) => (
            <div class="checkin-open" key={r.id}>
              <span class="small">{r.summary} · {t("checkin.since", { time: dateTime(r.createdAt) })}</span>
              <button data-testid="checkout" onClick={() => void trySave(() => addRecord("checkout", { visit_id: r.body.visit_id, serial }, r.summary), setError)}>
                {t("checkin.checkout")}
              </button>
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
