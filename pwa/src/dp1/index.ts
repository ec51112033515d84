// DP1, the door-service pass format (docs/spec/dp1.md), for the browser, the service worker and Node.
// No DOM: WebCrypto (Ed25519, SHA-256, HMAC-SHA1) and DecompressionStream only. verify() never throws.

import { BadSignature, Malformed, b45Decode, b45Encode, b64uDecode, b64uEncode, concat, decodeUtf8, equal, u32be, u64be, utf8 } from "./bytes";
import { type Value, decodeOne, encode } from "./msgpack";

export { BadSignature, Malformed, b45Decode, b45Encode, b64uDecode, b64uEncode };

// The fixed words, as crypto/enums.py spells them (tests/unit/test_enums.py checks the two agree).
/** The 13 result codes, in the spec's order of checks (§9.2). */
export const RESULTS = [
  "malformed", "unknown_issuer", "bad_issuer_sig", "bad_device_sig", "not_yet_valid", "expired",
  "stale", "future", "bad_code", "revoked", "red", "caution", "valid",
] as const;
export type Result = (typeof RESULTS)[number];
/** The result each 2-bit status-list value gives (§8.3), indexed by the value. */
export const STATUSES = ["valid", "caution", "red", "revoked"] as const satisfies readonly Result[];
/** The results the status entry decides: every check before it held; a scanned live frame with one is proof. */
export const STATUS_RESULTS: readonly Result[] = STATUSES;
/** The results after the issuer signature held: the identity on the credential is genuine. */
export const IDENTITY_RESULTS: readonly Result[] = RESULTS.slice(RESULTS.indexOf("bad_issuer_sig") + 1);

export const SERVICES = ["cleaning", "cooking", "childcare", "elderly", "maternity", "repair", "moving"] as const;
export type Service = (typeof SERVICES)[number];

export const STATUS_GREEN = 0, STATUS_YELLOW = 1, STATUS_RED = 2, STATUS_REVOKED = 3; // indexes of STATUSES
const STEP = 30;
const MAX_QR = 512;
const TAG_CRED = utf8.encode("DP1/cred\0");
const TAG_LIVE = utf8.encode("DP1/live\0");
const TAG_TRUST = utf8.encode("DP1/trust\0");
const TAG_STATUS = utf8.encode("DP1/status\0");

export interface Credential {
  kid: string;
  serial: number;
  statusIndex: number;
  issuedDay: number;
  expiresDay: number;
  name: string;
  agencyId: number;
  photoDigest: Uint8Array;
  devicePub: Uint8Array;
  services: number;
}

export interface Parsed {
  kind: "live" | "card";
  cred: Credential;
  credBytes: Uint8Array;
  issuerSig: Uint8Array;
  /** A bigint only past 2^53 (kept exact for the device signature; such a step is always "future"). */
  step?: number | bigint;
  code?: number;
  deviceSig?: Uint8Array;
}

export interface Issuer {
  kid: string;
  pub: Uint8Array;
  agencyId: number;
  name: string;
  notBefore: number;
  notAfter: number;
}

export interface TrustList {
  seq: number;
  issuedAt: number;
  statusPub: Uint8Array;
  issuers: Issuer[];
}

export interface StatusList {
  seq: number;
  issuedAt: number;
  size: number;
  raw: Uint8Array;
}

export interface Envelope {
  payload: string;
  sig: string;
}

export interface Verdict {
  result: Result;
  parsed?: Parsed;
  issuer?: Issuer;
  status?: number;
}

export const day = (t: number): number => Math.floor(t / 86400);

// ---------- shapes ----------

/** A MessagePack integer >= 0 (any integer format, as msgspec reads it; never bool, float or negative). */
const isUint = (v: Value): v is number | bigint => (typeof v === "number" || typeof v === "bigint") && v >= 0;
const isBin = (v: Value, len?: number): v is Uint8Array => v instanceof Uint8Array && (len === undefined || v.length === len);
const KID = /^[A-Za-z0-9_-]{1,16}$/;
/** A uint field of the credential as a number. Past 2^53 it is rounded, which changes no verdict:
 *  such a status_index reads as revoked, such an issued_day is never reached, such an expires_day never passed. */
const num = (v: number | bigint): number => Number(v);

