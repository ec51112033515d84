import QRCode from "qrcode";
import { useEffect, useRef, useState } from "preact/hooks";
import { t } from "../i18n";
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

const COLOURS = ["green", "yellow", "red", "grey"] as const;
const STATUS_KEYS = ["pass.code_green", "pass.code_yellow", "pass.code_red", "pass.code_revoked"] as const;

export function Pass() {
  const s = useAppState();
  const [pass, setPass] = useState<StoredPass | null | undefined>(undefined);
  const [frame, setFrame] = useState<{ step: number; code: number } | null>(null);
  const [photo, setPhoto] = useState<PhotoState>({ kind: "pending" });
  const [wake, setWake] = useState<"asking" | "held" | "off">("asking");
  const canvas = useRef<HTMLCanvasElement>(null);
  useTicker(1000);

  const [reviews, setReviews] = useState<{ stars: number }[]>([]);
  useEffect(() => {
    void loadPass().then((p) => setPass(p ?? null));
    const loadReviews = () => void kvGet<{ stars: number }[]>("my_reviews").then((r) => setReviews(r ?? []));
    loadReviews();
    return onOutbox(loadReviews); // a pull that brings reviews says so through the outbox's change signal
  }, []);
  const cred = pass ? dp1.decodeCred(pass.cred) : null;
  useEffect(() => {
    if (pass && cred) void photoFor(pass.serial, cred.photoDigest, s.online).then(setPhoto);
  }, [pass, s.online]);

  // Keep the screen awake while the pass is shown.
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

  const step = Math.floor(now() / 30);
  useEffect(() => {
    if (!pass || !canvas.current) return;
    let alive = true;
    void liveFrame(pass, now()).then(async (f) => {
      if (!alive || !canvas.current) return;
      await QRCode.toCanvas(canvas.current, [{ data: f.qr, mode: "alphanumeric" }], { errorCorrectionLevel: "M", margin: 4, width: 320 });
      canvas.current.dataset.step = String(f.step);
      setFrame({ step: f.step, code: f.code });
    });
    return () => {
      alive = false;
    };
  }, [pass, step]);

  if (pass === undefined) return <main />;
  if (pass === null || !cred)
    return (
      <main class="pass">
        <p>{t("pass.none")}</p>
        <button class="primary" onClick={() => navigate("/enroll")}>{t("home.enroll")}</button>
      </main>
    );
  const status = s.status ? dp1.statusAt(s.status, cred.statusIndex) : null;
  const issuer = s.trust ? dp1.findIssuer(s.trust, cred.kid) : undefined;
  const left = 30 - (now() % 30);
  return (
    <main class="pass" data-wake={wake}>
      <section class={`passcard ${status === null ? "grey" : COLOURS[status]}`} data-testid="passcard">
        <div class="who">
          {photo.kind === "ok" ? <img class="photo" src={photo.url} alt="" /> : <div class="photo placeholder">{cred.name.slice(0, 1)}</div>}
          <div>
            <h1 data-testid="pass-name">{cred.name}</h1>
            <p>{t("pass.agency")}: {issuer?.name ?? `#${cred.agencyId}`}</p>
            <p>{t("pass.services")}: {dp1.servicesOf(cred.services).map((k) => t(`service.${k}`)).join(t("list.sep"))}</p>
            <p>{t("pass.valid_until")}: {dayToDate(cred.expiresDay)}</p>
            <p>{t("pass.serial")}: {pass.serial}</p>
            {reviews.length > 0 && (
              <p data-testid="pass-rating">{t("pass.rating", { avg: (reviews.reduce((a, r) => a + r.stars, 0) / reviews.length).toFixed(1), n: reviews.length })}</p>
            )}
          </div>
        </div>
        <p class="status-pill" data-testid="pass-status">{status === null ? t("pass.status_unknown") : t(STATUS_KEYS[status])}</p>
      </section>
      <p class="show">{t("pass.show_to")}</p>
      <canvas ref={canvas} class="qr" data-testid="pass-qr" />
      <p class="code" aria-label={t("pass.code")} data-testid="pass-code">
        {frame ? String(frame.code).padStart(6, "0").replace(/(\d{3})(\d{3})/, "$1 $2") : "··· ···"}
      </p>
      <div class="countdown"><div style={{ width: `${(left / 30) * 100}%` }} /></div>
      <p class="small">{t("pass.refresh_in", { n: left })}</p>
      {s.clockKnown && Math.abs(s.clockOffset) > 60 && <p class="note" data-testid="clock-note">{t("pass.clock_fixed", { n: duration(s.clockOffset) })}</p>}
      {wake === "off" && <p class="small">{t("pass.wake_off")}</p>}
      <CheckinPanel serial={pass.serial} cred={cred} />
    </main>
  );
}
