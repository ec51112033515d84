import QRCode from "qrcode";
import { useEffect, useRef, useState } from "preact/hooks";
import { pick, t } from "../i18n";
import { dayToDate, duration } from "../app/format";
import { useAppState, useTicker } from "../app/hooks";
import { onOutbox } from "../app/outbox";
import { liveFrame, loadPass } from "../app/pass";
import { type PhotoState, photoFor } from "../app/photos";
import { navigate } from "../app/router";
import { now } from "../app/state";
import { type StoredPass, kvGet } from "../app/store";
import * as dp1 from "../dp1";
import { CheckinPanel } from "./Checkin";

/** What the pull tells the pass's own phone about its pass (server: sync PullResponse.pass_status). */
interface PassStatus {
  state: string;
  colour: string;
  reason: string;
  reason_en: string;
  updated_at: number;
}

const COLOUR_NAMES = ["green", "yellow", "red", "revoked", "unknown"] as const;

/** Indexed by the status list's 2-bit value (dp1.STATUSES: valid, caution, red, revoked); 4 = no lists yet. */
const COLOURS = ["green", "yellow", "red", "revoked", "grey"] as const;
const PILLS = ["pass.pill_green", "pass.pill_yellow", "pass.pill_red", "pass.pill_revoked", "pass.pill_unknown"] as const;
const SHOW = ["pass.show_to", "pass.show_yellow", "pass.show_red", "pass.show_to", "pass.show_to"] as const;
/** The QR's modules carry the 安心码 colour, each dark enough against white (WCAG contrast ≥ 4.5) for any decoder's
 * grey conversion to read it: dark green, dark amber, dark red; black when the colour is unknown. The frame around
 * it shows the bright colour (tests/e2e/test_door_worker.py decodes each with zxing-cpp). */
const QR_DARK = ["#0b5d3b", "#976800", "#a4161a", "#111111", "#111111"] as const;
/** Lists not fetched from the server for this long: the colour shown may be out of date. */
const STALE_AFTER = 86400;

interface AgencyEntry {
  id: number;
  name: string;
  phone: string;
}

function draw(canvas: HTMLCanvasElement | null, qr: string, dark: string, step: number): void {
  if (!canvas) return;
  void QRCode.toCanvas(canvas, [{ data: qr, mode: "alphanumeric" }], {
    errorCorrectionLevel: "M", margin: 3, width: 600, color: { dark, light: "#ffffff" },
  }).then(() => {
    canvas.dataset.step = String(step);
  });
}

function spaced(code: number): string {
  return String(code).padStart(6, "0").replace(/(\d{3})(\d{3})/, "$1 $2");
}

function Contact({ agency, phone }: { agency: string; phone?: string }) {
  return (
    <div class="pass-contact" data-testid="pass-contact">
      <p>{t("pass.contact", { agency })}</p>
      {phone ? (
        <a class="button call" href={`tel:${phone.replace(/[^\d+]/g, "")}`} data-testid="agency-phone">{t("pass.call", { phone })}</a>
      ) : (
        <p class="small">{t("pass.phone_unknown")}</p>
      )}
    </div>
  );
}

