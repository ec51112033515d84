// The MessagePack subset DP1 uses, decoded strictly: integers, str, bin and arrays only.
// nil, bool, float, map and ext never fit a DP1 shape, so they are Malformed at once.
// Hand-written rather than @msgpack/msgpack: that library decodes float 5.0 to the same `5` as
// uint 5 and decodes invalid UTF-8 without complaint, and DP1 needs both rejected.
// Integers keep their value whatever the format (int 8 holding 5 is 5, as msgspec reads it);
// whether a negative value fits is the caller's check. Values past 2^53 come back as exact bigints.

import { Malformed, concat, decodeUtf8, utf8 } from "./bytes";

export type Value = number | bigint | string | Uint8Array | Value[];

export class Reader {
  private view: DataView;
  pos = 0;
  constructor(private buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get done(): boolean {
    return this.pos === this.buf.length;
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Malformed("truncated MessagePack");
  }
  private u(n: 1 | 2 | 4): number {
    this.need(n);
    const p = this.pos;
    this.pos += n;
    if (n === 1) return this.view.getUint8(p);
    if (n === 2) return this.view.getUint16(p);
    return this.view.getUint32(p);
  }
  private i(n: 1 | 2 | 4): number {
    this.need(n);
    const p = this.pos;
    this.pos += n;
    if (n === 1) return this.view.getInt8(p);
    if (n === 2) return this.view.getInt16(p);
    return this.view.getInt32(p);
  }
  private big(signed: boolean): number | bigint {
    this.need(8);
    const v = signed ? this.view.getBigInt64(this.pos) : this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  private bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  value(depth = 0): Value {
    if (depth > 4) throw new Malformed("nesting too deep");
    const t = this.u(1);
    if (t <= 0x7f) return t;
    if (t >= 0xe0) return t - 0x100;
    if (t >= 0x90 && t <= 0x9f) return this.array(t & 0x0f, depth);
    if (t >= 0xa0 && t <= 0xbf) return decodeUtf8(this.bytes(t & 0x1f));
    switch (t) {
      case 0xcc: return this.u(1);
      case 0xcd: return this.u(2);
      case 0xce: return this.u(4);
      case 0xcf: return this.big(false);
      case 0xd0: return this.i(1);
      case 0xd1: return this.i(2);
      case 0xd2: return this.i(4);
      case 0xd3: return this.big(true);
      case 0xd9: return decodeUtf8(this.bytes(this.u(1)));
      case 0xda: return decodeUtf8(this.bytes(this.u(2)));
      case 0xdb: return decodeUtf8(this.bytes(this.u(4)));
      case 0xc4: return this.bytes(this.u(1));
      case 0xc5: return this.bytes(this.u(2));
      case 0xc6: return this.bytes(this.u(4));
      case 0xdc: return this.array(this.u(2), depth);
      case 0xdd: return this.array(this.u(4), depth);
    }
    throw new Malformed(`MessagePack type 0x${t.toString(16)} is not used by DP1`);
  }
  private array(n: number, depth: number): Value[] {
    if (n > 64) throw new Malformed("array too long");
    const out: Value[] = [];
    for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
    return out;
  }
}

/** Decode exactly one value; bytes left over are Malformed. */
export function decodeOne(buf: Uint8Array): Value {
  const r = new Reader(buf);
  const v = r.value();
  if (!r.done) throw new Malformed("bytes left over after the value");
  return v;
}

function head(small: number, fix: number, codes: [number, number, number], n: number): Uint8Array {
  if (n < small) return Uint8Array.of(fix | n);
  if (n < 256 && codes[0]) return Uint8Array.of(codes[0], n);
  if (n < 65536) return Uint8Array.of(codes[1], n >> 8, n & 255);
  return Uint8Array.of(codes[2], n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

export function encode(v: Value): Uint8Array {
  if (typeof v === "bigint") {
    if (v < 0n || v >= 2n ** 64n) throw new Error("only unsigned 64-bit integers");
    const out = new Uint8Array(9);
    out[0] = 0xcf;
    new DataView(out.buffer).setBigUint64(1, v);
    return out;
  }
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error("only unsigned safe integers");
    if (v < 128) return Uint8Array.of(v);
    if (v < 256) return Uint8Array.of(0xcc, v);
    if (v < 65536) return Uint8Array.of(0xcd, v >> 8, v & 255);
    if (v < 2 ** 32) return Uint8Array.of(0xce, v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
    const hi = Math.floor(v / 2 ** 32);
    const lo = v >>> 0;
    return Uint8Array.of(0xcf, hi >>> 24, (hi >>> 16) & 255, (hi >>> 8) & 255, hi & 255, lo >>> 24, (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255);
  }
  if (typeof v === "string") {
    const b = utf8.encode(v);
    return concat(head(32, 0xa0, [0xd9, 0xda, 0xdb], b.length), b);
  }
  if (v instanceof Uint8Array) return concat(head(0, 0, [0xc4, 0xc5, 0xc6], v.length), v);
  return concat(head(16, 0x90, [0, 0xdc, 0xdd], v.length), ...v.map(encode));
}
