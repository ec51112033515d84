import QRCode from "qrcode";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { uuid7 } from "../app/outbox";
import { now } from "../app/state";
import { signText } from "../app/device";
import { ComplaintForm, ReviewForm } from "./Forms";
import { type Key, pick, t } from "../i18n";
import { dateTime, dayToDate } from "../app/format";
import { type PhotoState, photoFor } from "../app/photos";
import * as dp1 from "../dp1";

/** What the household is shown: from the offline check, replaced by the server's answer when online. */
export interface Shown {
  result: dp1.Result;
  source: "offline" | "online";
  printed: boolean;
  statusAsOf: number;
  reasons: string[];
  holder?: {
    serial: number;
    name: string;
    agency: string;
    services: string[];
    validUntil: string;
    photoDigest?: Uint8Array;
    healthCheck?: { validUntil: string | null; inDate: boolean };
    training?: { inDate: boolean; records: { course: string; day: string }[] };
  };
}

const IDENTITY = new Set<dp1.Result>(dp1.IDENTITY_RESULTS);

export function colourOf(result: dp1.Result): string {
  return result === "valid" ? "green" : result === "caution" ? "yellow" : result === "red" ? "red" : "grey";
}

export function fromOffline(v: dp1.Verdict, status: dp1.StatusList): Shown {
  const c = v.parsed?.cred;
  return {
    result: v.result,
    source: "offline",
    printed: v.parsed?.kind === "card",
    statusAsOf: status.issuedAt,
    reasons: [],
    holder: c && IDENTITY.has(v.result)
      ? {
          serial: c.serial, name: c.name, agency: v.issuer?.name ?? `#${c.agencyId}`,
          services: dp1.servicesOf(c.services).map((k) => t(`service.${k}` as Key)), validUntil: dayToDate(c.expiresDay),
          photoDigest: c.photoDigest,
        }
      : undefined,
  };
}

export interface ServerAnswer {
  result: dp1.Result;
  reasons: string[];
  reasons_en: string[];
  printed_card: boolean;
  status_as_of: number;
  holder: null | {
    serial: number; name: string; agency: { name: string }; services: { zh: string; en: string }[]; valid_until: string;
    health_check: { valid_until: string | null; in_date: boolean };
    training: { in_date: boolean; records: { course: string; day: string }[] };
  };
}

export function fromServer(a: ServerAnswer, photoDigest?: Uint8Array): Shown {
  const h = a.holder;
  return {
    result: a.result,
    source: "online",
    printed: a.printed_card,
    statusAsOf: a.status_as_of,
    reasons: a.reasons.map((r, i) => pick(r, a.reasons_en[i])),
    holder: h
      ? {
          serial: h.serial, name: h.name, agency: h.agency.name, services: h.services.map((s) => pick(s.zh, s.en)),
          validUntil: h.valid_until, photoDigest,
          healthCheck: { validUntil: h.health_check.valid_until, inDate: h.health_check.in_date },
          training: { inDate: h.training.in_date, records: h.training.records },
        }
      : undefined,
  };
}

export const VISIT_DOMAIN = "DP1/visit\0";

export interface VisitCode {
  visitId: string;
  /** b64u of 16 random bytes, new for every visit: the household's name for this visit only. */
  pseudonym: string;
  serial: number;
  /** Unix seconds of the verification, on the household phone's server-corrected clock. */
  at: number;
  sig: string;
}

/** What the worker scans to check in (docs/devices.md, The visit code): the visit, a per-visit pseudonym, the pass
 * verified and when, signed by this household's device key. It never names the household's device. */
export async function visitCode(visitId: string, serial: number, at: number): Promise<string> {
  const pseudonym = dp1.b64uEncode(crypto.getRandomValues(new Uint8Array(16)));
  const sig = await signText(VISIT_DOMAIN, `${visitId}\n${pseudonym}\n${serial}\n${at}`);
  return `DPV2:${visitId}.${pseudonym}.${serial}.${at}.${sig}`;
}

const VISIT_CODE = /^DPV2:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{22})\.(0|[1-9]\d{0,15})\.([1-9]\d{0,11})\.([A-Za-z0-9_-]{86})$/;

/** The shape of a visit code; the worker cannot check its signature (the server does, with the household's key). */
export function parseVisitCode(text: string): VisitCode | null {
  const m = VISIT_CODE.exec(text);
  return m ? { visitId: m[1], pseudonym: m[2], serial: Number(m[3]), at: Number(m[4]), sig: m[5] } : null;
}

