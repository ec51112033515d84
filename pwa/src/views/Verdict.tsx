import QRCode from "qrcode";
import { Fragment } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { uuid7 } from "../app/outbox";
import { now } from "../app/state";
import { signText } from "../app/device";
import { ComplaintForm, ReviewForm, priorRecord } from "./Forms";
import { type Key, getLang, pick, t } from "../i18n";
import { zhCN } from "../i18n/zh-CN";
import { dateTime, dayToDate } from "../app/format";
import { type PhotoState, photoFor } from "../app/photos";
import { type Rating, agencyPhone, loadDirectory, ratingOf, telHref } from "../app/directory";
import { careOn, onCare } from "../app/care";
import { signal, speak } from "../app/feedback";
import * as dp1 from "../dp1";

/** What the household is shown: from the offline check, replaced by the server's answer when online. */
export interface Shown {
  result: dp1.Result;
  source: "offline" | "online";
  printed: boolean;
  statusAsOf: number;
  /** The server's reasons, in zh-CN and in English (the page picks at each render, so a language switch on the
   * verdict screen switches them too, and the voice always reads the Mandarin ones). */
  reasons: string[];
  reasonsEn: string[];
  holder?: {
    serial: number;
    name: string;
    agency: string;
    agencyId?: number;
    services: string[];
    validUntil: string;
    photoDigest?: Uint8Array;
    /** The server's photo address, for a typed check (no scanned credential, so no digest to compare): the answer
     * came from our own server online. */
    photoUrl?: string;
    healthCheck?: { validUntil: string | null; inDate: boolean };
    training?: { inDate: boolean; records: { course: string; day: string }[] };
  };
}

const IDENTITY = new Set<dp1.Result>(dp1.IDENTITY_RESULTS);

/** How each result is shown, one row per result (TypeScript checks none is missing).
 * colour: green, yellow, red (a warning), alarm (revoked: full screen), ask (stale or future: ask for the live code),
 * grey (not a DoorPass code at all). who: "calm" shows who the pass names as an identity card, "warn" only as a
 * warning (the facts a household needs to call or report), "none" not at all. report: one tap to report, and the
 * hotline. todo: what to do, in words. */
interface Screen {
  colour: "green" | "yellow" | "red" | "alarm" | "ask" | "grey";
  who: "calm" | "warn" | "none";
  report: boolean;
  todo?: Key;
}
const FORGED: Screen = { colour: "red", who: "none", report: true, todo: "verdict.forged_todo" };
const ASK: Screen = { colour: "ask", who: "none", report: false, todo: "verdict.ask_live" };
const SCREENS: Record<dp1.Result, Screen> = {
  valid: { colour: "green", who: "calm", report: false },
  caution: { colour: "yellow", who: "calm", report: false, todo: "verdict.caution_todo" },
  red: { colour: "red", who: "warn", report: true, todo: "verdict.red_todo" },
  revoked: { colour: "alarm", who: "warn", report: true, todo: "verdict.revoked_todo" },
  stale: ASK,
  future: ASK,
  bad_code: { ...FORGED, who: "warn" },
  expired: { ...FORGED, who: "warn" },
  not_yet_valid: { ...FORGED, who: "warn" },
  bad_device_sig: FORGED,
  bad_issuer_sig: FORGED,
  unknown_issuer: FORGED,
  malformed: { colour: "grey", who: "none", report: false, todo: "verdict.not_ours" },
};

export function colourOf(result: dp1.Result): string {
  return SCREENS[result].colour;
}

