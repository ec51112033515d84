import { useEffect, useState } from "preact/hooks";
import { t } from "../i18n";
import { navigate } from "../app/router";
import { careOn, onCare, setCare } from "../app/care";
import { refreshDirectory } from "../app/directory";

/** 关怀模式: larger text and targets, high contrast, the verdict read aloud. One switch, kept on this phone. */
export function CareSwitch() {
  const [on, setOn] = useState(careOn());
  useEffect(() => onCare(() => setOn(careOn())), []);
  return (
    <button type="button" role="switch" aria-checked={on} class={on ? "care-switch on" : "care-switch"} data-testid="care-switch"
      onClick={() => setCare(!on)}>
      <span class="care-label">{t("verdict.care")}</span>
      <span class="care-state" aria-hidden="true">{on ? t("verdict.care_on") : t("verdict.care_off")}</span>
    </button>
  );
}

export function Home() {
  // The agency directory (names and phones) travels to every phone that opens the app online, for offline verdicts.
  useEffect(() => void refreshDirectory(), []);
  return (
    <main class="home">
      <h1>{t("app.name")}</h1>
      <p class="tagline">{t("app.tagline")}</p>
      <button class="big" onClick={() => navigate("/verify")} data-testid="go-verify">
        <strong>{t("home.household")}</strong>
        <span>{t("home.household.sub")}</span>
      </button>
      <CareSwitch />
      <button class="big" onClick={() => navigate("/pass")} data-testid="go-pass">
        <strong>{t("home.worker")}</strong>
        <span>{t("home.worker.sub")}</span>
      </button>
      <button class="big" onClick={() => navigate("/outlet")} data-testid="go-outlet">
        <strong>{t("home.outlet")}</strong>
        <span>{t("home.outlet.sub")}</span>
      </button>
      <div class="row">
        <button class="link" onClick={() => navigate("/enroll")}>{t("home.enroll")}</button>
        <button class="link" onClick={() => navigate("/records")}>{t("home.records")}</button>
      </div>
      <button class="link staff-link" onClick={() => navigate("/signin")} data-testid="go-signin">{t("home.staff")}</button>
    </main>
  );
}