export function Pass() {
  const s = useAppState();
  const [pass, setPass] = useState<StoredPass | null | undefined>(undefined);
  const [live, setLive] = useState<{ qr: string; step: number; code: number } | null>(null);
  const [photo, setPhoto] = useState<PhotoState>({ kind: "pending" });
  const [wake, setWake] = useState<"asking" | "held" | "off">("asking");
  const [big, setBig] = useState(false);
  const [directory, setDirectory] = useState<AgencyEntry[]>([]);
  const canvas = useRef<HTMLCanvasElement>(null);
  const bigCanvas = useRef<HTMLCanvasElement>(null);
  const closeBig = useRef<HTMLButtonElement>(null);
  useTicker(1000);

  const [reviews, setReviews] = useState<{ stars: number }[]>([]);
  const [own, setOwn] = useState<PassStatus | null>(null);
  useEffect(() => {
    void loadPass().then((p) => setPass(p ?? null));
    const loadReviews = () => {
      void kvGet<{ stars: number }[]>("my_reviews").then((r) => setReviews(r ?? []));
      void kvGet<PassStatus>("pass_status").then((x) => setOwn(x ?? null));
    };
    loadReviews();
    return onOutbox(loadReviews); // a pull that brings reviews (and the pass's own status) says so through the outbox's change signal
  }, []);
  // The agencies' public directory (names and phones), when the phone has cached one.
  useEffect(() => {
    void kvGet<unknown>("agency_directory").then((d) => {
      if (Array.isArray(d))
        setDirectory(d.filter((a): a is AgencyEntry => !!a && typeof a === "object" && typeof a.id === "number" && typeof a.phone === "string"));
    }).catch(() => undefined);
  }, [s.listsFetchedAt]);
  const cred = pass ? dp1.decodeCred(pass.cred) : null;
  useEffect(() => {
    if (pass && cred) void photoFor(pass.serial, cred.photoDigest, s.online).then(setPhoto);
  }, [pass, s.online]);

  // Keep the screen awake while the pass is shown. (The brightness cannot be raised by a web page.)
  useEffect(() => {
    let lock: WakeLockSentinel | null = null;
    const take = async () => {
      try {
        lock = await navigator.wakeLock.request("screen");
        setWake("held");
      } catch {
        setWake("off");
      }
    };
    void take();
    const again = () => document.visibilityState === "visible" && void take();
    document.addEventListener("visibilitychange", again);
    return () => {
      document.removeEventListener("visibilitychange", again);
      void lock?.release();
    };
  }, []);

  const value = s.status && cred ? dp1.statusAt(s.status, cred.statusIndex) : 4;
  const revoked = value === 3;
  const step = Math.floor(now() / 30);
  useEffect(() => {
    if (!pass || revoked) {
      setLive(null);
      return;
    }
    let alive = true;
    void liveFrame(pass, now()).then((f) => alive && setLive(f));
    return () => {
      alive = false;
    };
  }, [pass, step, revoked]);
  useEffect(() => {
    if (!live) return;
    draw(canvas.current, live.qr, QR_DARK[value], live.step);
    if (big) draw(bigCanvas.current, live.qr, QR_DARK[value], live.step);
  }, [live, value, big]);
  useEffect(() => {
    if (!big) return;
    closeBig.current?.focus(); // a screen reader lands in the enlarged view
    const close = (e: KeyboardEvent) => e.key === "Escape" && setBig(false);
    document.addEventListener("keydown", close);
    return () => document.removeEventListener("keydown", close);
  }, [big]);

  if (pass === undefined) return <main />;
  if (pass === null || !cred)
    return (
      <main class="pass">
        <p>{t("pass.none")}</p>
        <button class="primary" onClick={() => navigate("/enroll")}>{t("home.enroll")}</button>
      </main>
    );
  const colour = COLOURS[value];
  const issuer = s.trust ? dp1.findIssuer(s.trust, cred.kid) : undefined;
  const entry = directory.find((a) => a.id === cred.agencyId);
  const agency = issuer?.name ?? entry?.name ?? t("pass.agency_id", { n: cred.agencyId });
  const left = 30 - (now() % 30);
  const staleDays = s.status && s.listsFetchedAt !== undefined && now() - s.listsFetchedAt > STALE_AFTER
    ? Math.floor((now() - s.listsFetchedAt) / 86400) : 0;
  const code = live ? spaced(live.code) : "··· ···";
  // The reason the agency gave, as the last pull brought it (only this pass's own phone is told): shown while it still
  // describes the colour the lists give, so an old reason never explains a new colour.
  const current = own !== null && (value === 3 ? own.state === "revoked" : own.state !== "revoked" && own.colour === COLOUR_NAMES[value]);
  const ownReason = current ? pick(own?.reason, own?.reason_en) : "";
  return (
    <main class={`pass st-${colour}`} data-wake={wake} data-status={value < 4 ? dp1.STATUSES[value] : "unknown"}>
      <section class={`passcard ${colour}`} data-testid="passcard">
        <div class="who">
          {photo.kind === "ok" ? <img class="photo" src={photo.url} alt="" /> : <div class="photo placeholder">{cred.name.slice(0, 1)}</div>}
          <div class="who-text">
            <h1 data-testid="pass-name">{cred.name}</h1>
            <p class="agency" data-testid="pass-agency">{agency}</p>
            <p class={`status-pill ${colour}`} data-testid="pass-status">{t(PILLS[value])}</p>
          </div>
        </div>
      </section>

      {/* Yellow or red: why, and what to do, right under the card and above the QR (whole, above the fold at 360 × 740);
          the agency's phone below the check-in. */}
      {(value === 1 || value === 2) && (
        <section class={`pass-why ${colour}`} role={value === 2 ? "alert" : undefined} data-testid="pass-why">
          <h2>{t(value === 1 ? "pass.yellow_title" : "pass.red_title")}</h2>
          <p data-testid="pass-why-do">{t(value === 1 ? "pass.yellow_do" : "pass.red_do")}</p>
          <p data-testid="pass-why-reason" class={ownReason ? "reason" : "small"}>
            {ownReason ? <span data-testid="pass-reason">{t("pass.reason_is", { reason: ownReason })}</span> : t("pass.reason_where")}
          </p>
        </section>
      )}

      {revoked ? (
        <section class="pass-why revoked" role="alert" data-testid="pass-revoked">
          <h2>{t("pass.revoked_title")}</h2>
          <p>{t("pass.revoked_body")}</p>
          <p data-testid="pass-reason">{ownReason ? t("pass.reason_is", { reason: ownReason }) : t("pass.revoked_reason")}</p>
          <Contact agency={agency} phone={entry?.phone} />
          <button onClick={() => navigate("/enroll")}>{t("pass.revoked_new")}</button>
        </section>
      ) : (
        <>
          <p class="show" data-testid="pass-show">{t(SHOW[value])}</p>
          <button class={`qr-tap ${colour}`} onClick={() => setBig(true)} aria-label={t("pass.enlarge")} data-testid="pass-qr-tap">
            <canvas ref={canvas} class="qr" data-testid="pass-qr" />
          </button>
          <p class="code" aria-label={t("pass.code")} data-testid="pass-code">{code}</p>
          <div class="countdown-row" data-testid="pass-countdown">
            <div class={`countdown ${colour}`}><div style={{ width: `${(left / 30) * 100}%` }} /></div>
            <span class="small">{t("pass.refresh_in", { n: left })} · {t("pass.tap_enlarge")}</span>
          </div>
        </>
      )}

      <CheckinPanel serial={pass.serial} cred={cred} allowCheckin={value !== 2 && value !== 3} />

      {(value === 1 || value === 2) && (
        <section class={`pass-why-contact ${colour}`} data-testid="pass-why-contact">
          <Contact agency={agency} phone={entry?.phone} />
        </section>
      )}
      {value === 4 && <p class="note" data-testid="pass-lists-note">{t("pass.lists_none")}</p>}
      {staleDays > 0 && <p class="note" data-testid="pass-lists-note">{t("pass.lists_stale", { n: staleDays })}</p>}

      <section class="pass-details">
        <h2>{t("pass.details")}</h2>
        <dl>
          <dt>{t("pass.agency")}</dt><dd>{agency}</dd>
          <dt>{t("pass.services")}</dt><dd>{dp1.servicesOf(cred.services).map((k) => t(`service.${k}`)).join(t("list.sep"))}</dd>
          <dt>{t("pass.valid_until")}</dt><dd class="nowrap" data-testid="pass-valid-until">{dayToDate(cred.expiresDay)}</dd>
          <dt>{t("pass.serial")}</dt><dd class="nowrap">{pass.serial}</dd>
        </dl>
        {reviews.length > 0 && (
          <p data-testid="pass-rating">{t("pass.rating", { avg: (reviews.reduce((a, r) => a + r.stars, 0) / reviews.length).toFixed(1), n: reviews.length })}</p>
        )}
      </section>
      {s.clockKnown && Math.abs(s.clockOffset) > 60 && <p class="note" data-testid="clock-note">{t("pass.clock_fixed", { n: duration(s.clockOffset) })}</p>}
      {wake === "off" && <p class="small">{t("pass.wake_off")}</p>}

      {big && !revoked && (
        <div class={`qr-overlay ${colour}`} role="dialog" aria-modal="true" aria-label={t("pass.enlarge")} onClick={() => setBig(false)}
          data-testid="pass-qr-overlay">
          <canvas ref={bigCanvas} class="qr-big" data-testid="pass-qr-big" />
          <p class="code">{code}</p>
          <p class="small">{t("pass.refresh_in", { n: left })}</p>
          <p class="small">{t("pass.brightness")}</p>
          <button ref={closeBig} onClick={() => setBig(false)}>{t("pass.tap_close")}</button>
        </div>
      )}
    </main>
  );
}