export function fromOffline(v: dp1.Verdict, status: dp1.StatusList): Shown {
  const c = v.parsed?.cred;
  return {
    result: v.result,
    source: "offline",
    printed: v.parsed?.kind === "card",
    statusAsOf: status.issuedAt,
    reasons: [],
    reasonsEn: [],
    holder: c && IDENTITY.has(v.result)
      ? {
          serial: c.serial, name: c.name, agency: v.issuer?.name ?? `#${c.agencyId}`, agencyId: c.agencyId,
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
    serial: number; name: string; photo_url: string; agency: { id: number; name: string }; services: { zh: string; en: string }[]; valid_until: string;
    health_check: { valid_until: string | null; in_date: boolean };
    training: { in_date: boolean; records: { course: string; day: string }[] };
  };
}

export function fromServer(a: ServerAnswer, photoDigest?: Uint8Array, typed = false): Shown {
  const h = a.holder;
  return {
    result: a.result,
    source: "online",
    printed: a.printed_card,
    statusAsOf: a.status_as_of,
    reasons: a.reasons.map((r, i) => r || a.reasons_en[i] || ""),
    reasonsEn: a.reasons.map((r, i) => a.reasons_en[i] || r || ""),
    holder: h
      ? {
          serial: h.serial, name: h.name, agency: h.agency.name, agencyId: h.agency.id, services: h.services.map((s) => pick(s.zh, s.en)),
          validUntil: h.valid_until, photoDigest, photoUrl: typed && h.photo_url ? h.photo_url : undefined,
          healthCheck: { validUntil: h.health_check.valid_until, inDate: h.health_check.in_date },
          training: { inDate: h.training.in_date, records: h.training.records },
        }
      : undefined,
  };
}

export const VISIT_DOMAIN = "DP1/visit\0";


/** What the worker scans to check in (docs/devices.md, The visit code): the visit, a per-visit pseudonym, the pass
 * verified and when, signed by this household's device key. It never names the household's device. */
export async function visitCode(visitId: string, serial: number, at: number): Promise<string> {
  const pseudonym = dp1.b64uEncode(crypto.getRandomValues(new Uint8Array(16)));
  const sig = await signText(VISIT_DOMAIN, `${visitId}\n${pseudonym}\n${serial}\n${at}`);
  return `DPV2:${visitId}.${pseudonym}.${serial}.${at}.${sig}`;
}



/** The server's reasons in the page's language (or in Mandarin, to be read aloud). */
function reasonsOf(shown: Shown, zh = false): string[] {
  return zh || getLang() !== "en" ? shown.reasons : shown.reasons.map((r, i) => pick(r, shown.reasonsEn[i]));
}

/** The words of a verdict, for the live region (in the page's language) or read aloud (always Mandarin). */
export function verdictWords(shown: Shown, zh = false): string {
  const tr = (k: string) => (zh ? (zhCN as Record<string, string>)[k] ?? "" : t(k as Key));
  const parts = [tr(`result.${shown.result}`), tr(`door.${shown.result}`), tr(`explain.${shown.result}`)];
  const h = shown.holder;
  if (h && SCREENS[shown.result].who !== "none") parts.push(h.name, h.agency);
  if (shown.reasons.length) parts.push(`${tr("verify.reason")}：${reasonsOf(shown, zh).join("；")}`);
  return parts.filter(Boolean).join("。");
}

function Stars({ r }: { r: Rating | null | undefined }) {
  if (r === undefined) return <>…</>;
  if (r === null) return <>{t("verdict.rating_offline")}</>;
  if (!r.confirmed_count || r.average === null) return <span data-testid="verdict-rating">{t("verdict.rating_none")}</span>;
  const full = Math.round(r.average);
  return (
    <span data-testid="verdict-rating" aria-label={t("verdict.rating_value", { stars: "", avg: r.average.toFixed(1), n: r.confirmed_count })}>
      <span class="rating-stars" aria-hidden="true">{"★".repeat(full)}{"☆".repeat(5 - full)}</span>{" "}
      {t("verdict.rating_value", { stars: "", avg: r.average.toFixed(1), n: r.confirmed_count })}
    </span>
  );
}

function Photo({ h, online }: { h: NonNullable<Shown["holder"]>; online: boolean }) {
  const [photo, setPhoto] = useState<PhotoState>({ kind: "pending" });
  useEffect(() => {
    if (h.photoDigest) void photoFor(h.serial, h.photoDigest, online).then(setPhoto);
  }, [h.serial, online]);
  const alt = t("verdict.photo_of", { name: h.name });
  if (!h.photoDigest && h.photoUrl) return <img class="photo" src={h.photoUrl} alt={alt} data-testid="verdict-photo" />;
  if (photo.kind === "ok") return <img class="photo" src={photo.url} alt={alt} data-testid="verdict-photo" />;
  return (
    <div class="photo placeholder" data-testid="photo-placeholder">
      {photo.kind === "mismatch" ? t("verify.photo_mismatch") : online ? t("verdict.photo_loading") : t("verify.photo_pending")}
    </div>
  );
}

/** A call button: the words may wrap, the number never does (a cut "021-" / "00000001" reads as two numbers). */
function PhoneLink({ phone, label, testid }: { phone: string; label: Key; testid: string }) {
  const [before, after = ""] = t(label, { phone: "\u0000" }).split("\u0000");
  return (
    <a class="button call" href={telHref(phone)} data-testid={testid}>
      <span>{before}<span class="nowrap">{phone}</span>{after}</span>
    </a>
  );
}

/** Who the pass names: photo, name, agency and its phone, services, pass number, validity, health, training, rating.
 * `warn`: shown as a warning (red frame), not as a calm card. */
function Facts({ h, shown, online, phone, warn }: { h: NonNullable<Shown["holder"]>; shown: Shown; online: boolean; phone: string; warn: boolean }) {
  const [rating, setRating] = useState<Rating | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    void ratingOf(h.serial).then((r) => live && setRating(r));
    return () => void (live = false);
  }, [h.serial, online]);
  const known = shown.source === "online";
  return (
    <div class={warn ? "holder warn" : "holder"} data-testid="verdict-holder">
      <div class="holder-top">
        <Photo h={h} online={online} />
        <div class="holder-who">
          <p class="holder-name" data-testid="verdict-name">{h.name}</p>
          <p data-testid="verdict-agency">{h.agency}</p>
          {phone ? <a class="tel" href={telHref(phone)} data-testid="verdict-agency-phone">☎ {phone}</a>
            : <p class="small">{t("verdict.no_phone")}</p>}
          <p class="small">{t("verdict.pass_no")} <span data-testid="verdict-serial">{h.serial}</span></p>
        </div>
      </div>
      <dl>
        <dt>{t("verify.services")}</dt><dd>{h.services.join(t("list.sep"))}</dd>
        <dt>{t("verify.valid_until")}</dt><dd class="nowrap">{h.validUntil}</dd>
        <dt>{t("verify.health")}</dt>
        <dd data-testid="verdict-health">
          {h.healthCheck ? <>{h.healthCheck.inDate ? t("verify.in_date") : t("verify.lapsed")} <span class="nowrap">{h.healthCheck.validUntil ?? ""}</span></>
            : known ? "—" : t("verdict.online_only")}
        </dd>
        <dt>{t("verify.training")}</dt>
        <dd data-testid="verdict-training">
          {h.training ? (h.training.records.length ? h.training.records.map((r, i) => (
            <Fragment key={i}>{i > 0 && t("list.sep")}{r.course} <span class="nowrap">({r.day})</span></Fragment>
          )) : "—") : known ? "—" : t("verdict.online_only")}
        </dd>
        <dt>{t("verdict.rating")}</dt><dd><Stars r={rating} /></dd>
      </dl>
    </div>
  );
}

