import { useState } from "preact/hooks";
import { getLang, setLang, t } from "../i18n";
import { age } from "../app/format";
import { useAppState, useTicker } from "../app/hooks";
import { navigate } from "../app/router";
import { now, refresh } from "../app/state";
import { useOutbox } from "../app/useOutbox";

/** One slim row on every page: home, network dot, the lists' age, what waits to be sent, language. Never wraps:
 * what does not fit is cut short on screen (the full words stay for screen readers) and a tap on the network dot
 * opens the details. */
export function StatusBar() {
  const s = useAppState();
  useTicker(30000);
  const [open, setOpen] = useState(false);
  // When this phone last got the lists from the server (the list itself is re-signed only when a status changes).
  const seen = s.listsFetchedAt ?? s.status?.issuedAt;
  const listAge = s.status && seen !== undefined ? age(Math.max(0, now() - seen)) : null;
  const records = useOutbox();
  const waiting = records.filter((r) => r.state === "saved" || r.state === "sending").length;
  const attention = records.filter((r) => r.state === "attention").length;
  const held = records.find((r) => r.versionHeld && (r.state === "saved" || r.state === "sending"))?.versionHeld;
  // Short, so the count is never the part cut off at 360 px.
  const badge = [attention ? t("bar.attention", { n: attention }) : t("bar.waiting", { n: waiting })];
  if (held) badge.push(t(`sync.short.${held}`));
  return (
    <header class="bar">
      <div class="bar-row">
        <button class="bar-home" onClick={() => navigate("/")} aria-label={t("nav.home")} title={t("app.name")}>
          <span aria-hidden="true">⌂</span>
        </button>
        <button class={`net ${s.online ? "on" : "off"}`} data-testid="net" aria-expanded={open}
          aria-label={`${s.online ? t("net.online") : t("net.offline")} · ${t("bar.details")}`} onClick={() => setOpen(!open)}>
          ●{s.online ? <span class="vh"> {t("net.online")}</span> : ` ${t("net.offline")}`}
        </button>
        <button class={`bar-lists ${listAge ? "" : "bad"}`} data-testid="lists-age" onClick={() => void refresh()} title={t("lists.refresh")}>
          {listAge ? (
            <>
              <span class="vh">{t("bar.lists_label")} </span>
              <span aria-hidden="true">{t("bar.lists_short")} </span>
              {listAge}
            </>
          ) : (
            <>
              <span class="vh">{t("lists.none")}</span>
              <span aria-hidden="true">{t("bar.lists_none")}</span>
            </>
          )}
        </button>
        <button class={`bar-records ${attention || held ? "bad" : ""}`} onClick={() => navigate("/records")} data-testid="waiting-badge">
          {badge.join(" · ")}
        </button>
        <button class="bar-lang" onClick={() => setLang(getLang() === "en" ? "zh-CN" : "en")} aria-label={t("lang.switch")}
          lang={getLang() === "en" ? "zh-CN" : "en"}>
          {t("bar.lang_short")}
        </button>
      </div>
      {open && (
        <div class="bar-more" data-testid="bar-details">
          <p>● {s.online ? t("net.online") : t("net.offline")}</p>
          <p>{listAge ? t("bar.lists_full", { age: listAge }) : t("lists.none")}</p>
          <button disabled={s.refreshing} onClick={() => void refresh()}>{t("bar.refresh_now")}</button>
          <p>
            {t("records.waiting", { n: waiting })}
            {attention ? ` · ${t("state.attention")} ${attention}` : ""}
            {held ? ` · ${t(`sync.short.${held}`)}` : ""}
          </p>
          <button onClick={() => { setOpen(false); navigate("/records"); }}>{t("bar.open_records")}</button>
        </div>
      )}
      {s.updateReady && (
        <div class="update" role="status">
          {t("update.ready")} <button onClick={s.updateReady}>{t("update.apply")}</button>
        </div>
      )}
    </header>
  );
}
