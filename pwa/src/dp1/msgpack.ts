// The MessagePack subset DP1 uses, decoded strictly: uint, str, bin and arrays only.
// Every other type (nil, bool, negative int, float, map, ext) is not of DP1's shapes: Malformed.
// Hand-written rather than a general library so that bin/str, uint/float and bool/uint stay distinct.

import { Malformed, concat, decodeUtf8, utf8 } from "./bytes";

export type Value = number | string | Uint8Array | Value[];

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
  private u(n: 1 | 2 | 4 | 8): number {
    this.need(n);
    const p = this.pos;
    this.pos += n;
    if (n === 1) return this.view.getUint8(p);
    if (n === 2) return this.view.getUint16(p);
    if (n === 4) return this.view.getUint32(p);
    return this.view.getUint32(p) * 2 ** 32 + this.view.getUint32(p + 4);
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
    if (t >= 0x90 && t <= 0x9f) return this.array(t & 0x0f, depth);
    if (t >= 0xa0 && t <= 0xbf) return decodeUtf8(this.bytes(t & 0x1f));
    switch (t) {
      case 0xcc: return this.u(1);
      case 0xcd: return this.u(2);
      case 0xce: return this.u(4);
      case 0xcf: return this.u(8); // values past 2^53 lose precision; every DP1 check on them still fails or rejects
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
