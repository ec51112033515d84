import { useEffect, useRef, useState } from "preact/hooks";
import { t } from "../i18n";
import { useAppState, useTicker } from "../app/hooks";
import { navigate } from "../app/router";
import { ApiError } from "../app/api";
import { type Me, loadMe, signIn, useMe } from "../app/staff";

/** "3 分钟" / "40 秒": how long until the next try is allowed. */
function waitText(seconds: number): string {
  return seconds < 60 ? t("wait.seconds", { n: Math.ceil(seconds) }) : t("wait.minutes", { n: Math.ceil(seconds / 60) });
}

/** Where sign-in leads: back to the page that sent the person here (`?next=`, this app's outlet view only), unless
 * the account still needs its new password or two-step verification (the account page asks for them). */
function afterSignIn(me: Me): string {
  const next = new URLSearchParams(location.search).get("next");
  return next === "/outlet" && !me.must_change_password && me.totp_enabled ? next : "/account";
}

/** Staff sign-in: user name and password, then the authenticator code (or a recovery code) when the server asks. */
export function SignIn() {
  useAppState();
  useTicker(1000);
  const { me, loaded } = useMe();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [otp, setOtp] = useState("");
  const [step, setStep] = useState<"password" | "otp" | "recovery">("password");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [blocked, setBlocked] = useState<{ code: string; until: number } | null>(null);
  const second = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!loaded) void loadMe().catch(() => undefined);
  }, []);
  useEffect(() => {
    if (me) navigate(afterSignIn(me));
  }, [me]);
  useEffect(() => second.current?.focus(), [step]);

  const left = blocked ? Math.max(0, (blocked.until - Date.now()) / 1000) : 0;

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await signIn(username.trim(), password, step === "password" ? undefined : otp.trim());
      setBlocked(null); // the effect on `me` goes on to the account page
    } catch (err) {
      if (err instanceof ApiError && err.code === "otp_required") {
        setStep("otp");
        setOtp("");
      } else if (err instanceof ApiError && (err.code === "account_locked" || err.code === "rate_limited")) {
        setBlocked({ code: err.code, until: Date.now() + (err.retryAfter ?? 60) * 1000 });
      } else {
        setError(err instanceof ApiError ? err.message : String(err));
      }
    } finally {
      setBusy(false);
    }
  };

  const back = () => {
    setStep("password");
    setOtp("");
    setPassword("");
    setError(null);
  };

  return (
    <main class="signin">
      <h1>{t("signin.title")}</h1>
      <form onSubmit={submit} data-testid="signin-form">
        {step === "password" ? (
          <>
            <label>
              {t("signin.username")}
              <input name="username" value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)}
                autocomplete="username" autocapitalize="none" spellcheck={false} required data-testid="signin-username" />
            </label>
            <label>
              {t("signin.password")}
              <input name="password" type="password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
                autocomplete="current-password" required data-testid="signin-password" />
            </label>
          </>
        ) : (
          <>
            <p data-testid="signin-as">{t("signin.as", { name: username })}</p>
            {/* distinct keys: a reused <input> would keep stale attributes (maxLength) from the other field */}
            {step === "otp" ? (
              <label key="otp">
                {t("signin.otp")}
                <input name="otp" value={otp} onInput={(e) => setOtp((e.target as HTMLInputElement).value)}
                  inputMode="numeric" autocomplete="one-time-code" maxLength={6} pattern="[0-9]{6}"
                  required ref={second} class="otp" data-testid="signin-otp" />
                <span class="small">{t("signin.otp_hint")}</span>
              </label>
            ) : (
              <label key="recovery">
                {t("signin.recovery")}
                <input name="recovery" value={otp} onInput={(e) => setOtp((e.target as HTMLInputElement).value)}
                  autocomplete="off" autocapitalize="characters" spellcheck={false} placeholder="ABCD-EFGH"
                  required ref={second} class="otp" data-testid="signin-recovery" />
                <span class="small">{t("signin.recovery_hint")}</span>
              </label>
            )}
          </>
        )}
        {error && <p class="error" role="alert" data-testid="signin-error">{error}</p>}
        {blocked && left > 0 && (
          <p class="error" role="alert" data-testid="signin-blocked">
            {t(blocked.code === "account_locked" ? "signin.locked" : "signin.rate_limited", { wait: waitText(left) })}
          </p>
        )}
        <button class="primary wide" type="submit" disabled={busy || left > 0} data-testid="signin-submit">
          {busy ? t("signin.working") : t("signin.submit")}
        </button>
      </form>
      {step !== "password" && (
        <div class="stack">
          <button class="link" onClick={() => { setStep(step === "otp" ? "recovery" : "otp"); setOtp(""); setError(null); }}
            data-testid="signin-toggle-recovery">
            {step === "otp" ? t("signin.use_recovery") : t("signin.use_otp")}
          </button>
          <button class="link" onClick={back} data-testid="signin-back">{t("signin.back")}</button>
        </div>
      )}
    </main>
  );
}