export function decodeCred(bytes: Uint8Array): Credential {
  const a = decodeOne(bytes);
  if (!Array.isArray(a) || a.length !== 10) throw new Malformed("credential is not an array of 10");
  const [kid, serial, statusIndex, issuedDay, expiresDay, name, agencyId, photoDigest, devicePub, services] = a;
  if (typeof kid !== "string" || !KID.test(kid)) throw new Malformed("kid");
  if (typeof serial !== "number" || !isUint(serial) || serial >= 2 ** 53) throw new Malformed("serial");
  if (!isUint(statusIndex) || !isUint(issuedDay) || !isUint(expiresDay) || !isUint(agencyId) || !isUint(services))
    throw new Malformed("uint field");
  if (typeof name !== "string" || utf8.encode(name).length > 32) throw new Malformed("name");
  if (!isBin(photoDigest, 16) || !isBin(devicePub, 32)) throw new Malformed("digest or key length");
  return {
    kid, serial, statusIndex: num(statusIndex), issuedDay: num(issuedDay), expiresDay: num(expiresDay), name,
    agencyId: num(agencyId), photoDigest, devicePub, services: num(services),
  };
}

export function encodeCred(c: Credential): Uint8Array {
  const out = encode([c.kid, c.serial, c.statusIndex, c.issuedDay, c.expiresDay, c.name, c.agencyId, c.photoDigest, c.devicePub, c.services]);
  decodeCred(out);
  return out;
}

export function parseQr(text: unknown): Parsed {
  if (typeof text !== "string") throw new Malformed("QR content must be text");
  if (text.length > MAX_QR) throw new Malformed("longer than 512 characters");
  let kind: "live" | "card";
  let body: string;
  if (text.startsWith("DP1:")) [kind, body] = ["live", text.slice(4)];
  else if (text.startsWith("DP1S:")) [kind, body] = ["card", text.slice(5)];
  else throw new Malformed("prefix");
  const outer = decodeOne(b45Decode(body));
  if (!Array.isArray(outer)) throw new Malformed("frame is not an array");
  if (kind === "live") {
    if (outer.length !== 5) throw new Malformed("live frame is not an array of 5");
    const [credBytes, issuerSig, step, code, deviceSig] = outer;
    if (!isBin(credBytes) || !isBin(issuerSig, 64) || !isUint(step) || !isUint(code) || code > 999999 || !isBin(deviceSig, 64))
      throw new Malformed("live frame fields");
    return { kind, cred: decodeCred(credBytes), credBytes, issuerSig, step, code: Number(code), deviceSig };
  }
  if (outer.length !== 2) throw new Malformed("card is not an array of 2");
  const [credBytes, issuerSig] = outer;
  if (!isBin(credBytes) || !isBin(issuerSig, 64)) throw new Malformed("card fields");
  return { kind, cred: decodeCred(credBytes), credBytes, issuerSig };
}

// ---------- WebCrypto ----------

const subtle = (): SubtleCrypto => globalThis.crypto.subtle;
const buf = (b: Uint8Array): ArrayBuffer => b.slice().buffer as ArrayBuffer;

export async function sha256(b: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest("SHA-256", buf(b)));
}

const keyCache = new Map<string, Promise<CryptoKey>>();

export async function verifySig(pub: Uint8Array, sig: Uint8Array, msg: Uint8Array): Promise<boolean> {
  try {
    if (pub.length !== 32 || sig.length !== 64) return false;
    const id = b64uEncode(pub);
    let key = keyCache.get(id);
    if (!key) {
      key = subtle().importKey("raw", buf(pub), { name: "Ed25519" }, false, ["verify"]);
      if (keyCache.size > 256) keyCache.clear();
      keyCache.set(id, key);
    }
    return await subtle().verify({ name: "Ed25519" }, await key, buf(sig), buf(msg));
  } catch {
    return false;
  }
}