function VisitPanel({ frame, serial, who }: { frame: string; serial: number; who: string }) {
  const visitId = useMemo(() => uuid7(), [frame]);
  // A review or complaint is about the visit verified now: it carries the moment of the scan, however long the
  // household takes to write it (the server checks that moment against the frame's time). The visit code names
  // the same moment.
  const scannedAt = useMemo(() => now(), [frame]);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [form, setForm] = useState<"none" | "review" | "complaint" | "saved">("none");
  const [ready, setReady] = useState(false);
  useEffect(() => {
    setReady(false);
    void visitCode(visitId, serial, scannedAt).then(async (code) => {
      if (!canvas.current) return;
      // About 170 characters (version 9 or so): drawn as large as the screen allows, for the worker's camera.
      await QRCode.toCanvas(canvas.current, code, { errorCorrectionLevel: "M", margin: 4, width: 320 });
      setReady(true);
    });
  }, [visitId]);
  return (
    <div class="visit">
      <h2>{t("visit.qr_title")}</h2>
      <canvas ref={canvas} class="qr" data-testid="visit-qr" data-ready={ready ? "1" : undefined} />
      <p class="small">{t("visit.qr_hint")}</p>
      {form === "saved" && <p class="saved" role="status" data-testid="saved-toast">{t("saved.toast")}</p>}
      {form === "none" || form === "saved" ? (
        <div class="row">
          <button onClick={() => setForm("review")} data-testid="write-review">{t("visit.review")}</button>
          <button onClick={() => setForm("complaint")}>{t("visit.complain")}</button>
        </div>
      ) : form === "review" ? (
        <ReviewForm frame={frame} visitId={visitId} at={scannedAt} who={who} onDone={() => setForm("saved")} />
      ) : (
        <ComplaintForm frame={frame} visitId={visitId} at={scannedAt} who={who} onDone={() => setForm("saved")} />
      )}
    </div>
  );
}

export function VerdictCard({ shown, online, onAgain, frame }: { shown: Shown; online: boolean; onAgain: () => void; frame?: string }) {
  const [photo, setPhoto] = useState<PhotoState>({ kind: "pending" });
  const h = shown.holder;
  useEffect(() => {
    if (h?.photoDigest) void photoFor(h.serial, h.photoDigest, online).then(setPhoto);
  }, [h?.serial, online]);
  const icon = { green: "✓", yellow: "!", red: "✕", grey: "✗" }[colourOf(shown.result)];
  return (
    <section class={`verdict ${colourOf(shown.result)}`} data-testid="verdict" data-result={shown.result} data-source={shown.source}>
      <div class="verdict-head">
        <span class="icon" aria-hidden="true">{icon}</span>
        <h1 data-testid="verdict-headline">{t(`result.${shown.result}` as Key)}</h1>
      </div>
      <p class="explain" data-testid="verdict-explain">{t(`explain.${shown.result}` as Key)}</p>
      {shown.reasons.length > 0 && <p class="reason">{t("verify.reason")}: {shown.reasons.join("；")}</p>}
      {shown.printed && <p class="printed" data-testid="printed">{t("verify.printed")}</p>}
      {h && (
        <div class="holder">
          {photo.kind === "ok" ? <img class="photo" src={photo.url} alt="" data-testid="verdict-photo" />
            : <div class="photo placeholder">{photo.kind === "mismatch" ? t("verify.photo_mismatch") : t("verify.photo_pending")}</div>}
          <dl>
            <dt>{t("verify.name")}</dt><dd data-testid="verdict-name">{h.name}</dd>
            <dt>{t("verify.agency")}</dt><dd>{h.agency}</dd>
            <dt>{t("verify.services")}</dt><dd>{h.services.join(t("list.sep"))}</dd>
            <dt>{t("verify.valid_until")}</dt><dd>{h.validUntil}</dd>
            {h.healthCheck && (<><dt>{t("verify.health")}</dt><dd>{h.healthCheck.inDate ? t("verify.in_date") : t("verify.lapsed")} {h.healthCheck.validUntil ?? ""}</dd></>)}
            {h.training && (<><dt>{t("verify.training")}</dt><dd>{h.training.records.map((r) => `${r.course} (${r.day})`).join(t("list.sep")) || "—"}</dd></>)}
          </dl>
        </div>
      )}
      {h && frame?.startsWith("DP1:") && dp1.STATUS_RESULTS.includes(shown.result) && shown.result !== "revoked" && (
        <VisitPanel frame={frame} serial={h.serial} who={h.name} />
      )}
      <p class="small" data-testid="verdict-source">
        {shown.source === "online" ? t("verify.online_checked") : t("verify.offline_checked")} · {t("verify.status_as_of", { time: dateTime(shown.statusAsOf) })}
      </p>
      <button class="primary" onClick={onAgain} data-testid="verify-again">{t("verify.again")}</button>
    </section>
  );
}
