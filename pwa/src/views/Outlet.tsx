import { useEffect, useRef, useState } from "preact/hooks";
import { type Key, pick, t } from "../i18n";
import { dateTime, localDay } from "../app/format";
import { useAppState } from "../app/hooks";
import { type OutletSession, addRecord, allRecords, onOutbox, setOutlet, uuid7 } from "../app/outbox";
import { now, syncAll } from "../app/state";
import { kvGet, kvSet } from "../app/store";
import { useOutbox } from "../app/useOutbox";
import { type OutletTie, TieError, boundOutlet, tieOutlet } from "../app/outletPhone";
import { navigate } from "../app/router";
import { forgetMe, loadMe, useMe } from "../app/staff";
import { TRAINEE_NUMBER, trySave } from "./save";
import * as dp1 from "../dp1";
import { Scanner } from "./Scanner";

/** Where the outlet view stands: the phone is tied to an outlet (it works offline from then on), or it says what is
 * missing: an outlet staff account signed in, the first-time setup, a network, or the tie itself. */
function useTie(online: boolean): { tie: OutletTie | null | undefined; blocked: preact.JSX.Element | null } {
  const { me, loaded } = useMe();
  const [tie, setTie] = useState<OutletTie | null | undefined>(undefined);
  const [tying, setTying] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);
  const tried = useRef<string | null>(null);
  const [asking, setAsking] = useState(!loaded && navigator.onLine);
  useEffect(() => {
    void boundOutlet().then(setTie);
    if (!loaded && navigator.onLine) void loadMe().catch(() => undefined).finally(() => setAsking(false));
  }, []);
  const ready = !!me && me.role === "outlet_staff" && me.outlet_id !== null && !me.must_change_password && me.totp_enabled;
  const tieNow = async () => {
    if (!me) return;
    setTying(true);
    setFailed(null);
    try {
      try {
        setTie(await tieOutlet(() => me.csrf_token));
      } catch (e) {
        if (!(e instanceof TieError && e.status === 403 && e.code === "csrf")) throw e;
        const fresh = await loadMe(); // a stale CSRF token: ask again, once
        if (!fresh) throw e;
        setTie(await tieOutlet(() => fresh.csrf_token));
      }
    } catch (e) {
      if (e instanceof TieError && e.status === 401 && !e.code.startsWith("device")) forgetMe(); // the session ended
      const reason = e instanceof TieError
        ? pick(e.zh, e.en) || (e.status === 0 ? t("error.network") : `HTTP ${e.status}`)
        : String(e);
      setFailed(reason);
    } finally {
      setTying(false);
    }
  };
  // Tie once, online, when outlet staff are signed in and the phone is not yet this account's outlet's.
  useEffect(() => {
    if (tie === undefined || !ready || !online || (tie && tie.outlet_id === me!.outlet_id)) return;
    const key = `${me!.id}:${me!.outlet_id}`;
    if (tried.current === key) return;
    tried.current = key;
    void tieNow();
  }, [tie, me, ready, online]);

  if (tie === undefined) return { tie, blocked: null };
  if (tie && !(ready && tie.outlet_id !== me!.outlet_id)) return { tie, blocked: null };
  const go = (path: string) => (e: Event) => {
    e.preventDefault();
    navigate(path);
  };
  let body: preact.JSX.Element;
  if (!me && asking) {
    body = <p role="status">{t("account.loading")}</p>;
  } else if (!me) {
    body = (
      <>
        <p data-testid="outlet-need-signin">{t("outlet.need_signin")}</p>
        {!online && !loaded && <p class="note">{t("outlet.need_online")}</p>}
        <a class="button primary" href="/signin?next=/outlet" onClick={go("/signin?next=/outlet")} data-testid="outlet-signin">
          {t("outlet.signin")}
        </a>
      </>
    );
  } else if (me.role !== "outlet_staff" || me.outlet_id === null) {
    body = (
      <>
        <p data-testid="outlet-need-signin">{t("outlet.wrong_role", { role: t(`role.${me.role}` as Key) })}</p>
        <a class="button" href="/account" onClick={go("/account")}>{t("outlet.to_account")}</a>
      </>
    );
  } else if (!ready) {
    body = (
      <>
        <p class="note" data-testid="outlet-setup-first">{t("outlet.setup_first")}</p>
        <a class="button primary" href="/account" onClick={go("/account")}>{t("outlet.to_account")}</a>
      </>
    );
  } else {
    body = (
      <>
        {me.outlet_name && <p class="outlet-where">{t("outlet.where", { name: me.outlet_name })}</p>}
        {!online ? <p class="note" data-testid="outlet-need-online">{t("outlet.need_online")}</p>
          : tying || !failed ? <p role="status" data-testid="outlet-tying">{t("outlet.tying")}</p>
          : <p class="error" role="alert" data-testid="outlet-tie-error">{t("outlet.tie_failed", { reason: failed })}</p>}
        {failed && online && !tying && <button class="primary" onClick={() => void tieNow()} data-testid="outlet-tie-retry">{t("outlet.retry")}</button>}
      </>
    );
  }
  return {
    tie,
    blocked: (
      <main class="outlet">
        <h1>{t("outlet.title")}</h1>
        <section class="sheet" data-testid="outlet-blocked">{body}</section>
      </main>
    ),
  };
}

