import { t } from "../i18n";
import { navigate } from "../app/router";

export function Home() {
  return (
    <main class="home">
      <h1>{t("app.name")}</h1>
      <p class="tagline">{t("app.tagline")}</p>
      <button class="big" onClick={() => navigate("/verify")} data-testid="go-verify">
        <strong>{t("home.household")}</strong>
        <span>{t("home.household.sub")}</span>
      </button>
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