function VisitPanel({ frame, serial, who, visitKey }: { frame?: string; serial: number; who: string; visitKey: string }) {
  const visitId = useMemo(() => uuid7(), [visitKey]);
  // A review or complaint is about the visit verified now: it carries the moment of the scan, however long the
  // household takes to write it (the server checks that moment against the frame's time). The visit code names
  // the same moment.
  const scannedAt = useMemo(() => now(), [visitKey]);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [form, setForm] = useState<"none" | "review" | "complaint" | "saved">("none");
  const [refused, setRefused] = useState<string | null>(null);
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
  // The server takes one review and one complaint per visit and phone: refuse a second one here, at once.
  const open = async (kind: "review" | "complaint") => {
    setRefused(null);
    const prior = frame ? await priorRecord(kind, visitId, frame) : undefined;
    if (prior) return setRefused(t(kind === "review" ? "verdict.dup_review" : "verdict.dup_complaint", { time: dateTime(prior.createdAt) }));
    setForm(kind);
  };
  return (
    <div class="visit">
      <h2>{t("visit.qr_title")}</h2>
      <canvas ref={canvas} class="qr" data-testid="visit-qr" data-ready={ready ? "1" : undefined} aria-label={t("visit.qr_title")} role="img" />
      <p class="small">{t("visit.qr_hint")}</p>
      {form === "saved" && <p class="saved" role="status" data-testid="saved-toast">{t("saved.toast")}</p>}
      {refused && <p class="error" role="alert" data-testid="dup-refused">{refused}</p>}
      {!frame ? (
        <p class="note" data-testid="typed-no-review">{t("verdict.typed_no_review")}</p>
      ) : form === "none" || form === "saved" ? (
        <div class="row">
          <button onClick={() => void open("review")} data-testid="write-review">{t("visit.review")}</button>
          <button onClick={() => void open("complaint")} data-testid="write-complaint">{t("visit.complain")}</button>
        </div>
      ) : form === "review" ? (
        <ReviewForm frame={frame} visitId={visitId} at={scannedAt} who={who} onDone={() => setForm("saved")} />
      ) : (
        <ComplaintForm frame={frame} visitId={visitId} at={scannedAt} who={who} onDone={() => setForm("saved")} />
      )}
    </div>
  );
}

