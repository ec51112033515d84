import { useState } from "preact/hooks";
import { type Key, pick, t } from "../i18n";
import { dateTime } from "../app/format";
import { useAppState } from "../app/hooks";
import { NotAttention, WARN_AFTER, correctRecord, discardRecord, syncOutbox } from "../app/outbox";
import { now } from "../app/state";
import { type OutboxRecord, kvGet, kvSet } from "../app/store";
import { useOutbox } from "../app/useOutbox";
import * as dp1 from "../dp1";
import { ComplaintFields, ReviewFields } from "./Forms";
import { TRAINEE_NUMBER, trySave } from "./save";
import { parseVisitCode } from "../app/visitcode";

/** docs/sync.md: a scanned frame (and a household's visit code) is proof when it reaches the server within
 * `sync_offline_lag_days` of its time (7 by default); a check-in is made within an hour of the household's
 * verification, 5 minutes of clocks apart (docs/devices.md, The visit code). */
const LAG_DAYS = 7;
const STEP = 30;
const VISIT_CODE_WINDOW = 3600;
const VISIT_CODE_SKEW = 300;


/** Why a record's proof can no longer be made good (a correction keeps the moment the proof was made, so a stale
 * frame or visit code stays stale): then it can only be discarded. Null: a corrected copy can still land. */
function proofProblem(r: OutboxRecord): string | null {
  const b = r.body;
  const at = r.createdAt;
  if (typeof b.frame === "string") {
    let step: number | undefined;
    try {
      const parsed = dp1.parseQr(b.frame).step;
      step = parsed === undefined || parsed === null ? undefined : Number(parsed);
    } catch {
      return t("records.why_unreadable");
    }
    if (step === undefined) return t("records.why_unreadable");
    if (now() - step * STEP > LAG_DAYS * 86400) return t("records.why_stale", { days: LAG_DAYS });
    if (Math.abs(Math.floor(at / STEP) - step) > 1) return t("records.why_frame_time");
  }
  if (r.kind === "checkin") {
    const code = typeof b.visit_code === "string" ? parseVisitCode(b.visit_code) : null;
    if (!code) return t("records.why_unreadable");
    if (now() - code.at > LAG_DAYS * 86400) return t("records.why_visit_old", { days: LAG_DAYS });
    if (at < code.at - VISIT_CODE_SKEW || at > code.at + VISIT_CODE_WINDOW) return t("records.why_visit_window");
  }
  return null;
}

/** The record's own fields (what its kind carries), without what every record carries: kind, id, seq, at. */
function fieldsOf(r: OutboxRecord): Record<string, unknown> {
  const { kind: _k, id: _i, seq: _s, at: _a, ...rest } = r.body;
  return rest;
}

/** Correct a record that needs attention: the fields a person can change for its kind, checked as the server
 * checks them, then saved as a new record (new id and number, signed anew) that takes the old one's place. */
