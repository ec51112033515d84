import { getLang, setLang, t } from "../i18n";
import { age } from "../app/format";
import { useAppState, useTicker } from "../app/hooks";
import { navigate } from "../app/router";
import { now, refresh } from "../app/state";
import { useOutbox } from "../app/useOutbox";

export function StatusBar() {
  const s = useAppState();
  useTicker(30000);
  const listAge = s.status ? age(Math.max(0, now() - s.status.issuedAt)) : null;
  const records = useOutbox();
  const waiting = records.filter((r) => r.state === "saved" || r.state === "sending").length;
  const attention = records.filter((r) => r.state === "attention").length;
  const held = records.find((r) => r.versionHeld && (r.state === "saved" || r.state === "sending"))?.versionHeld;
  return (
    <header class="bar">
      <button class="bar-home" onClick={() => navigate("/")} aria-label={t("nav.home")}>
        {t("app.name")}
      </button>
      <span class={`net ${s.online ? "on" : "off"}`} data-testid="net">
        ● {s.online ? t("net.online") : t("net.offline")}
      </span>
      <button class="bar-lists" data-testid="lists-age" onClick={() => void refresh()} title={t("lists.refresh")}>
        {listAge ? t("lists.age", { age: listAge }) : t("lists.none")}
      </button>
      <button class={`bar-records ${attention || held ? "bad" : ""}`} onClick={() => navigate("/records")} data-testid="waiting-badge">
        {t("records.waiting", { n: waiting })}{attention ? ` · ${t("state.attention")} ${attention}` : ""}
        {held ? ` · ${t(`sync.short.${held}`)}` : ""}
      </button>
      <button class="bar-lang" onClick={() => setLang(getLang() === "en" ? "zh-CN" : "en")}>
        {t("lang.switch")}
      </button>
      {s.updateReady && (
        <div class="update" role="status">
          {t("update.ready")} <button onClick={s.updateReady}>{t("update.apply")}</button>
        </div>
      )}
    </header>
  );
}
