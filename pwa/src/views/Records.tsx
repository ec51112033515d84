import { useState } from "preact/hooks";
import { type Key, getLang, t } from "../i18n";
import { dateTime } from "../app/format";
import { useAppState } from "../app/hooks";
import { WARN_AFTER, syncOutbox } from "../app/outbox";
import { now } from "../app/state";
import { useOutbox } from "../app/useOutbox";

/** Every record this phone made, with its state: saved on phone, sending, delivered (server time), needs attention. */
export function Records() {
  const s = useAppState();
  const records = useOutbox();
  const [busy, setBusy] = useState(false);
  const waiting = records.filter((r) => r.state === "saved" || r.state === "sending");
  const old = waiting.some((r) => now() - r.createdAt > WARN_AFTER);
  const held = waiting.find((r) => r.versionHeld)?.versionHeld;
  return (
    <main class="records">
      <h1>{t("records.title")}</h1>
      <p data-testid="waiting-count">{t("records.waiting", { n: waiting.length })}</p>
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
      {records.length === 0 && <p>{t("records.none")}</p>}
      <ul class="reclist">
        {records.map((r) => (
          <li key={r.id} class={`rec ${r.state}`} data-testid="record" data-kind={r.kind} data-state={r.state}>
            <div class="rec-head">
              <strong>{t(`kind.${r.kind}` as Key)}</strong>
              <span class={`chip ${r.state}`}>{t(`state.${r.state}` as Key)}</span>
            </div>
            <div class="small">{r.summary} · {dateTime(r.createdAt)}</div>
            {r.state === "delivered" && r.deliveredAt && <div class="small">{t("state.delivered")} {dateTime(r.deliveredAt)}</div>}
            {r.versionHeld && (r.state === "saved" || r.state === "sending") && (
              <div class="error small">{t(`sync.short.${r.versionHeld}`)}</div>
            )}
            {r.state === "attention" && <div class="error small">{getLang() === "en" ? r.reasonEn || r.reason : r.reason || r.reasonEn}</div>}
          </li>
        ))}
      </ul>
    </main>
  );
}
