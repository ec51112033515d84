import { useEffect, useState } from "preact/hooks";
import { type Key, t } from "../i18n";
import { dateTime, localDay } from "../app/format";
import { useAppState } from "../app/hooks";
import { type OutletSession, addRecord, allRecords, onOutbox, setOutlet, uuid7 } from "../app/outbox";
import { now, syncAll } from "../app/state";
import { kvGet, kvSet } from "../app/store";
import { useOutbox } from "../app/useOutbox";
import { trySave } from "./save";
import * as dp1 from "../dp1";
import { Scanner } from "./Scanner";

/** Outlet staff check trainees in to a training session, offline: scanned passes or typed trainee numbers. */
export function Outlet() {
  const s = useAppState();
  const records = useOutbox();
  const [session, setSession] = useState<OutletSession | null | undefined>(undefined);
  const [outletId, setOutletId] = useState("");
  const [course, setCourse] = useState("");
  const [day, setDay] = useState(localDay(now()));
  const [scanning, setScanning] = useState(false);
  const [number, setNumber] = useState("");
  const [message, setMessage] = useState<{ text: string; bad?: boolean } | null>(null);
  const [known, setKnown] = useState<OutletSession[]>([]);
  useEffect(() => {
    void kvGet<OutletSession>("outlet_session").then((x) => setSession(x ?? null));
    void kvGet<number>("outlet_id").then((x) => x !== undefined && setOutletId(String(x)));
    const loadKnown = () => void kvGet<OutletSession[]>("outlet_sessions").then((x) => setKnown(x ?? []));
    loadKnown();
    return onOutbox(loadKnown); // pulls bring the outlet's sessions and signal through the outbox
  }, []);
  const join = async (x: OutletSession) => {
    if (await trySave(() => kvSet("outlet_session", x), (text) => setMessage({ text, bad: true }))) setSession(x);
  };

  if (session === undefined) return <main />;
  if (session === null)
    return (
      <main class="outlet">
        <h1>{t("outlet.title")}</h1>
        <form class="sheet" onSubmit={async (e) => {
          e.preventDefault();
          const open = { session_id: uuid7(), outlet_id: Number(outletId), course, day };
          const saved = await trySave(async () => {
            await addRecord("session", open, `${course} · ${day}`);
            await kvSet("outlet_session", open);
            await setOutlet(open.outlet_id);
          }, (text) => setMessage({ text, bad: true }));
          if (saved) setSession(open);
        }}>
          <h2>{t("outlet.open")}</h2>
          <label>{t("outlet.outlet_id")}<input inputMode="numeric" required value={outletId} onInput={(e) => setOutletId((e.target as HTMLInputElement).value.replace(/\D/g, ""))} /></label>
          <label>{t("outlet.course")}<input required maxLength={100} value={course} onInput={(e) => setCourse((e.target as HTMLInputElement).value)} /></label>
          <label>{t("outlet.day")}<input type="date" required value={day} onInput={(e) => setDay((e.target as HTMLInputElement).value)} /></label>
          {message?.bad && <p class="error" role="alert" data-testid="outlet-message">{message.text}</p>}
          <button class="primary" type="submit" data-testid="session-start">{t("outlet.start")}</button>
        </form>
        <section class="sheet">
          <h2>{t("outlet.join_title")}</h2>
          <button disabled={!outletId || !s.online} data-testid="sessions-find"
            onClick={async () => { await setOutlet(Number(outletId)); await syncAll(true); }}>{t("outlet.find")}</button>
          {known.filter((x) => x.outlet_id === Number(outletId)).slice(-5).reverse().map((x) => (
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
    const rows = [["课程 course", "日期 day", "学员 trainee", "签到时间 at"], ...mine.map((r) => [session.course, session.day, r.summary, dateTime(r.createdAt)])];
    const text = "\ufeff" + rows.map((row) => row.map((c) => `"${String(c).replace(/"/g, '""')}"`).join(",")).join("\r\n");
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
    a.download = `attendance-${session.day}-${session.session_id.slice(0, 8)}.csv`;
    a.click();
  };

  if (scanning) return <Scanner onText={(text) => void scanned(text)} onCancel={() => setScanning(false)} />;
  return (
    <main class="outlet">
      <h1>{t("outlet.session", { course: session.course, day: session.day })}</h1>
      <p data-testid="attendance-count">{t("outlet.count", { n: mine.length })}</p>
      <button class="big primary" onClick={() => setScanning(true)} data-testid="trainee-scan">{t("outlet.scan")}</button>
      <form class="typed" onSubmit={async (e) => {
        e.preventDefault();
        const n = number.trim().toUpperCase();
        setNumber("");
        if (n) await addTrainee(`No.${n}`, "", { trainee_number: n });
      }}>
        <label>{t("outlet.type")}<input value={number} maxLength={30} pattern="[A-Za-z0-9-]+" data-testid="trainee-number" onInput={(e) => setNumber((e.target as HTMLInputElement).value)} /></label>
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