function Fix({ r, onClose }: { r: OutboxRecord; onClose: () => void }) {
  const b = r.body;
  const [number, setNumber] = useState(String(b.trainee_number ?? ""));
  const [stars, setStars] = useState(Number(b.stars ?? 5));
  const [tags, setTags] = useState<string[]>(Array.isArray(b.tags) ? (b.tags as string[]) : []);
  const [comment, setComment] = useState(String(b.comment ?? ""));
  const [category, setCategory] = useState(String(b.category ?? "other"));
  const [text, setText] = useState(String(b.text ?? ""));
  const [dropPhoto, setDropPhoto] = useState(false);
  const [service, setService] = useState(String(b.service ?? "cleaning"));
  const [place, setPlace] = useState(String(b.place ?? ""));
  const [course, setCourse] = useState(String(b.course ?? ""));
  const [day, setDay] = useState(String(b.day ?? ""));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const byNumber = r.kind === "attendance" && typeof b.trainee_number === "string";
  const editable = byNumber || ["review", "complaint", "checkin", "session"].includes(r.kind);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const fields = fieldsOf(r);
    let summary = r.summary;
    if (byNumber) {
      const n = number.trim().toUpperCase();
      if (!TRAINEE_NUMBER.test(n)) return setError(t("outlet.number_shape", { value: number.trim() }));
      fields.trainee_number = n;
      summary = `No.${n} `;
    } else if (r.kind === "review") {
      Object.assign(fields, { stars, tags, comment: comment.slice(0, 500) });
      summary = `${r.summary.replace(/\s*★+$/, "")} ${"★".repeat(stars)}`;
    } else if (r.kind === "complaint") {
      if (!text.trim()) return setError(t("records.need_text"));
      Object.assign(fields, { category, text: text.slice(0, 1000) });
      if (dropPhoto) delete fields.photo;
      summary = `${r.summary.split(" · ")[0]} · ${t(`cat.${category}` as Key)}`;
    } else if (r.kind === "checkin") {
      Object.assign(fields, { service, place: place.slice(0, 200) });
      summary = `${t(`service.${service}` as Key)} ${place}`;
    } else if (r.kind === "session") {
      if (!course.trim()) return setError(t("records.need_course"));
      Object.assign(fields, { course: course.slice(0, 100), day });
      summary = `${course} · ${day}`;
    }
    setBusy(true);
    try {
      await trySave(async () => {
        try {
          await correctRecord(r, fields, summary);
        } catch (x) {
          if (x instanceof NotAttention) return; // already handled elsewhere: the list shows its state now
          throw x;
        }
        if (r.kind === "session") {
          // The outlet screen's open session shows the corrected course and day.
          const open = await kvGet<{ session_id: string }>("outlet_session");
          if (open?.session_id === b.session_id) await kvSet("outlet_session", { ...open, course: fields.course, day: fields.day });
        }
        onClose();
      }, setError);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="fix" data-testid="fix-form" noValidate onSubmit={submit}>
      <p class="small">{editable ? t("records.fix_title") : t("records.fix_nothing")}</p>
      {byNumber && (
        <label>{t("outlet.type")}
          <input value={number} maxLength={30} pattern="[A-Za-z0-9\-]{1,30}" autocapitalize="characters" data-testid="fix-trainee-number"
            aria-describedby={`hint-${r.id}`} onInput={(e) => setNumber((e.target as HTMLInputElement).value)} />
          <span class="small" id={`hint-${r.id}`}>{t("outlet.number_hint")}</span>
        </label>
      )}
      {r.kind === "review" && (
        <>
          <ReviewFields stars={stars} setStars={setStars} tags={tags} setTags={setTags} comment={comment} setComment={setComment}
            testid="fix-" rows={3} />
        </>
      )}
      {r.kind === "complaint" && (
        <>
          <ComplaintFields category={category} setCategory={setCategory} text={text} setText={setText} testid="fix-" rows={3} />
          {typeof b.photo === "string" && (
            <label class="check"><input type="checkbox" checked={dropPhoto} onChange={(e) => setDropPhoto((e.target as HTMLInputElement).checked)} /> {t("records.drop_photo")}</label>
          )}
        </>
      )}
      {r.kind === "checkin" && (
        <>
          <label>{t("checkin.service")}
            <select value={service} onChange={(e) => setService((e.target as HTMLSelectElement).value)}>
              {dp1.SERVICES.map((k) => <option key={k} value={k}>{t(`service.${k}` as Key)}</option>)}
            </select>
          </label>
          <label>{t("checkin.place")}<input value={place} maxLength={200} onInput={(e) => setPlace((e.target as HTMLInputElement).value)} /></label>
        </>
      )}
      {r.kind === "session" && (
        <>
          <label>{t("outlet.course")}<input value={course} maxLength={100} data-testid="fix-course" onInput={(e) => setCourse((e.target as HTMLInputElement).value)} /></label>
          <label>{t("outlet.day")}<input type="date" value={day} onInput={(e) => setDay((e.target as HTMLInputElement).value || day)} /></label>
        </>
      )}
      {error && <p class="error" role="alert" data-testid="fix-error">{error}</p>}
      <div class="row">
        <button class="primary" type="submit" disabled={busy} data-testid="fix-send">{t("records.fix_send")}</button>
        <button type="button" onClick={onClose}>{t("records.cancel")}</button>
      </div>
    </form>
  );
}

/** A record the server refused: its reason in the person's language, and what can be done: correct and resend (a
 * new record), or discard (after a confirmation). Both keep the old record on the phone, under 已作废. */