/** Red or revoked: one tap to report. A scanned live frame carries a complaint (it is the proof the worker was there);
 * a typed check cannot, so it offers the hotline only and says why. */
function ReportPanel({ frame, h, hotline, result, visitKey }: { frame?: string; h?: Shown["holder"]; hotline: string; result: dp1.Result; visitKey: string }) {
  const visitId = useMemo(() => uuid7(), [visitKey]);
  const scannedAt = useMemo(() => now(), [visitKey]);
  const [state, setState] = useState<"none" | "form" | "saved">("none");
  const [refused, setRefused] = useState<string | null>(null);
  // The server takes a complaint on a live frame whose checks held up to the status (its proof of the visit).
  const canFile = !!(frame?.startsWith("DP1:") && h && dp1.STATUS_RESULTS.includes(result));
  const open = async () => {
    setRefused(null);
    const prior = frame ? await priorRecord("complaint", visitId, frame) : undefined;
    if (prior) return setRefused(t("verdict.dup_complaint", { time: dateTime(prior.createdAt) }));
    setState("form");
  };
  return (
    <div class="report" data-testid="report-panel">
      <div class="row">
        {canFile && state !== "form" && (
          <button class="report-btn" onClick={() => void open()} data-testid="report">{t("verdict.report")}</button>
        )}
        <PhoneLink phone={hotline} label="verdict.hotline" testid="hotline" />
      </div>
      {!frame && h && <p class="small">{t("verdict.report_typed")}</p>}
      {refused && <p class="error" role="alert" data-testid="dup-refused">{refused}</p>}
      {state === "saved" && <p class="saved" role="status" data-testid="saved-toast">{t("saved.toast")}</p>}
      {state === "form" && h && frame && (
        <ComplaintForm frame={frame} visitId={visitId} at={scannedAt} who={h.name} onDone={() => setState("saved")}
          category={result === "revoked" || result === "bad_code" ? "identity" : "safety"} />
      )}
    </div>
  );
}

function useCare(): boolean {
  const [on, setOn] = useState(careOn());
  useEffect(() => onCare(() => setOn(careOn())), []);
  return on;
}

