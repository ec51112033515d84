// The outbox: every record is saved on the phone (with its id and sequence number) before the UI
// says saved, and leaves only on its receipt. Runs in pages and in the service worker (no DOM).
import { DeviceError, device, deviceId, serverNow, signText, signedFetch } from "./device";
import { type OutboxRecord, type RecordState, type VersionRefusal, db, kvGet } from "./store";
import { PROTOCOL, SCHEMA } from "./syncVersion";

const BATCH = 100;
const BASE_DELAY = 5_000;
const MAX_DELAY = 15 * 60_000;
export const WARN_AFTER = 3 * 86400;
const listeners = new Set<() => void>();

export function onOutbox(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

function changed(): void {
  listeners.forEach((f) => f());
  try {
    new BroadcastChannel("doorpass-outbox").postMessage("changed");
  } catch {
    /* no BroadcastChannel: this context only */
  }
}

try {
  new BroadcastChannel("doorpass-outbox").onmessage = () => listeners.forEach((f) => f());
} catch {
  /* ignore */
}

/** RFC 9562 UUIDv7: time-ordered, made on the device. */
export function uuid7(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  const ms = Date.now();
  for (let i = 0; i < 6; i++) b[i] = Math.floor(ms / 2 ** (8 * (5 - i))) & 255;
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The signature a record's text carries (docs/devices.md, Signed records). */
export const RECORD_DOMAIN = "DP1/record\0";

/** Save a record on the phone: its JSON text is made once and signed with the device key (offline too), and it is
 * stored with the sequence number that text carries in one IndexedDB transaction (made again, in the rare case
 * another tab or the service worker took that number while this one was signing). Online, it leaves at once.
 * `at`: when it happened, if not now (a review carries the moment its visit was verified). */
export async function addRecord(kind: string, fields: Record<string, unknown>, summary: string, when?: number): Promise<OutboxRecord> {
  return saveRecord(kind, fields, summary, when);
}

/** Why a correction or a discard did not happen: the record is no longer one that needs attention (another tab
 * acted on it, or a late receipt delivered it). */
export class NotAttention extends Error {}

async function saveRecord(kind: string, fields: Record<string, unknown>, summary: string, when?: number, replaces?: string): Promise<OutboxRecord> {
  const d = await db();
  const dev = await device();
  const at = when ?? (await serverNow());
  const discardedAt = replaces !== undefined ? await serverNow() : 0;
  const id = uuid7();
  for (;;) {
    const seq = (((await d.get("kv", "outbox_seq")) as number | undefined) ?? 0) + 1;
    const body = { kind, id, seq, at, ...fields };
    const text = JSON.stringify(body);
    const sig = await signText(RECORD_DOMAIN, text, dev);
    const tx = d.transaction(["kv", "outbox"], "readwrite");
    const held = ((await tx.objectStore("kv").get("outbox_seq")) as number | undefined) ?? 0;
    if (held !== seq - 1) {
      await tx.done;
      continue;
    }
    // A correction sets the record it corrects aside in the same transaction: never both sent, never neither kept.
    const old = replaces === undefined ? undefined : await tx.objectStore("outbox").get(replaces);
    if (replaces !== undefined && (!old || old.state !== "attention")) {
      await tx.done;
      throw new NotAttention(replaces);
    }
    const rec: OutboxRecord = {
      id, seq, kind, body, text, sig, state: "saved", createdAt: at, attempts: 0, nextTry: 0, summary,
      ...(replaces !== undefined ? { replaces } : {}),
    };
    const writes: Promise<unknown>[] = [tx.objectStore("kv").put(seq, "outbox_seq"), tx.objectStore("outbox").put(rec)];
    if (old) writes.push(tx.objectStore("outbox").put({ ...old, state: "discarded", discardedAt, replacedBy: id }));
    await Promise.all([...writes, tx.done]);
    changed();
    pushAtOnce();
    return rec;
  }
}

/** Correct a record that needs attention: a NEW record of the same kind and moment (`at`: the moment its proof was
 * made), with a new id and sequence number, signed anew, carrying `fields` (the kind's fields, corrected). The old
 * record stays on the phone, `discarded` and pointing to the new one. Throws NotAttention when it no longer needs
 * attention. */
export async function correctRecord(old: OutboxRecord, fields: Record<string, unknown>, summary: string): Promise<OutboxRecord> {
  return saveRecord(old.kind, fields, summary, old.createdAt, old.id);
}

/** Set aside a record that needs attention: kept on the phone as `discarded` (with when), never sent. */
export async function discardRecord(id: string): Promise<void> {
  const at = await serverNow();
  const tx = (await db()).transaction("outbox", "readwrite");
  const r = await tx.store.get(id);
  if (!r || r.state !== "attention") {
    await tx.done;
    throw new NotAttention(id);
  }
  r.state = "discarded";
  r.discardedAt = at;
  await Promise.all([tx.store.put(r), tx.done]);
  changed();
}

/** A record saved while online leaves now, not on the next timer: one push of what waits, in order, under the same
 * Web Lock as every other (a push already under way finishes first, then this one takes what is left). Offline, the
 * record waits for the `online` event, focus, the timer or Background Sync. */
function pushAtOnce(): void {
  void requestBackgroundSync();
  if (typeof navigator === "undefined" || navigator.onLine === false) return;
  void syncOutbox(true).catch(() => undefined);
}

/** A record saved by an app from before signed records has no text yet: it is made and signed once, and kept, so
 * every resend is the same bytes (a replay is then a `duplicate`). */
async function ensureSigned(records: OutboxRecord[]): Promise<OutboxRecord[]> {
  const unsigned = records.filter((r) => r.text === undefined || r.sig === undefined);
  if (!unsigned.length) return records;
  const dev = await device();
  const made = new Map<string, { text: string; sig: string }>();
  for (const r of unsigned) {
    const text = JSON.stringify(r.body);
    made.set(r.id, { text, sig: await signText(RECORD_DOMAIN, text, dev) });
  }
  const kept = new Map<string, OutboxRecord>();
  await setState([...made.keys()], (r) => {
    if (r.text === undefined || r.sig === undefined) Object.assign(r, made.get(r.id));
    kept.set(r.id, r);
  });
  return records.map((r) => kept.get(r.id) ?? r);
}

/** The phone's records, newest first; those discarded only when asked for (the records page shows them apart). */
export async function allRecords(withDiscarded = false): Promise<OutboxRecord[]> {
  const all = (await (await db()).getAllFromIndex("outbox", "seq")).reverse();
  return withDiscarded ? all : all.filter((r) => r.state !== "discarded");
}

export async function waitingCount(): Promise<number> {
  const d = await db();
  return (await d.countFromIndex("outbox", "state", "saved")) + (await d.countFromIndex("outbox", "state", "sending"));
}

async function requestBackgroundSync(): Promise<void> {
  try {
    const reg = await navigator.serviceWorker?.ready;
    await (reg as unknown as { sync?: { register(tag: string): Promise<void> } })?.sync?.register("doorpass-outbox");
  } catch {
    /* Background Sync is optional: the app also syncs on open, online, focus and a timer */
  }
}

interface Receipt {
  index: number;
  id: string | null;
  status: "applied" | "duplicate" | "conflict" | "rejected";
  reason: string;
  reason_en: string;
  original: string | null;
  server_time: number;
}

export type SyncResult = { sent: number; delivered: number; attention: number; error?: "network" | "server" | "auth" | "version" };

async function setState(ids: string[], patch: (r: OutboxRecord) => void): Promise<void> {
  const tx = (await db()).transaction("outbox", "readwrite");
  for (const id of ids) {
    const r = await tx.store.get(id);
    if (r) {
      patch(r);
      await tx.store.put(r);
    }
  }
  await tx.done;
}

const MAX_BATCH_BYTES = 2_000_000;

/** Batches of at most 100 records and about 2 MB (complaint photos are large), in sequence order. */
function batches(records: OutboxRecord[]): OutboxRecord[][] {
  const out: OutboxRecord[][] = [];
  let cur: OutboxRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = (r.text ?? JSON.stringify(r.body)).length + (r.sig?.length ?? 86) + 20;
    if (cur.length && (cur.length >= BATCH || bytes + size > MAX_BATCH_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(r);
    bytes += size;
  }
  if (cur.length) out.push(cur);
  return out;
}

async function pushOnce(force: boolean): Promise<SyncResult> {
  const d = await db();
  const now = Date.now();
  const all = [...(await d.getAllFromIndex("outbox", "state", "saved")), ...(await d.getAllFromIndex("outbox", "state", "sending"))]
    .sort((a, b) => a.seq - b.seq);
  // Records leave in the order they were made: the due ones up to the first that is not due yet (a check-out never
  // overtakes its check-in, nor an attendance its session).
  const firstWaiting = force ? -1 : all.findIndex((r) => r.nextTry > now);
  const waiting = await ensureSigned(firstWaiting < 0 ? all : all.slice(0, firstWaiting));
  const result: SyncResult = { sent: 0, delivered: 0, attention: 0 };
  const devId = await deviceId();
  for (const batch of batches(waiting)) {
    const sending = async () => {
      await setState(batch.map((r) => r.id), (r) => (r.state = "sending"));
      changed();
    };
    let resp: Response | null = null;
    let failed: SyncResult["error"];
    try {
      // Encoded once: the bytes signed are the bytes sent (docs/devices.md). Each record travels as the text it
      // was saved as, with its own signature.
      const records = batch.map((r) => ({ body: r.text, sig: r.sig }));
      const bytes = new TextEncoder().encode(JSON.stringify({ device_id: devId, protocol: PROTOCOL, schema: SCHEMA, records }));
      resp = await signedFetch("POST", "/api/sync/push", bytes, sending);
    } catch (e) {
      // No answer, or this phone's key could not be registered: the records wait on the phone all the same.
      const status = e instanceof DeviceError ? e.status : 0;
      failed = status === 0 ? "network" : status >= 500 || status === 408 || status === 429 ? "server" : "auth";
    }
    const refused = resp?.status === 400 ? await versionRefusal(resp.clone()) : undefined;
    if (!resp || refused || resp.status >= 500 || resp.status === 401 || resp.status === 408 || resp.status === 429) {
      // Keep every record; try again later with exponential backoff and jitter (and at once after an app update).
      await setState(batch.map((r) => r.id), (r) => {
        r.state = "saved";
        if (refused) r.versionHeld = refused;
        r.attempts += 1;
        const delay = Math.min(MAX_DELAY, BASE_DELAY * 2 ** Math.min(r.attempts, 10));
        r.nextTry = Date.now() + delay / 2 + Math.random() * (delay / 2);
      });
      changed();
      result.error = !resp ? (failed ?? "network") : refused ? "version" : resp.status === 401 ? "auth" : "server";
      if (refused === "update_required") checkForUpdate();
      return result;
    }
    let receipts: Receipt[] = [];
    let reasonAll: [string, string] | null = null;
    try {
      const body = await resp.json();
      if (resp.ok) receipts = body.receipts;
      else reasonAll = [body.message ?? `HTTP ${resp.status}`, body.message_en ?? `HTTP ${resp.status}`];
    } catch {
      reasonAll = [`HTTP ${resp.status}`, `HTTP ${resp.status}`];
    }
    const byId = new Map(receipts.map((r) => [r.id, r]));
    await setState(batch.map((r) => r.id), (r) => {
      const rc = byId.get(r.id);
      result.sent += 1;
      delete r.versionHeld;
      if (!rc) {
        r.state = "attention";
        [r.reason, r.reasonEn] = reasonAll ?? ["服务器没有回执", "No receipt from the server"];
        result.attention += 1;
        return;
      }
      const ok = rc.status === "applied" || (rc.status === "duplicate" && rc.original === "applied");
      r.state = ok ? "delivered" : "attention";
      r.deliveredAt = rc.server_time;
      if (ok) result.delivered += 1;
      else {
        result.attention += 1;
        r.reason = rc.reason;
        r.reasonEn = rc.reason_en;
      }
    });
    changed();
  }
  return result;
}

/** A push refused for its sync version (400 `update_required` or `unsupported_version`): nothing was stored. */
async function versionRefusal(resp: Response): Promise<VersionRefusal | undefined> {
  try {
    const code = ((await resp.json()) as { error?: string }).error;
    return code === "update_required" || code === "unsupported_version" ? code : undefined;
  } catch {
    return undefined;
  }
}

/** Ask for the new app now: the update prompt shows once its service worker is waiting. */
function checkForUpdate(): void {
  try {
    void navigator.serviceWorker?.getRegistration().then((reg) => reg?.update()).catch(() => undefined);
  } catch {
    /* no service worker here: the app checks again on its next start */
  }
}

/** Send what waits. A Web Lock keeps two tabs (or a tab and the service worker) from sending at once. */
export async function syncOutbox(force = false): Promise<SyncResult> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks) return pushOnce(force);
  return (await locks.request("doorpass-outbox", () => pushOnce(force))) as SyncResult;
}

export function stateOf(r: OutboxRecord): RecordState {
  return r.state;
}

interface Pulled {
  cursor: number;
  more: boolean;
  records: { id: string; status: string; reason: string; reason_en: string; received_at: number }[];
  reviews: { id: string; serial: number; stars: number; tags: string[]; comment: string; at: number }[];
  sessions: { session_id: string; course: string; day: string }[];
  /** With `serial`: the pass's own state, colour and reason (the pass screen says why it is not green). */
  pass_status?: { state: string; colour: string; reason: string; reason_en: string; updated_at: number } | null;
}

/** A training session of this phone's outlet, opened on any staff phone; staff can join it. */
export interface OutletSession {
  session_id: string;
  outlet_id: number;
  course: string;
  day: string;
}

/** Pull what the server holds for this phone since the last cursor: receipts of its own records (a receipt
 * lost on the way is recovered here), reviews about this phone's worker, and its outlet's training sessions. One pull at a time across tabs
 * (a Web Lock), and each page's cursor is stored in the same transaction as what it brought: two syncs
 * started together (app open, `online`, focus) can neither skip nor forget a review. */
export async function pullOnce(serial?: number, outletId?: number): Promise<void> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks) return pullPages(serial, outletId);
  await locks.request("doorpass-pull", () => pullPages(serial, outletId));
}

