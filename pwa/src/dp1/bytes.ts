// Byte helpers: base64url, base45 (RFC 9285), concatenation, comparison.

/** Input off the spec's shapes. */
export class Malformed extends Error {}
/** A list whose signature does not verify. */
export class BadSignature extends Error {}

export const utf8 = new TextEncoder();
// ignoreBOM: a leading U+FEFF is part of the text (a kid "\uFEFFagency-A" is not "agency-A").
const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function decodeUtf8(b: Uint8Array): string {
  try {
    return utf8Strict.decode(b);
  } catch {
    throw new Malformed("invalid UTF-8");
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

const B64U = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

export function b64uEncode(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    s += B64U[(n >> 18) & 63] + B64U[(n >> 12) & 63];
    if (i + 1 < b.length) s += B64U[(n >> 6) & 63];
    if (i + 2 < b.length) s += B64U[n & 63];
  }
  return s;
}

/** base64url without padding, strictly as Python's `b64u_decode`: no `=`, no other characters, and a
 * canonical last character, so each byte string has exactly one accepted text (the one b64uEncode makes). */
export function b64uDecode(text: string): Uint8Array {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new Malformed("not unpadded base64url");
  }
  const s = text;
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const n =
      (B64U.indexOf(s[i]) << 18) |
      (B64U.indexOf(s[i + 1]) << 12) |
      ((i + 2 < s.length ? B64U.indexOf(s[i + 2]) : 0) << 6) |
      (i + 3 < s.length ? B64U.indexOf(s[i + 3]) : 0);
    out[o++] = (n >> 16) & 255;
    if (i + 2 < s.length) out[o++] = (n >> 8) & 255;
    if (i + 3 < s.length) out[o++] = n & 255;
  }
  if (b64uEncode(out) !== text) throw new Malformed("non-canonical base64url (stray bits in the last character)");
  return out;
}

const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

export function b45Encode(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i + 1 < b.length; i += 2) {
    let n = b[i] * 256 + b[i + 1];
    const c = n % 45;
    n = (n - c) / 45;
    s += B45[c] + B45[n % 45] + B45[Math.floor(n / 45)];
  }
  if (b.length % 2) s += B45[b[b.length - 1] % 45] + B45[Math.floor(b[b.length - 1] / 45)];
  return s;
}

export function b45Decode(text: string): Uint8Array {
  const v: number[] = [];
  for (const ch of text) {
    const i = B45.indexOf(ch);
    if (i < 0) throw new Malformed("character outside base45");
    v.push(i);
  }
  if (v.length % 3 === 1) throw new Malformed("base45 length");
  const out: number[] = [];
  for (let i = 0; i + 2 < v.length; i += 3) {
    const n = v[i] + v[i + 1] * 45 + v[i + 2] * 2025;
    if (n > 0xffff) throw new Malformed("base45 triple out of range");
    out.push(n >> 8, n & 255);
  }
  if (v.length % 3 === 2) {
    const n = v[v.length - 2] + v[v.length - 1] * 45;
    if (n > 0xff) throw new Malformed("base45 pair out of range");
    out.push(n);
  }
  return Uint8Array.from(out);
}

export function u64be(x: number | bigint): Uint8Array {
  const v = BigInt(x); // throws on a fraction
  if (v < 0n || v >= 2n ** 64n) throw new RangeError("u64 out of range");
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v);
  return out;
}

export function u32be(x: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, x >>> 0);
  return out;
}