export function VerdictCard({ shown, online, onAgain, frame }: { shown: Shown; online: boolean; onAgain: () => void; frame?: string }) {
  const h = shown.holder;
  const care = useCare();
  const colour = colourOf(shown.result);
  const [phone, setPhone] = useState("");
  const [hotline, setHotline] = useState("");
  const [feel, setFeel] = useState<string>("");
  const [voice, setVoice] = useState<"pending" | "spoken" | "none">("pending");
  const [redVisit, setRedVisit] = useState(false);
  const visitKey = frame ?? `typed:${h?.serial}:${shown.statusAsOf}`;
  useEffect(() => {
    void agencyPhone(h?.agencyId).then(setPhone);
    void loadDirectory().then((d) => setHotline(d.hotline));
  }, [h?.agencyId]);
  // Sound and vibration once per result (the online answer that agrees with the offline one is not a second signal).
  useEffect(() => setFeel(signal(shown.result)), [shown.result]);
  useEffect(() => {
    if (!care) return;
    setVoice("pending");
    void speak(verdictWords(shown, true)).then((ok) => setVoice(ok ? "spoken" : "none"));
  }, [care, shown.result, h?.name]);
  useEffect(() => setRedVisit(false), [visitKey]);

  const screen = SCREENS[shown.result];
  const calm = h && screen.who === "calm";
  // Revoked names the person inside the alarm (no card at all).
  const warned = h && screen.who === "warn" && shown.result !== "revoked";
  const showReport = screen.report;
  const live = frame?.startsWith("DP1:") || (!frame && shown.source === "online");
  const visitAllowed = h && live && (shown.result === "valid" || shown.result === "caution" || (shown.result === "red" && redVisit));
  const todo = screen.todo;
  const icon = { green: "✓", yellow: "!", red: "✕", alarm: "⚠", ask: "↻", grey: "?" }[colour];
  return (
    <section class={`verdict ${colour}`} data-testid="verdict" data-result={shown.result} data-source={shown.source} data-colour={colour}
      data-feedback={feel} aria-labelledby="verdict-headline">
      <div class="verdict-head">
        <span class="icon" aria-hidden="true">{icon}</span>
        <h1 id="verdict-headline" data-testid="verdict-headline">{t(`result.${shown.result}` as Key)}</h1>
      </div>
      <p class="door" data-testid="verdict-door">{t(`door.${shown.result}` as Key)}</p>
      {shown.result !== "revoked" && <p class="explain" data-testid="verdict-explain">{t(`explain.${shown.result}` as Key)}</p>}
      {shown.reasons.length > 0 && <p class="reason" data-testid="verdict-reason">{t("verify.reason")}: {reasonsOf(shown).join(getLang() === "en" ? "; " : "；")}</p>}
      {showReport && hotline && <ReportPanel frame={frame} h={h} hotline={hotline} result={shown.result} visitKey={visitKey} />}
      {shown.result === "revoked" && (
        <div class="alarm-who" data-testid="alarm-who">
          {h && <p>{t("verdict.revoked_name")}: <strong data-testid="verdict-name">{h.name}</strong> · {t("verdict.pass_no")} {h.serial}</p>}
          {h && <p>{t("verify.agency")}: <strong>{h.agency}</strong></p>}
          {h && phone && <PhoneLink phone={phone} label="verdict.call_agency" testid="verdict-agency-phone" />}
        </div>
      )}
      {todo && <p class="todo" data-testid="verdict-todo">{t(todo)}</p>}
      {shown.printed && <p class="printed" data-testid="printed">{t("verify.printed")}</p>}
      {care && voice === "none" && <p class="no-voice" role="note" data-testid="no-voice">{t("verdict.no_voice")}</p>}
      {care && voice === "spoken" && (
        <button onClick={() => void speak(verdictWords(shown, true))} data-testid="read-again">{t("verdict.read_again")}</button>
      )}
      {h && (calm || warned) && <Facts h={h} shown={shown} online={online} phone={phone} warn={!calm} />}
      {h && shown.result === "red" && live && !redVisit && (
        <div class="red-visit" data-testid="red-visit">
          <p>{t("verdict.red_visit_warning")}</p>
          <button onClick={() => setRedVisit(true)} data-testid="red-visit-open">{t("verdict.red_visit_open")}</button>
        </div>
      )}
      {h && visitAllowed && <VisitPanel frame={frame?.startsWith("DP1:") ? frame : undefined} serial={h.serial} who={h.name} visitKey={visitKey} />}
      <p class="small" data-testid="verdict-source">
        {shown.source === "online" ? t("verify.online_checked") : t("verify.offline_checked")} · {t("verify.status_as_of", { time: dateTime(shown.statusAsOf) })}
      </p>
      <button class="primary" onClick={onAgain} data-testid="verify-again">{t("verify.again")}</button>
    </section>
  );
}
