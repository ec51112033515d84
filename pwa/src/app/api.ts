// Our own server only. Every call has a time-out and turns failures into an ApiError a person can read.
import { pick, t } from "../i18n";

export class ApiError extends Error {
  /** `retryAfter`: seconds to wait, when the server said so (`Retry-After` on a 429 or 503). */
  constructor(message: string, readonly status: number, readonly code: string, readonly retryAfter: number | null = null) {
    super(message);
  }
}

/** GET (no body) or POST JSON to our server; `headers` adds to the request's (e.g. a staff session's CSRF token). */
export async function api<T>(path: string, body?: unknown, timeoutMs = 8000, headers: Record<string, string> = {}): Promise<T> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  let r: Response;
  try {
    r = await fetch(path, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      signal: ctl.signal,
    });
  } catch {
    throw new ApiError(t("error.network"), 0, "network");
  } finally {
    clearTimeout(timer);
  }
  let data: Record<string, unknown> = {};
  try {
    data = await r.json();
  } catch {
    /* a body that is not JSON: handled below */
  }
  if (!r.ok) {
    const msg = pick(data.message as string, data.message_en as string) || (r.status >= 500 ? t("error.server") : `HTTP ${r.status}`);
    const wait = Number(r.headers.get("retry-after"));
    throw new ApiError(msg, r.status, (data.error as string) || "http", Number.isFinite(wait) && wait > 0 ? wait : null);
  }
  return data as T;
}
