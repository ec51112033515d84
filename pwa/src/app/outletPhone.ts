// An outlet's phone: tied to its outlet by an outlet staff account signed in on it, untied at sign-out
// (docs/devices.md, Record rules that use the device). The tie is kept in `kv` (`outlet_bound`: the outlet id,
// `outlet_name`), so the phone keeps opening sessions and checking trainees in offline.
import { DeviceError, device, signedFetch } from "./device";
import { setOutlet, syncOutbox } from "./outbox";
import { db, kvGet } from "./store";

export interface OutletTie {
  outlet_id: number;
  outlet_name: string;
}

/** The outlet this phone is tied to, if any. */
export async function boundOutlet(): Promise<OutletTie | null> {
  const [id, name] = await Promise.all([kvGet<number>("outlet_bound"), kvGet<string>("outlet_name")]);
  return typeof id === "number" ? { outlet_id: id, outlet_name: name ?? `#${id}` } : null;
}

/** Why a tie failed: the server's words (zh-CN, English) when it gave them. */
export class TieError extends Error {
  constructor(readonly status: number, readonly code: string, readonly zh = "", readonly en = "") {
    super(`outlet tie ${code} (${status})`);
  }
}

const encode = (x: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(x));

/** Tie this phone to the signed-in outlet staff's outlet: `POST /api/sync/devices/outlet`, signed by the device key
 * over the exact body and carrying the staff session (cookie) and its CSRF token. Remembers the tie and pulls the
 * outlet's sessions from the start. Throws TieError (status 0: no answer). */
export async function tieOutlet(csrf: () => string): Promise<OutletTie> {
  const dev = await device();
  await (await db()).delete("kv", "outlet_unbind_pending"); // a sign-out's pending untie must not undo this tie
  let r: Response;
  try {
    r = await signedFetch("POST", "/api/sync/devices/outlet", encode({ device_id: dev.id }), undefined,
      () => ({ "x-csrf-token": csrf() }));
  } catch (e) {
    throw new TieError(e instanceof DeviceError ? e.status : 0, e instanceof DeviceError ? e.code : "network");
  }
  let body: { outlet_id?: unknown; outlet_name?: unknown; device_id?: unknown; error?: string; message?: string; message_en?: string } = {};
  try {
    body = await r.json();
  } catch {
    /* judged by the status below */
  }
  if (!r.ok || typeof body.outlet_id !== "number" || body.device_id !== dev.id)
    throw new TieError(r.status, body.error ?? "http", body.message ?? "", body.message_en ?? "");
  const tie = { outlet_id: body.outlet_id, outlet_name: typeof body.outlet_name === "string" ? body.outlet_name : `#${body.outlet_id}` };
  const tx = (await db()).transaction("kv", "readwrite");
  const open = (await tx.store.get("outlet_session")) as { outlet_id?: number } | null | undefined;
  await Promise.all([
    tx.store.put(tie.outlet_id, "outlet_bound"), tx.store.put(tie.outlet_name, "outlet_name"),
    // A session of another outlet is not this phone's any more.
    open && open.outlet_id !== tie.outlet_id ? tx.store.put(null, "outlet_session") : Promise.resolve(),
    tx.done,
  ]);
  await setOutlet(tie.outlet_id);
  return tie;
}

/** Send the untie a sign-out left (`POST /api/sync/devices/outlet/unbind`, signed, no staff session needed).
 * True when it is done (or none was waiting). */
export async function sendPendingUntie(): Promise<boolean> {
  const pending = await kvGet<string>("outlet_unbind_pending");
  if (!pending) return true;
  try {
    const r = await signedFetch("POST", "/api/sync/devices/outlet/unbind", encode({ device_id: pending }));
    if (!r.ok && r.status !== 403 && r.status !== 404) return false;
  } catch {
    return false;
  }
  const tx = (await db()).transaction("kv", "readwrite");
  if ((await tx.store.get("outlet_unbind_pending")) === pending) await tx.store.delete("outlet_unbind_pending");
  await tx.done;
  return true;
}

const within = <T>(ms: number, p: Promise<T>): Promise<T | undefined> =>
  Promise.race([p, new Promise<undefined>((res) => setTimeout(() => res(undefined), ms))]);

/** At sign-out on an outlet's phone: what it saved goes first (best effort), then the phone is untied on the server
 * and forgets its outlet. Offline, the phone forgets at once and the untie waits for the next sync (after the
 * records it still holds). Never throws: sign-out works offline. */
export async function untieOutlet(): Promise<void> {
  try {
    if (!(await boundOutlet())) return;
    const dev = await device();
    const tx = (await db()).transaction("kv", "readwrite");
    await Promise.all([
      tx.store.put(dev.id, "outlet_unbind_pending"), tx.store.delete("outlet_bound"), tx.store.delete("outlet_name"),
      // The next tie pulls its outlet's sessions from the start again.
      tx.store.delete("outlet_id"), tx.store.put(null, "outlet_session"), tx.done,
    ]);
    if (!navigator.onLine) return;
    await within(10_000, (async () => {
      const sent = await syncOutbox(true);
      if (!sent.error) await sendPendingUntie();
    })());
  } catch {
    /* best effort: the untie is sent with the next sync */
  }
}