export function base32Decode(s: string): Uint8Array {
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const clean = s.toUpperCase().replace(/=+$/, "").replace(/\s/g, "");
  const out: number[] = [];
  let bits = 0, value = 0;
  for (const ch of clean) {
    const i = A.indexOf(ch);
    if (i < 0) throw new Malformed("not base32");
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

/** RFC 6238 TOTP: HMAC-SHA1 over u64be(step), 6 digits, as an integer; `secretB32` as the server hands it out. */
export async function totp(secretB32: string, step: number): Promise<number> {
  return totpRaw(base32Decode(secretB32), step);
}

/** TOTP with the raw key bytes (RFC 6238's test key is ASCII "12345678901234567890"). */
export async function totpRaw(secret: Uint8Array, step: number): Promise<number> {
  const key = await subtle().importKey("raw", buf(secret), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  const mac = new Uint8Array(await subtle().sign("HMAC", key, buf(u64be(step))));
  const o = mac[19] & 15;
  const bin = ((mac[o] & 0x7f) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3];
  return bin % 1_000_000;
}

/** What the device signs: "DP1/live\0" || SHA-256(cred) || u64be(step) || u32be(code). */
export async function liveMessage(credBytes: Uint8Array, step: number | bigint, code: number): Promise<Uint8Array> {
  return concat(TAG_LIVE, await sha256(credBytes), u64be(step), u32be(code));
}

export type Signer = (msg: Uint8Array) => Promise<Uint8Array>;

/** The QR text of a live frame for `step` and `code`; the device signs through `sign`
 *  (on the phone: a non-extractable WebCrypto Ed25519 key). Throws on arguments off the spec's shapes. */
export async function makeFrame(credBytes: Uint8Array, issuerSig: Uint8Array, step: number, code: number, sign: Signer): Promise<string> {
  decodeCred(credBytes);
  if (issuerSig.length !== 64) throw new Malformed("issuer signature must be 64 bytes");
  if (!Number.isSafeInteger(step) || step < 0) throw new Malformed("step");
  if (!Number.isInteger(code) || code < 0 || code > 999999) throw new Malformed("code");
  const deviceSig = await sign(await liveMessage(credBytes, step, code));
  if (!(deviceSig instanceof Uint8Array) || deviceSig.length !== 64) throw new Malformed("device signature must be 64 bytes");
  return "DP1:" + b45Encode(encode([credBytes, issuerSig, step, code, deviceSig]));
}

/** The live frame the phone shows at `now`: step and TOTP code from the clock and the secret, then `makeFrame`. */
export async function makeLiveQr(credBytes: Uint8Array, issuerSig: Uint8Array, secretB32: string, sign: Signer, now: number): Promise<{ qr: string; step: number; code: number }> {
  const step = Math.floor(now / STEP);
  const code = await totp(secretB32, step);
  return { qr: await makeFrame(credBytes, issuerSig, step, code, sign), step, code };
}

/** A printed card: "DP1S:" || base45([cred, issuer_sig]). */
export function makeCard(credBytes: Uint8Array, issuerSig: Uint8Array): string {
  decodeCred(credBytes);
  if (issuerSig.length !== 64) throw new Malformed("issuer signature must be 64 bytes");
  return "DP1S:" + b45Encode(encode([credBytes, issuerSig]));
}

// ---------- lists ----------

async function openEnvelope(env: unknown, pub: Uint8Array, tag: Uint8Array): Promise<Record<string, unknown>> {
  if (!env || typeof env !== "object") throw new Malformed("envelope");
  const { payload, sig } = env as Record<string, unknown>;
  if (typeof payload !== "string" || typeof sig !== "string") throw new Malformed("envelope fields");
  const p = b64uDecode(payload);
  if (!(await verifySig(pub, b64uDecode(sig), concat(tag, p)))) throw new BadSignature("list signature does not verify");
  let obj: unknown;
  try {
    obj = JSON.parse(decodeUtf8(p));
  } catch {
    throw new Malformed("payload is not JSON");
  }
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) throw new Malformed("payload");
  return obj as Record<string, unknown>;
}

const int = (v: unknown, min = 0): number => {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw new Malformed("integer field");
  return v;
};
const key32 = (v: unknown): Uint8Array => {
  if (typeof v !== "string") throw new Malformed("key");
  const k = b64uDecode(v);
  if (k.length !== 32) throw new Malformed("key length");
  return k;
};

export async function openTrust(env: unknown, rootPub: Uint8Array): Promise<TrustList> {
  const o = await openEnvelope(env, rootPub, TAG_TRUST);
  if (o.type !== "dp1-trust" || !Array.isArray(o.issuers)) throw new Malformed("not a trust list");
  const issuers = (o.issuers as unknown[]).map((i): Issuer => {
    if (!i || typeof i !== "object" || Array.isArray(i)) throw new Malformed("issuer");
    const r = i as Record<string, unknown>;
    if (typeof r.kid !== "string" || !KID.test(r.kid) || typeof r.name !== "string") throw new Malformed("issuer");
    return { kid: r.kid, pub: key32(r.pub), agencyId: int(r.agency_id), name: r.name, notBefore: int(r.not_before, -Infinity), notAfter: int(r.not_after, -Infinity) };
  });
  return { seq: int(o.seq), issuedAt: int(o.issued_at, -Infinity), statusPub: key32(o.status_pub), issuers };
}

async function inflateOnce(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([buf(data)]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** zlib (RFC 1950) inflate of exactly one stream with nothing after it. Chromium's DecompressionStream
 *  rejects bytes after the stream but Node 20's ignores them, so: the stream must also fail without its
 *  last byte, which holds only when that byte (the Adler-32's last) belongs to the stream. */
async function inflate(data: Uint8Array): Promise<Uint8Array> {
  const out = await inflateOnce(data);
  let trailing = true;
  try {
    await inflateOnce(data.subarray(0, data.length - 1));
  } catch {
    trailing = false;
  }
  if (trailing) throw new Malformed("bytes after the zlib stream");
  return out;
}

export async function openStatus(env: unknown, statusPub: Uint8Array): Promise<StatusList> {
  const o = await openEnvelope(env, statusPub, TAG_STATUS);
  if (o.type !== "dp1-status" || o.bits !== 2 || typeof o.list !== "string") throw new Malformed("not a status list");
  const size = int(o.size);
  if (size > 1 << 24) throw new Malformed("status list too large");
  let raw: Uint8Array;
  try {
    raw = await inflate(b64uDecode(o.list));
  } catch {
    throw new Malformed("status list: bad zlib stream");
  }
  if (raw.length !== Math.ceil(size / 4)) throw new Malformed("status list length does not match its size");
  return { seq: int(o.seq), issuedAt: int(o.issued_at, -Infinity), size, raw };
}

/** The 2-bit status at `index`; an index at or past `size` reads as revoked. */
export function statusAt(list: StatusList, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= list.size) return STATUS_REVOKED;
  return (list.raw[index >> 2] >> (6 - 2 * (index & 3))) & 3;
}

export function findIssuer(trust: TrustList, kid: string): Issuer | undefined {
  return trust.issuers.find((i) => i.kid === kid);
}

export function servicesOf(mask: number): Service[] {
  return SERVICES.filter((_, i) => Math.floor(mask / 2 ** i) % 2 === 1);
}

// ---------- verify ----------

/** The spec's checks in the spec's order, at Unix time `now`; online when `secret` is given. Never throws. */
export async function verify(qr: unknown, now: number, trust: TrustList, status: StatusList, secret?: string | null): Promise<Verdict> {
  if (typeof now !== "number" || !Number.isFinite(now)) return { result: "malformed" };
  try {
    return await verifyInner(qr, now, trust, status, secret ?? null);
  } catch {
    return { result: "malformed" };
  }
}

async function verifyInner(qr: unknown, now: number, trust: TrustList, status: StatusList, secret: string | null): Promise<Verdict> {
  let p: Parsed;
  try {
    p = parseQr(qr);
  } catch {
    return { result: "malformed" };
  }
  const c = p.cred;
  const issuer = findIssuer(trust, c.kid);
  if (!issuer || now < issuer.notBefore || now > issuer.notAfter) return { result: "unknown_issuer", parsed: p };
  if (!(await verifySig(issuer.pub, p.issuerSig, concat(TAG_CRED, p.credBytes)))) return { result: "bad_issuer_sig", parsed: p, issuer };
  const live = p.kind === "live";
  if (live && !(await verifySig(c.devicePub, p.deviceSig!, await liveMessage(p.credBytes, p.step!, p.code!))))
    return { result: "bad_device_sig", parsed: p, issuer };
  const today = day(now);
  if (today < c.issuedDay) return { result: "not_yet_valid", parsed: p, issuer };
  if (today > c.expiresDay) return { result: "expired", parsed: p, issuer };
  if (live) {
    const current = Math.floor(now / STEP);
    const step = p.step!; // number < bigint comparisons are exact
    if (step < current - 1) return { result: "stale", parsed: p, issuer };
    if (step > current + 1) return { result: "future", parsed: p, issuer };
    if (secret !== null && (await totp(secret, Number(step))) !== p.code) return { result: "bad_code", parsed: p, issuer };
  }
  const value = statusAt(status, c.statusIndex);
  return { result: STATUSES[value], parsed: p, issuer, status: value };
}

export { equal };
