// Staff accounts: sign-in, the signed-in person (`Me`), and the account calls. The session lives in an
// HttpOnly cookie; the CSRF token is kept in memory only and sent on every unsafe request.
import { useEffect, useState } from "preact/hooks";
import { ApiError, api } from "./api";
import { untieOutlet } from "./outletPhone";

export type Role = "regulator" | "agency_admin" | "agency_staff" | "outlet_staff";

export interface Me {
  id: number;
  username: string;
  display_name: string;
  role: Role;
  agency_id: number | null;
  agency_name: string | null;
  outlet_id: number | null;
  outlet_name: string | null;
  totp_enabled: boolean;
  must_change_password: boolean;
  csrf_token: string;
}

export interface TotpSetup {
  secret: string;
  otpauth_uri: string;
  qr_svg: string;
}

let me: Me | null = null;
let loaded = false;
const listeners = new Set<() => void>();

function setMe(next: Me | null): void {
  me = next;
  loaded = true;
  listeners.forEach((f) => f());
}

/** The signed-in person (null when signed out) and whether the server has been asked yet. */
export function useMe(): { me: Me | null; loaded: boolean } {
  const [, tick] = useState(0);
  useEffect(() => {
    const f = () => tick((n) => n + 1);
    listeners.add(f);
    return () => listeners.delete(f);
  }, []);
  return { me, loaded };
}

/** A call to the staff API: same-origin fetch carries the session cookie; an unsafe one carries the CSRF token. */
function call<T>(path: string, body?: unknown): Promise<T> {
  return api<T>(path, body, 10000, body !== undefined && me ? { "x-csrf-token": me.csrf_token } : {});
}

/** An unsafe call while signed in; a stale CSRF token (403 csrf) is refreshed from `me` and the call tried once more. */
async function post<T>(path: string, body: unknown = {}): Promise<T> {
  try {
    return await call<T>(path, body);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 403 && e.code === "csrf")) throw e;
    if (!(await loadMe())) throw e;
    return call<T>(path, body);
  }
}

/** Ask the server who is signed in (on every page load: the CSRF token is never stored). */
export async function loadMe(): Promise<Me | null> {
  try {
    setMe(await call<Me>("/api/auth/me"));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) setMe(null);
    else throw e;
  }
  return me;
}

export async function signIn(username: string, password: string, otp?: string): Promise<Me> {
  const body: Record<string, string> = { username, password };
  if (otp) body.otp = otp;
  const who = await call<Me>("/api/auth/sign-in", body);
  setMe(who);
  return who;
}

/** Sign out; on an outlet's phone, what it saved is sent first and the phone is untied from the outlet (best effort:
 * signing out works offline). */
export async function signOut(): Promise<void> {
  await untieOutlet();
  try {
    await post("/api/auth/sign-out");
  } finally {
    setMe(null);
  }
}

export const totpSetup = () => post<TotpSetup>("/api/auth/totp/setup");

/** Turn two-factor on; the caller shows the recovery codes and then reloads `me`. */
export async function totpConfirm(code: string): Promise<string[]> {
  return (await post<{ recovery_codes: string[] }>("/api/auth/totp/confirm", { code })).recovery_codes;
}

export async function changePassword(current: string, next: string): Promise<void> {
  await post("/api/auth/password", { current_password: current, new_password: next });
  await loadMe();
}

export async function newRecoveryCodes(code: string): Promise<string[]> {
  return (await post<{ recovery_codes: string[] }>("/api/auth/recovery-codes", { code })).recovery_codes;
}

/** Forget the signed-in person locally (the server said 401: the session ended). */
export function forgetMe(): void {
  setMe(null);
}

/** The TOTP secret in groups of four, for typing into an authenticator by hand. */
export function groupSecret(secret: string): string {
  return (secret.replace(/\s+/g, "").match(/.{1,4}/g) ?? []).join(" ");
}

/** The QR as an image URL: the SVG never enters the DOM as markup. */
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}
