import { useEffect, useState } from "preact/hooks";
import { type Key, t } from "../i18n";
import { useAppState } from "../app/hooks";
import { navigate } from "../app/router";
import { ApiError } from "../app/api";
import {
  type Me, type TotpSetup, changePassword, forgetMe, groupSecret, loadMe, newRecoveryCodes, signOut,
  svgDataUrl, totpConfirm, totpSetup, useMe,
} from "../app/staff";

/** The server's message in the person's language; a 401 (the session ended) sends them back to sign-in. */
function explain(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 401) forgetMe();
    return e.message;
  }
  return String(e);
}

function input(set: (v: string) => void) {
  return (e: Event) => set((e.target as HTMLInputElement).value);
}

/** Who is signed in: name, role in words, agency or outlet. */
function Who({ me }: { me: Me }) {
  const where = me.outlet_name ?? me.agency_name;
  return (
    <section class="card who-card" data-testid="who">
      <strong class="who-name">{me.display_name || me.username}</strong>
      <span class="small">{t("account.username")}: {me.username}</span>
      <span data-testid="who-role">{t(`role.${me.role}` as Key)}</span>
      {where && <span data-testid="who-where">{where}</span>}
    </section>
  );
}

/** The recovery codes, shown once, until the person says they have written them down. */
function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  return (
    <section class="card" data-testid="recovery">
      <h2>{t("codes.title")}</h2>
      <p class="note">{t("codes.once")}</p>
      <ol class="codes" data-testid="recovery-codes">
        {codes.map((c) => <li key={c}>{c}</li>)}
      </ol>
      <button class="primary" onClick={onDone} data-testid="codes-done">{t("codes.done")}</button>
    </section>
  );
}