function Attention({ r }: { r: OutboxRecord }) {
  const [mode, setMode] = useState<"idle" | "fix" | "discard">("idle");
  const [error, setError] = useState<string | null>(null);
  const problem = proofProblem(r);
  return (
    <div class="rec-fix">
      <p class="rec-reason" data-testid="record-reason">{t("records.reason", { reason: pick(r.reason, r.reasonEn) || "—" })}</p>
      {problem && <p class="small" data-testid="only-discard">{t("records.only_discard", { why: problem })}</p>}
      {mode === "fix" && <Fix r={r} onClose={() => setMode("idle")} />}
      {mode === "discard" && (
        <div class="confirm" role="alertdialog" aria-labelledby={`confirm-${r.id}`}>
          <p id={`confirm-${r.id}`}>{t("records.discard_confirm")}</p>
          <div class="row">
            <button class="danger" data-testid="discard-yes" onClick={() => void trySave(async () => {
              try {
                await discardRecord(r.id);
              } catch (x) {
                if (!(x instanceof NotAttention)) throw x;
                setError(t("records.gone"));
              }
            }, setError)}>{t("records.discard_yes")}</button>
            <button data-testid="discard-no" onClick={() => setMode("idle")}>{t("records.cancel")}</button>
          </div>
        </div>
      )}
      {mode === "idle" && (
        <div class="row">
          {!problem && (
            <button class="primary" data-testid="record-fix" onClick={() => setMode("fix")}>
              {r.kind === "checkout" || (r.kind === "attendance" && typeof r.body.trainee_number !== "string") ? t("records.resend") : t("records.fix")}
            </button>
          )}
          <button data-testid="record-discard" onClick={() => setMode("discard")}>{t("records.discard")}</button>
        </div>
      )}
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}

function Item({ r }: { r: OutboxRecord }) {
  return (
    <li class={`rec ${r.state}`} data-testid="record" data-kind={r.kind} data-state={r.state} data-id={r.id}>
      <div class="rec-head">
        <strong>{t(`kind.${r.kind}` as Key)}</strong>
        <span class={`chip ${r.state}`}>{t(`state.${r.state}` as Key)}</span>
      </div>
      <div class="small">{r.summary} · {dateTime(r.createdAt)}</div>
      {r.replaces && <div class="small">{t("records.correction")}</div>}
      {r.state === "delivered" && r.deliveredAt && <div class="small">{t("state.delivered")} {dateTime(r.deliveredAt)}</div>}
      {r.versionHeld && (r.state === "saved" || r.state === "sending") && (
        <div class="error small">{t(`sync.short.${r.versionHeld}`)}</div>
      )}
      {r.state === "attention" && <Attention r={r} />}
      {r.state === "discarded" && (
        <>
          {r.reason && <div class="small">{t("records.reason", { reason: pick(r.reason, r.reasonEn) })}</div>}
          <div class="small">
            {r.discardedAt ? t("records.discarded_at", { time: dateTime(r.discardedAt) }) : t("state.discarded")}
            {r.replacedBy ? ` · ${t("records.replaced")}` : ""}
          </div>
        </>
      )}
    </li>
  );
}

/** Every record this phone made, with its state: saved on phone, sending, delivered (server time), needs attention
 * (the server's reason; correct and resend, or discard), and apart, those discarded. */
export function Records() {
  const s = useAppState();
  const all = useOutbox(true);
  const records = all.filter((r) => r.state !== "discarded");
  const discarded = all.filter((r) => r.state === "discarded");
  const [busy, setBusy] = useState(false);
  const waiting = records.filter((r) => r.state === "saved" || r.state === "sending");
  const attention = records.filter((r) => r.state === "attention").length;
  // When none of them can be corrected (their proof is stale), the help says so rather than offer a correction.
  const fixable = records.some((r) => r.state === "attention" && proofProblem(r) === null);
  const old = waiting.some((r) => now() - r.createdAt > WARN_AFTER);
  const held = waiting.find((r) => r.versionHeld)?.versionHeld;
  return (
    <main class="records">
      <h1>{t("records.title")}</h1>
      <p data-testid="waiting-count">{t("records.waiting", { n: waiting.length })}</p>
      {attention > 0 && <p class="error" data-testid="attention-help">{t(fixable ? "records.attention_help" : "records.attention_help_discard", { n: attention })}</p>}
      {held && (
        <p class="error" role="alert" data-testid="version-held" data-code={held}>
          {t(`sync.${held}`)} {s.updateReady && <button onClick={s.updateReady}>{t("update.apply")}</button>}
        </p>
      )}
      {old && <p class="error" role="alert" data-testid="old-warning">{t("records.old_warning")}</p>}
      <button class="primary" disabled={busy || !s.online} data-testid="send-now"
        onClick={async () => { setBusy(true); try { await syncOutbox(true); } finally { setBusy(false); } }}>
        {busy ? t("records.sending_now") : t("records.send_now")}
      </button>
      {all.length === 0 && <p>{t("records.none")}</p>}
      <ul class="reclist">
        {records.map((r) => <Item key={r.id} r={r} />)}
      </ul>
      {discarded.length > 0 && (
        <details class="discarded" data-testid="discarded">
          <summary>{t("records.discarded_title", { n: discarded.length })}</summary>
          <ul class="reclist">
            {discarded.map((r) => <Item key={r.id} r={r} />)}
          </ul>
        </details>
      )}
    </main>
  );
}