/** Outlet staff check trainees in to a training session, offline: scanned passes or typed trainee numbers. The
 * phone is tied to the outlet of the outlet staff account signed in on it; sessions are that outlet's. */
export function Outlet() {
  const s = useAppState();
  const records = useOutbox();
  const { tie, blocked } = useTie(s.online);
  const [session, setSession] = useState<OutletSession | null | undefined>(undefined);
  const [course, setCourse] = useState("");
  const [day, setDay] = useState(localDay(now()));
  const [scanning, setScanning] = useState(false);
  const [number, setNumber] = useState("");
  const [badNumber, setBadNumber] = useState(false);
  const [message, setMessage] = useState<{ text: string; bad?: boolean } | null>(null);
  const [known, setKnown] = useState<OutletSession[]>([]);
  useEffect(() => {
    const load = () => {
      void kvGet<OutletSession>("outlet_session").then((x) => setSession(x ?? null));
      void kvGet<OutletSession[]>("outlet_sessions").then((x) => setKnown(x ?? []));
    };
    load();
    return onOutbox(load); // pulls bring the outlet's sessions and signal through the outbox
  }, [tie?.outlet_id]);
  const join = async (x: OutletSession) => {
    if (await trySave(() => kvSet("outlet_session", x), (text) => setMessage({ text, bad: true }))) setSession(x);
  };

  if (blocked) return blocked;
  if (session === undefined || !tie) return <main />;
  const where = <p class="outlet-where" data-testid="outlet-name">{t("outlet.where", { name: tie.outlet_name })}</p>;
  if (session === null)
    return (
      <main class="outlet">
        <h1>{t("outlet.title")}</h1>
        {where}
        <form class="sheet" onSubmit={async (e) => {
          e.preventDefault();
          const open = { session_id: uuid7(), outlet_id: tie.outlet_id, course, day };
          const saved = await trySave(async () => {
            await addRecord("session", open, `${course} · ${day}`);
            await kvSet("outlet_session", open);
          }, (text) => setMessage({ text, bad: true }));
          if (saved) setSession(open);
        }}>
          <h2>{t("outlet.open")}</h2>
          <label>{t("outlet.course")}<input required maxLength={100} value={course} data-testid="session-course" onInput={(e) => setCourse((e.target as HTMLInputElement).value)} /></label>
          <label>{t("outlet.day")}<input type="date" required value={day} onInput={(e) => setDay((e.target as HTMLInputElement).value)} /></label>
          {message?.bad && <p class="error" role="alert" data-testid="outlet-message">{message.text}</p>}
          <button class="primary" type="submit" data-testid="session-start">{t("outlet.start")}</button>
        </form>
        <section class="sheet">
          <h2>{t("outlet.join_title")}</h2>
          <button disabled={!s.online} data-testid="sessions-find"
            onClick={async () => { await setOutlet(tie.outlet_id); await syncAll(true); }}>{t("outlet.find")}</button>
          {known.filter((x) => x.outlet_id === tie.outlet_id).slice(-5).reverse().map((x) => (
            <button key={x.session_id} class="big" data-testid="session-join" onClick={() => void join(x)}>
              {t("outlet.join", { course: x.course, day: x.day })}
            </button>
          ))}
        </section>
      </main>
    );

  const mine = records.filter((r) => r.kind === "attendance" && r.body.session_id === session.session_id).reverse();

  const addTrainee = async (key: string, name: string, fields: Record<string, unknown>, note?: string) => {
    // Read the phone's records afresh: two quick scans of one trainee must record once.
    const fresh = (await allRecords()).filter((r) => r.kind === "attendance" && r.body.session_id === session.session_id);
    if (fresh.some((r) => r.summary.split(" ")[0] === key)) {
      setMessage({ text: t("outlet.already", { name: name || key }) });
      return;
    }
    const save = () => addRecord("attendance", { session_id: session.session_id, ...fields }, `${key} ${name}`);
    const added = t("outlet.added", { name: name || key });
    if (await trySave(save, (text) => setMessage({ text, bad: true }))) setMessage(note ? { text: `${added} · ${note}`, bad: true } : { text: added });
  };

  const scanned = async (text: string) => {
    setScanning(false);
    if (!s.trust || !s.status) return setMessage({ text: t("verify.no_lists"), bad: true });
    const v = await dp1.verify(text, now(), s.trust, s.status);
    // What the server takes as proof (crypto/enums.py STATUS_RESULTS): any status, said alongside when not valid.
    if (!dp1.STATUS_RESULTS.includes(v.result) || !v.parsed)
      return setMessage({ text: t("outlet.rejected", { reason: t(`explain.${v.result}` as Key) }), bad: true });
    await addTrainee(`#${v.parsed.cred.serial}`, v.parsed.cred.name, { frame: text },
      v.result === "valid" ? undefined : t(`result.${v.result}` as Key));
  };

  const csv = () => {
    // One column each: the trainee number (typed), the pass number and the name (scanned); cells a spreadsheet would
    // run as a formula are made text (as the server's CSV does).
    const cell = (x: string) => (/^[=+\-@\t\r]/.test(x) ? `'${x}` : x);
    const head = ["课程 course", "日期 day", "服务网点 outlet", "学员编号 trainee number", "证号 pass", "姓名 name", "签到时间 at", "状态 state"];
    const rows = mine.map((r) => {
      const scanned = /^#(\d+) ?(.*)$/.exec(r.summary);
      const typed = typeof r.body.trainee_number === "string" ? r.body.trainee_number : "";
      return [session.course, session.day, tie.outlet_name, typed, scanned?.[1] ?? "", scanned?.[2] ?? "", dateTime(r.createdAt),
        t(`state.${r.state}` as Key)];
    });
    const text = "\ufeff" + [head, ...rows].map((row) => row.map((c) => `"${cell(String(c)).replace(/"/g, '""')}"`).join(",")).join("\r\n");
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
    a.download = `attendance-${session.day}-${session.session_id.slice(0, 8)}.csv`;
    a.click();
  };

  if (scanning) return <Scanner onText={(text) => void scanned(text)} onCancel={() => setScanning(false)} />;
  return (
    <main class="outlet">
      <h1>{t("outlet.session", { course: session.course, day: session.day })}</h1>
      {where}
      <p data-testid="attendance-count">{t("outlet.count", { n: mine.length })}</p>
      <button class="big primary" onClick={() => setScanning(true)} data-testid="trainee-scan">{t("outlet.scan")}</button>
      <form class="typed" noValidate onSubmit={async (e) => {
        e.preventDefault();
        const n = number.trim().toUpperCase();
        if (!n) return;
        // The server's rule (sync/wire.py, Attendance.trainee_number), checked here before anything is saved: what is
        // typed stays in the field to be put right.
        if (!TRAINEE_NUMBER.test(n)) {
          setBadNumber(true);
          return setMessage({ text: t("outlet.number_shape", { value: number.trim() }), bad: true });
        }
        setBadNumber(false);
        setNumber("");
        await addTrainee(`No.${n}`, "", { trainee_number: n });
      }}>
        <label>{t("outlet.type")}
          {/* A pattern valid under the `v` flag Chromium compiles it with (a bare "-" at the end of a class is not). */}
          <input value={number} maxLength={30} pattern="[A-Za-z0-9\-]{1,30}" autocapitalize="characters" aria-invalid={badNumber}
            aria-describedby="trainee-number-hint" data-testid="trainee-number"
            onInput={(e) => { setBadNumber(false); setNumber((e.target as HTMLInputElement).value); }} />
          <span class="small" id="trainee-number-hint">{t("outlet.number_hint")}</span>
        </label>
        <button type="submit" data-testid="trainee-add">{t("outlet.add")}</button>
      </form>
      {message && <p class={message.bad ? "error" : "saved"} role="status" data-testid="outlet-message">{message.text}</p>}
      <ul class="reclist">
        {mine.map((r) => <li key={r.id} class="rec"><span>{r.summary}</span> <span class={`chip ${r.state}`}>{t(`state.${r.state}` as Key)}</span></li>)}
      </ul>
      <div class="row">
        <button onClick={csv} data-testid="export-csv">{t("outlet.export")}</button>
        <button onClick={async () => { await kvSet("outlet_session", null); setSession(null); }}>{t("outlet.close")}</button>
      </div>
    </main>
  );
}