/** Two-factor set-up: QR and secret for the authenticator, then one code from it to confirm. */
function TwoFactorSetup({ onCodes }: { onCodes: (codes: string[]) => void }) {
  const [setup, setSetup] = useState<TotpSetup | null>(null);
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (f: () => Promise<void>) => {
    setError(null);
    setBusy(true);
    try {
      await f();
    } catch (e) {
      setError(explain(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" data-testid="totp">
      <h2>{t("totp.title")}</h2>
      <p class="note">{t("totp.required")}</p>
      {!setup ? (
        <>
          <p>{t("totp.intro")}</p>
          <button class="primary" disabled={busy} data-testid="totp-start"
            onClick={() => run(async () => setSetup(await totpSetup()))}>{t("totp.start")}</button>
        </>
      ) : (
        <>
          <p>{t("totp.step_scan")}</p>
          <img class="totp-qr" src={svgDataUrl(setup.qr_svg)} alt={t("totp.qr_alt")} data-testid="totp-qr" />
          <p>{t("totp.step_type")}</p>
          <p class="secret" data-testid="totp-secret">{groupSecret(setup.secret)}</p>
          <a class="button" href={setup.otpauth_uri} data-testid="totp-link">{t("totp.open_app")}</a>
          <form onSubmit={(e) => { e.preventDefault(); void run(async () => onCodes(await totpConfirm(code.trim()))); }}>
            <label>
              {t("totp.step_code")}
              <input value={code} onInput={input(setCode)} inputMode="numeric" autocomplete="one-time-code" maxLength={6}
                pattern="[0-9]{6}" required class="otp" data-testid="totp-code" />
            </label>
            <button class="primary" type="submit" disabled={busy} data-testid="totp-confirm">{t("totp.confirm")}</button>
          </form>
        </>
      )}
      {error && <p class="error" role="alert" data-testid="totp-error">{error}</p>}
    </section>
  );
}

/** Change password; when `first`, the server asks for a new one before anything else. */
function PasswordForm({ me, first, onChanged }: { me: Me; first?: boolean; onChanged?: () => void }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setDone(false);
    if (next !== again) return setError(t("password.mismatch"));
    if (next.length < 10 || next === me.username) return setError(t("password.weak"));
    setBusy(true);
    try {
      await changePassword(current, next);
      setCurrent("");
      setNext("");
      setAgain("");
      setDone(true);
      onChanged?.();
    } catch (err) {
      setError(explain(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" data-testid="password">
      <h2>{first ? t("password.first") : t("password.title")}</h2>
      <form onSubmit={submit}>
        <input type="text" name="username" value={me.username} autocomplete="username" hidden readOnly />
        <label>
          {t("password.current")}
          <input type="password" value={current} onInput={input(setCurrent)} autocomplete="current-password" required
            data-testid="pw-current" />
        </label>
        <label>
          {t("password.new")}
          <input type="password" value={next} onInput={input(setNext)} autocomplete="new-password" required data-testid="pw-new" />
          <span class="small">{t("password.rule")}</span>
        </label>
        <label>
          {t("password.again")}
          <input type="password" value={again} onInput={input(setAgain)} autocomplete="new-password" required data-testid="pw-again" />
        </label>
        <button class="primary" type="submit" disabled={busy} data-testid="pw-submit">{t("password.submit")}</button>
      </form>
      {error && <p class="error" role="alert" data-testid="pw-error">{error}</p>}
      {done && <p class="saved" role="status" data-testid="pw-done">{t("password.done")}</p>}
    </section>
  );
}

/** New recovery codes (the old ones stop working), confirmed with a current authenticator code. */
function NewCodes({ onCodes }: { onCodes: (codes: string[]) => void }) {
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      onCodes(await newRecoveryCodes(code.trim()));
    } catch (err) {
      setError(explain(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" data-testid="new-codes">
      <h2>{t("codes.new_title")}</h2>
      <p>{t("codes.new_intro")}</p>
      <form onSubmit={submit}>
        <label>
          {t("totp.code")}
          <input value={code} onInput={input(setCode)} inputMode="numeric" autocomplete="one-time-code" maxLength={6}
            pattern="[0-9]{6}" required class="otp" data-testid="new-codes-otp" />
        </label>
        <button type="submit" disabled={busy} data-testid="new-codes-submit">{t("codes.new_submit")}</button>
      </form>
      {error && <p class="error" role="alert" data-testid="new-codes-error">{error}</p>}
    </section>
  );
}

/** The signed-in person's page: a new password first when asked, then two-factor, then the everyday settings. */
export function Account() {
  useAppState();
  const { me, loaded } = useMe();
  const [codes, setCodes] = useState<string[] | null>(null);
  const [firstChanged, setFirstChanged] = useState(false);
  const [leaving, setLeaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!loaded) void loadMe().catch((e) => setError(explain(e)));
  }, []);
  useEffect(() => {
    if (loaded && !me) navigate("/signin");
  }, [loaded, me]);

  if (!me)
    return (
      <main class="account">
        <h1>{t("account.title")}</h1>
        {error ? <p class="error" role="alert">{error}</p> : <p>{t("account.loading")}</p>}
      </main>
    );

  const showCodes = (c: string[]) => {
    setCodes(c);
    void loadMe().catch(() => undefined);
  };
  let body;
  if (codes) body = <RecoveryCodes codes={codes} onDone={() => setCodes(null)} />;
  else if (me.must_change_password) body = <PasswordForm me={me} first onChanged={() => setFirstChanged(true)} />;
  else if (!me.totp_enabled)
    body = (
      <>
        {firstChanged && <p class="saved" role="status" data-testid="pw-done">{t("password.done")}</p>}
        <TwoFactorSetup onCodes={showCodes} />
      </>
    );
  else
    body = (
      <>
        <p class="saved" data-testid="totp-on">{t("totp.on")}</p>
        <PasswordForm me={me} />
        <NewCodes onCodes={setCodes} />
      </>
    );
  return (
    <main class="account">
      <h1>{t("account.title")}</h1>
      <Who me={me} />
      {body}
      {!codes && me.role === "outlet_staff" && me.totp_enabled && !me.must_change_password && (
        <button class="primary" onClick={() => navigate("/outlet")} data-testid="to-outlet">{t("account.to_outlet")}</button>
      )}
      {!codes && (
        <button class="signout" data-testid="signout" disabled={leaving}
          onClick={() => {
            setLeaving(true); // an outlet's phone first sends what it saved and is untied (at most a few seconds)
            void signOut().catch(() => undefined).finally(() => setLeaving(false)); /* forgotten here either way; the effect goes to sign-in */
          }}>
          {t("account.sign_out")}
        </button>
      )}
    </main>
  );
}