async function pullPages(serial?: number, outletId?: number): Promise<void> {
  const devId = await deviceId();
  try {
    for (let page = 0; page < 20; page++) {
      const cursor = (await kvGet<number>("pull_cursor")) ?? 0;
      const q = new URLSearchParams({ device_id: devId, cursor: String(cursor) });
      if (serial !== undefined) q.set("serial", String(serial));
      if (outletId !== undefined) q.set("outlet_id", String(outletId));
      const r = await signedFetch("GET", `/api/sync/pull?${q}`);
      if (!r.ok) return;
      const body = (await r.json()) as Pulled;
      const held = new Map(body.records.map((x) => [x.id, x]));
      await setState([...held.keys()], (rec) => {
        const x = held.get(rec.id)!;
        if (rec.state === "saved" || rec.state === "sending") {
          rec.state = x.status === "applied" ? "delivered" : "attention";
          rec.deliveredAt = x.received_at;
          if (x.status !== "applied") [rec.reason, rec.reasonEn] = [x.reason, x.reason_en];
        }
      });
      const tx = (await db()).transaction("kv", "readwrite");
      const reviews = ((await tx.store.get("my_reviews")) ?? []) as Pulled["reviews"];
      for (const rv of body.reviews) if (rv.serial === serial && !reviews.some((o) => o.id === rv.id)) reviews.push(rv);
      const sessions = ((await tx.store.get("outlet_sessions")) ?? []) as OutletSession[];
      if (outletId !== undefined)
        for (const x of body.sessions ?? [])
          if (!sessions.some((o) => o.session_id === x.session_id)) sessions.push({ ...x, outlet_id: outletId });
      await Promise.all([
        tx.store.put(reviews, "my_reviews"), tx.store.put(sessions.slice(-50), "outlet_sessions"),
        ...(serial !== undefined && body.pass_status ? [tx.store.put(body.pass_status, "pass_status")] : []),
        tx.store.put(body.cursor, "pull_cursor"), tx.done,
      ]);
      if (!body.more) break;
    }
  } finally {
    changed();
  }
}

/** This phone's outlet (outlet staff): its sessions come with every pull. A new outlet pulls again from the
 * start, so sessions opened before it was set are found too (a pull repeats nothing it already applied). */
export async function setOutlet(outletId: number): Promise<void> {
  const tx = (await db()).transaction("kv", "readwrite");
  if ((await tx.store.get("outlet_id")) !== outletId) {
    await Promise.all([tx.store.put(outletId, "outlet_id"), tx.store.put(0, "pull_cursor"), tx.done]);
  }
}
