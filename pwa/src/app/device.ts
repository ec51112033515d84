// This phone's device key, and the sync requests it proves (docs/devices.md). No DOM: the service worker
// runs the outbox too, so only IndexedDB, WebCrypto, TextEncoder and fetch are used here.
import { b64uEncode, concat, utf8 } from "../dp1/bytes";
import { type StoredPass, db, kvGet, kvSet } from "./store";

export interface Device {
  keys: CryptoKeyPair;
  /** The raw 32-byte Ed25519 public key. */
  pub: Uint8Array;
  /** "d" + b64u(SHA-256("DP1/device\0" || pub))[0:22]: 23 characters. */
  id: string;
}

/** A registration or a signed request that failed before the server answered it (`status` 0) or was refused. */
export class DeviceError extends Error {
  constructor(readonly status: number, readonly code: string) {
    super(`device ${code} (${status})`);
  }
}

const buf = (b: Uint8Array): ArrayBuffer => b.slice().buffer as ArrayBuffer;

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

async function sha256(b: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf(b)));
}

/** The device id of a raw public key. */
export async function idOf(pub: Uint8Array): Promise<string> {
  return "d" + b64uEncode(await sha256(concat(utf8.encode("DP1/device\0"), pub))).slice(0, 22);
}

async function describe(keys: CryptoKeyPair): Promise<Device> {
  const pub = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
  return { keys, pub, id: await idOf(pub) };
}

/** This phone's key: the one its pass is bound to if it holds a pass (enrollment made it), else the one it made
 * at first use. Either way it is kept in `kv` under `device_key` (its id under `device_id`). */
export async function device(): Promise<Device> {
  const d = await db();
  const tx = d.transaction(["kv", "pass"], "readonly");
  const [pass, held, heldId] = await Promise.all([
    tx.objectStore("pass").get("current") as Promise<StoredPass | undefined>,
    tx.objectStore("kv").get("device_key") as Promise<CryptoKeyPair | undefined>,
    tx.objectStore("kv").get("device_id") as Promise<string | undefined>,
    tx.done,
  ]);
  if (pass) {
    const dev = await describe(pass.keys);
    if (heldId !== dev.id || !held) {
      const w = d.transaction("kv", "readwrite");
      await Promise.all([w.store.put(pass.keys, "device_key"), w.store.put(dev.id, "device_id"), w.done]);
    }
    return dev;
  }
  if (held) {
    const dev = await describe(held);
    if (heldId !== dev.id) await kvSet("device_id", dev.id);
    return dev;
  }
  // First use: make a key, and keep whichever is stored first (another tab or the service worker may race us).
  const made = (await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"])) as CryptoKeyPair;
  const w = d.transaction("kv", "readwrite");
  const raced = (await w.store.get("device_key")) as CryptoKeyPair | undefined;
  if (!raced) await w.store.put(made, "device_key");
  await w.done;
  const dev = await describe(raced ?? made);
  await kvSet("device_id", dev.id);
  return dev;
}

/** This phone's device id, derived from its key (docs/devices.md). */
export async function deviceId(): Promise<string> {
  return (await device()).id;
}

/** Unix seconds on the server-corrected clock. */
export async function serverNow(): Promise<number> {
  const offset = (await kvGet<number>("clock_offset")) ?? 0;
  return Math.floor(Date.now() / 1000 + offset);
}

/** Correct the clock from a time the server gave (e.g. in a 401 `device_clock`). */
export async function setServerTime(serverTime: number): Promise<void> {
  await kvSet("clock_offset", Math.round(serverTime - Date.now() / 1000));
}

/** Register this phone's key with the server (`POST /api/sync/devices`), once: the flag in `kv` holds the id it
 * registered. `again` registers even so (the server said it does not know this device). Throws DeviceError. */
export async function register(again = false): Promise<string> {
  const dev = await device();
  if (!again && (await kvGet<string>("device_registered")) === dev.id) return dev.id;
  let r: Response;
  try {
    r = await fetch("/api/sync/devices", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ device_pub: b64uEncode(dev.pub) }),
      cache: "no-store",
    });
  } catch {
    throw new DeviceError(0, "network");
  }
  let body: { device_id?: string; error?: string } = {};
  try {
    body = await r.json();
  } catch {
    /* not JSON: judged by the status below */
  }
  if (!r.ok) throw new DeviceError(r.status, body.error ?? "http");
  if (body.device_id !== dev.id) throw new DeviceError(r.status, "device_id");
  await kvSet("device_registered", dev.id);
  return dev.id;
}

/** b64u(Ed25519(device key, domain || UTF-8(text))): a record ("DP1/record\0") or a visit code ("DP1/visit\0"),
 * signed on the phone, offline too (docs/devices.md). */
export async function signText(domain: string, text: string, dev?: Device): Promise<string> {
  const d = dev ?? (await device());
  const m = concat(utf8.encode(domain), utf8.encode(text));
  return b64uEncode(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, d.keys.privateKey, buf(m))));
}

/** The three headers that prove a sync request: M = "DP1/request\0" || METHOD "\n" PATH_AND_QUERY "\n" TIME "\n"
 * hex(SHA-256(BODY)), signed with the device key. `body` must be the exact bytes sent (empty for a GET). */
export async function signedHeaders(method: string, pathAndQuery: string, body: Uint8Array = new Uint8Array()): Promise<Record<string, string>> {
  const dev = await device();
  const time = String(await serverNow());
  const m = concat(utf8.encode(`DP1/request\0${method.toUpperCase()}\n${pathAndQuery}\n${time}\n`), utf8.encode(hex(await sha256(body))));
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, dev.keys.privateKey, buf(m)));
  return { "X-DoorPass-Device": dev.id, "X-DoorPass-Time": time, "X-DoorPass-Signature": b64uEncode(sig) };
}

/** A signed sync request: registers first (once), signs the exact bytes it sends, and on a 401 signs again
 * once, after correcting the clock (`device_clock`) or registering again (`device_unproved`). Throws
 * DeviceError when the request or the registration gets no answer (status 0) or registration is refused.
 * `beforeSend` runs once, when the request is signed and about to leave (the outbox marks its records sending).
 * `extraHeaders` adds headers to each try (a staff session's CSRF token, when tying the phone to an outlet). */
export async function signedFetch(
  method: "GET" | "POST", pathAndQuery: string, body?: Uint8Array, beforeSend?: () => Promise<void>,
  extraHeaders: () => Record<string, string> = () => ({}),
): Promise<Response> {
  await register();
  for (let attempt = 0; ; attempt++) {
    const headers = { ...extraHeaders(), ...(await signedHeaders(method, pathAndQuery, body)) };
    if (attempt === 0) await beforeSend?.();
    let r: Response;
    try {
      r = await fetch(pathAndQuery, {
        method,
        headers: body ? { "content-type": "application/json", ...headers } : headers,
        body: body ? buf(body) : undefined,
        cache: "no-store",
      });
    } catch {
      throw new DeviceError(0, "network");
    }
    if (r.status !== 401 || attempt > 0) return r;
    let answer: { error?: string; detail?: { server_time?: unknown }[] } = {};
    try {
      answer = await r.clone().json();
    } catch {
      return r;
    }
    const serverTime = answer.detail?.find((x) => typeof x?.server_time === "number")?.server_time as number | undefined;
    if (answer.error === "device_clock" && serverTime !== undefined) await setServerTime(serverTime);
    else if (answer.error === "device_unproved") await register(true);
    else return r;
  }
}
