// node --test pwa/tools/*.test.mjs — the TypeScript DP1 module (built to tools/dist/dp1.mjs by
// `npm run build:tools`) on published vectors: RFC 9285, RFC 6238, tests/vectors/dp1.json; then the
// spec's shapes one by one, frames made here with a test issuer, and a loop that verify never throws.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { deflateSync } from "node:zlib";
import * as dp1 from "./dist/dp1.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const VECTORS = process.env.DP1_VECTORS ?? resolve(here, "../../tests/vectors/dp1.json");
const data = JSON.parse(readFileSync(VECTORS, "utf8"));
const enc = new TextEncoder();
const subtle = globalThis.crypto.subtle;
const NOW = 1795000000;

const vectorLists = async () => {
  const trust = await dp1.openTrust(data.trust, dp1.b64uDecode(data.root_pub));
  return { trust, status: await dp1.openStatus(data.status, trust.statusPub) };
};

// ---- a MessagePack writer of its own, byte by byte, so tests can build any shape, wrong ones included ----
const cat = (...parts) => Uint8Array.from(parts.flatMap((p) => (p instanceof Uint8Array ? [...p] : p)));
const mp = {
  uint(n) {
    if (n < 128) return [n];
    if (n < 256) return [0xcc, n];
    if (n < 65536) return [0xcd, n >> 8, n & 255];
    if (n < 2 ** 32) return [0xce, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
    const b = new Uint8Array(9);
    b[0] = 0xcf;
    new DataView(b.buffer).setBigUint64(1, BigInt(n));
    return [...b];
  },
  int8: (n) => [0xd0, n & 255],
  int64: (n) => {
    const b = new Uint8Array(9);
    b[0] = 0xd3;
    new DataView(b.buffer).setBigInt64(1, BigInt(n));
    return [...b];
  },
  f64: (x) => {
    const b = new Uint8Array(9);
    b[0] = 0xcb;
    new DataView(b.buffer).setFloat64(1, x);
    return [...b];
  },
  strBytes: (b) => (b.length < 32 ? [0xa0 | b.length, ...b] : [0xd9, b.length, ...b]),
  str: (s) => mp.strBytes(enc.encode(s)),
  bin: (b) => [0xc4, b.length, ...b],
  arr: (items) => [0x90 | items.length, ...items.flat()],
  arr16: (items) => [0xdc, 0, items.length, ...items.flat()],
  true: [0xc3],
  nil: [0xc0],
};
const field = {
  kid: mp.str("agency-A"), serial: mp.uint(100001), statusIndex: mp.uint(7), issuedDay: mp.uint(20745),
  expiresDay: mp.uint(21110), name: mp.str("张秀英"), agencyId: mp.uint(4021), photo: mp.bin(new Uint8Array(16).fill(1)),
  device: mp.bin(new Uint8Array(32).fill(2)), services: mp.uint(9),
};
const credWith = (over = {}) => {
  const f = { ...field, ...over };
  return cat(mp.arr([f.kid, f.serial, f.statusIndex, f.issuedDay, f.expiresDay, f.name, f.agencyId, f.photo, f.device, f.services]));
};
const SIG = new Uint8Array(64).fill(3);
const liveWith = (over = {}) => {
  const f = { cred: mp.bin(credWith()), issuerSig: mp.bin(SIG), step: mp.uint(59833333), code: mp.uint(123456), deviceSig: mp.bin(SIG), ...over };
  return "DP1:" + dp1.b45Encode(cat(mp.arr([f.cred, f.issuerSig, f.step, f.code, f.deviceSig])));
};
const parses = (qr) => {
  try {
    dp1.parseQr(qr);
    return "ok";
  } catch (e) {
    assert.ok(e instanceof dp1.Malformed, `not Malformed: ${e}`);
    return "malformed";
  }
};

// ---- a test issuer: root, status and issuer keys made here, lists signed here ----
async function keyPair() {
  const k = await subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const pub = new Uint8Array(await subtle.exportKey("raw", k.publicKey));
  const sign = async (msg) => new Uint8Array(await subtle.sign({ name: "Ed25519" }, k.privateKey, msg));
  return { pub, sign };
}
const envelope = async (key, tag, payloadBytes) => ({
  payload: dp1.b64uEncode(payloadBytes),
  sig: dp1.b64uEncode(await key.sign(cat(enc.encode(tag), payloadBytes))),
});
const SIZE = 131072;
function bitstring(entries) {
  const out = new Uint8Array(SIZE / 4);
  for (const [i, v] of Object.entries(entries)) out[i >> 2] |= v << (6 - 2 * (i & 3));
  return out;
}
let issuerCache;
async function testIssuer() {
  if (issuerCache) return issuerCache;
  const [root, statusKey, issuer, device] = await Promise.all([keyPair(), keyPair(), keyPair(), keyPair()]);
  const trustObj = {
    type: "dp1-trust", seq: 1, issued_at: NOW - 100, status_pub: dp1.b64uEncode(statusKey.pub),
    issuers: [{ kid: "T1", pub: dp1.b64uEncode(issuer.pub), agency_id: 9, name: "测试", not_before: NOW - 1e6, not_after: NOW + 1e6 }],
  };
  const statusObj = (over = {}, raw = bitstring({ 7: 0, 8: 1, 9: 2, 10: 3 })) => ({
    type: "dp1-status", seq: 1, issued_at: NOW - 50, size: SIZE, bits: 2, list: dp1.b64uEncode(deflateSync(raw)), ...over,
  });
  const trustEnv = await envelope(root, "DP1/trust\0", enc.encode(JSON.stringify(trustObj)));
  const statusEnv = await envelope(statusKey, "DP1/status\0", enc.encode(JSON.stringify(statusObj())));
  const trust = await dp1.openTrust(trustEnv, root.pub);
  const status = await dp1.openStatus(statusEnv, trust.statusPub);
  const cred = (over = {}) =>
    credWith({ kid: mp.str("T1"), statusIndex: mp.uint(7), issuedDay: mp.uint(dp1.day(NOW) - 10), expiresDay: mp.uint(dp1.day(NOW) + 10), device: mp.bin(device.pub), ...over });
  const issue = async (credBytes) => issuer.sign(cat(enc.encode("DP1/cred\0"), credBytes));
  issuerCache = { root, statusKey, issuer, device, trust, status, trustObj, statusObj, cred, issue };
  return issuerCache;
}

// ---- published vectors ----

test("base45: RFC 9285 examples, both ways; invalid text is Malformed", () => {
  for (const [raw, text] of [["AB", "BB8"], ["Hello!!", "%69 VD92EX0"], ["base-45", "UJCLQE7W581"], ["ietf!", "QED8WEX0"]]) {
    assert.equal(dp1.b45Encode(enc.encode(raw)), text);
    assert.deepEqual(dp1.b45Decode(text), enc.encode(raw));
  }
  assert.equal(dp1.b45Encode(new Uint8Array(0)), "");
  for (const bad of ["GGW", "A", "abc", "::", "BB8A", "ZZZZ", "\u00e9AB"]) assert.throws(() => dp1.b45Decode(bad), dp1.Malformed, bad);
  for (let n = 0; n < 64; n++) {
    const b = crypto.getRandomValues(new Uint8Array(n));
    assert.deepEqual(dp1.b45Decode(dp1.b45Encode(b)), b);
  }
});

test("base64url without padding, both ways", () => {
  for (let n = 0; n < 40; n++) {
    const b = crypto.getRandomValues(new Uint8Array(n));
    const s = dp1.b64uEncode(b);
    assert.equal(s, Buffer.from(b).toString("base64url"));
    assert.deepEqual(dp1.b64uDecode(s), b);
  }
  for (const bad of ["A", "AB+C", "AB/C", "AB C", "ABCDE", "AA==", "AB", "AAB", "QUJD="]) assert.throws(() => dp1.b64uDecode(bad), dp1.Malformed, bad);
  assert.deepEqual(dp1.b64uDecode("AA"), new Uint8Array([0]));
});

test("TOTP: RFC 6238 SHA-1 values, 6 digits", async () => {
  const ascii = enc.encode("12345678901234567890");
  const b32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // the same key in base32, as the server hands secrets out
  const table = [[59, 287082], [1111111109, 81804], [1111111111, 50471], [1234567890, 5924], [2000000000, 279037], [20000000000, 353130]];
  for (const [t, code] of table) {
    assert.equal(await dp1.totpRaw(ascii, Math.floor(t / 30)), code, `t=${t}`);
    assert.equal(await dp1.totp(b32, Math.floor(t / 30)), code, `t=${t} base32`);
  }
  assert.equal(await dp1.totp(b32.toLowerCase(), 1), await dp1.totp(b32, 1));
});

test("vectors: every case gives its expected result", async () => {
  const { trust, status } = await vectorLists();
  const got = [];
  for (const c of data.cases) got.push((await dp1.verify(c.qr, c.now, trust, status, c.secret)).result);
  assert.deepEqual(got, data.cases.map((c) => c.expect));
});

test("vectors: status entries", async () => {
  const { status } = await vectorLists();
  for (const c of data.status_cases) assert.equal(dp1.statusAt(status, c.index), c.expect, `index ${c.index}`);
});

test("vectors: list cases accept and reject", async () => {
  const root = dp1.b64uDecode(data.root_pub);
  const { trust } = await vectorLists();
  for (const c of data.list_cases) {
    let got = "accept";
    try {
      if (c.kind === "trust") await dp1.openTrust(c.envelope, root);
      else await dp1.openStatus(c.envelope, trust.statusPub);
    } catch {
      got = "reject";
    }
    assert.equal(got, c.expect, c.name);
  }
});

test("vectors: a card made from a live frame verifies; the frame two minutes on is stale", async () => {
  const { trust, status } = await vectorLists();
  const good = data.cases[0];
  const parsed = dp1.parseQr(good.qr);
  assert.equal(parsed.kind, "live");
  const card = dp1.makeCard(parsed.credBytes, parsed.issuerSig);
  assert.equal((await dp1.verify(card, good.now, trust, status)).result, "valid");
  assert.equal((await dp1.verify(good.qr, good.now + 120, trust, status)).result, "stale");
  assert.deepEqual(dp1.encodeCred(parsed.cred), parsed.credBytes);
  assert.deepEqual(dp1.decodeCred(dp1.encodeCred(parsed.cred)), parsed.cred);
});

// ---- the spec's shapes, one at a time ----

test("shapes: the malformed row of the spec", () => {
  assert.equal(parses(liveWith()), "ok");
  const rows = {
    "text of 513 characters": ["DP1:" + "0".repeat(509), "malformed"],
    "prefix DP1S: on a live frame": ["DP1S:" + liveWith().slice(4), "malformed"],
    "prefix DP1: on a card": ["DP1:" + dp1.b45Encode(cat(mp.arr([mp.bin(credWith()), mp.bin(SIG)]))), "malformed"],
    "card of 3": ["DP1S:" + dp1.b45Encode(cat(mp.arr([mp.bin(credWith()), mp.bin(SIG), mp.uint(1)]))), "malformed"],
    "card ok": ["DP1S:" + dp1.b45Encode(cat(mp.arr([mp.bin(credWith()), mp.bin(SIG)]))), "ok"],
    "frame as array16 (not the shortest form, still an array of 5)": ["DP1:" + dp1.b45Encode(cat(mp.arr16([mp.bin(credWith()), mp.bin(SIG), mp.uint(1), mp.uint(2), mp.bin(SIG)]))), "ok"],
    "byte after the frame": [ "DP1:" + dp1.b45Encode(cat(dp1.b45Decode(liveWith().slice(4)), [0])), "malformed"],
    "cred as str": [liveWith({ cred: mp.strBytes(credWith()) }), "malformed"],
    "issuer_sig 63 bytes": [liveWith({ issuerSig: mp.bin(SIG.slice(1)) }), "malformed"],
    "device_sig 65 bytes": [liveWith({ deviceSig: mp.bin(cat(SIG, [0])) }), "malformed"],
    "device_sig as str": [liveWith({ deviceSig: mp.strBytes(new Uint8Array(64).fill(65)) }), "malformed"],
    "step true": [liveWith({ step: mp.true }), "malformed"],
    "step nil": [liveWith({ step: mp.nil }), "malformed"],
    "step float 5.0": [liveWith({ step: mp.f64(5) }), "malformed"],
    "step -1 (negative fixint)": [liveWith({ step: [0xff] }), "malformed"],
    "step -1 (int64)": [liveWith({ step: mp.int64(-1) }), "malformed"],
    "step 5 as int8 (an integer >= 0, as msgspec reads it)": [liveWith({ step: mp.int8(5) }), "ok"],
    "step 2^64-1": [liveWith({ step: mp.uint(2n ** 64n - 1n) }), "ok"],
    "code 999999": [liveWith({ code: mp.uint(999999) }), "ok"],
    "code 1000000": [liveWith({ code: mp.uint(1000000) }), "malformed"],
    "code 0": [liveWith({ code: mp.uint(0) }), "ok"],
    "cred of 9": [liveWith({ cred: mp.bin(cat(mp.arr([field.kid, field.serial, field.statusIndex, field.issuedDay, field.expiresDay, field.name, field.agencyId, field.photo, field.device]))) }), "malformed"],
    "byte after cred": [liveWith({ cred: mp.bin(cat(credWith(), [0])) }), "malformed"],
    "kid of 16": [liveWith({ cred: mp.bin(credWith({ kid: mp.str("A".repeat(16)) })) }), "ok"],
    "kid of 17": [liveWith({ cred: mp.bin(credWith({ kid: mp.str("A".repeat(17)) })) }), "malformed"],
    "kid empty": [liveWith({ cred: mp.bin(credWith({ kid: mp.str("") })) }), "malformed"],
    "kid with a trailing newline": [liveWith({ cred: mp.bin(credWith({ kid: mp.str("agency-A\n") })) }), "malformed"],
    "kid with a leading BOM": [liveWith({ cred: mp.bin(credWith({ kid: mp.str("\uFEFFagency-A") })) }), "malformed"],
    "kid with a dot": [liveWith({ cred: mp.bin(credWith({ kid: mp.str("a.b") })) }), "malformed"],
    "kid as bin": [liveWith({ cred: mp.bin(credWith({ kid: mp.bin(enc.encode("agency-A")) })) }), "malformed"],
    "serial 2^53 - 1": [liveWith({ cred: mp.bin(credWith({ serial: mp.uint(2 ** 53 - 1) })) }), "ok"],
    "serial 2^53": [liveWith({ cred: mp.bin(credWith({ serial: mp.uint(2 ** 53) })) }), "malformed"],
    "serial true": [liveWith({ cred: mp.bin(credWith({ serial: mp.true })) }), "malformed"],
    "status_index float": [liveWith({ cred: mp.bin(credWith({ statusIndex: mp.f64(7) })) }), "malformed"],
    "agency_id negative": [liveWith({ cred: mp.bin(credWith({ agencyId: mp.int8(-3) })) }), "malformed"],
    "services true": [liveWith({ cred: mp.bin(credWith({ services: mp.true })) }), "malformed"],
    "name of 32 UTF-8 bytes": [liveWith({ cred: mp.bin(credWith({ name: mp.str("张".repeat(10) + "ab") })) }), "ok"],
    "name of 33 UTF-8 bytes (11 characters)": [liveWith({ cred: mp.bin(credWith({ name: mp.str("张".repeat(11)) })) }), "malformed"],
    "name not UTF-8": [liveWith({ cred: mp.bin(credWith({ name: mp.strBytes(Uint8Array.of(0xff, 0xfe)) })) }), "malformed"],
    "name as a UTF-8 surrogate": [liveWith({ cred: mp.bin(credWith({ name: mp.strBytes(Uint8Array.of(0xed, 0xa0, 0x80)) })) }), "malformed"],
    "photo_digest 15 bytes": [liveWith({ cred: mp.bin(credWith({ photo: mp.bin(new Uint8Array(15)) })) }), "malformed"],
    "photo_digest as str": [liveWith({ cred: mp.bin(credWith({ photo: mp.strBytes(new Uint8Array(16).fill(65)) })) }), "malformed"],
    "device_pub 33 bytes": [liveWith({ cred: mp.bin(credWith({ device: mp.bin(new Uint8Array(33)) })) }), "malformed"],
  };
  for (const [name, [qr, want]] of Object.entries(rows)) assert.equal(parses(qr), want, name);
  const huge = dp1.parseQr(liveWith({ step: mp.uint(2n ** 64n - 1n) }));
  assert.equal(huge.step, 2n ** 64n - 1n, "a step past 2^53 is kept exact");
  for (const other of [null, undefined, 42, {}, ["DP1:"], new Uint8Array(4)]) assert.equal(parses(other), "malformed");
});

// ---- frames made here, with a test issuer ----

test("makeFrame: a frame the device signs verifies; time, code and status rows", async () => {
  const t = await testIssuer();
  const credBytes = t.cred();
  const issuerSig = await t.issue(credBytes);
  const secret = "JBSWY3DPEHPK3PXP";
  const step = Math.floor(NOW / 30);
  const frame = async (s, code) => dp1.makeFrame(credBytes, issuerSig, s, code ?? (await dp1.totp(secret, s)), t.device.sign);
  const v = (qr, now = NOW, sec = null) => dp1.verify(qr, now, t.trust, t.status, sec).then((r) => r.result);

  const live = await dp1.makeLiveQr(credBytes, issuerSig, secret, t.device.sign, NOW);
  assert.equal(live.step, step);
  assert.equal(live.qr, await frame(step));
  assert.ok(live.qr.length <= 512 && /^DP1:[0-9A-Z $%*+\-./:]+$/.test(live.qr));
  assert.equal(await v(live.qr), "valid");
  assert.equal(await v(live.qr, NOW, secret), "valid");
  assert.equal(await v(live.qr, NOW, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), "bad_code");
  assert.equal(await v(await frame(step - 1)), "valid");
  assert.equal(await v(await frame(step + 1)), "valid");
  assert.equal(await v(await frame(step - 2)), "stale");
  assert.equal(await v(await frame(step + 2)), "future");
  assert.equal(await v(await frame(step, 999999)), "valid", "offline: the code is not checked");
  assert.equal(await v(await frame(step, 999999), NOW, secret), "bad_code");

  const p = dp1.parseQr(live.qr);
  assert.deepEqual([p.step, p.code], [live.step, live.code]);
  assert.equal(p.cred.kid, "T1");

  // a device-signed step past 2^53: the signature is checked over the exact u64, so "future", not bad_device_sig
  const big = 2n ** 64n - 1n;
  const msg = cat(enc.encode("DP1/live\0"), await dp1.sha256(credBytes), (() => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, big); return b; })(), [0, 0, 0, 7]);
  const bigQr = "DP1:" + dp1.b45Encode(cat(mp.arr([mp.bin(credBytes), mp.bin(issuerSig), mp.uint(big), mp.uint(7), mp.bin(await t.device.sign(msg))])));
  assert.equal(await v(bigQr), "future");

  // status entries 8, 9, 10 are yellow, red, revoked; past the size reads revoked
  for (const [index, want] of [[8, "caution"], [9, "red"], [10, "revoked"], [SIZE, "revoked"], [2 ** 53 - 1, "revoked"]]) {
    const c = t.cred({ statusIndex: mp.uint(index) });
    const qr = await dp1.makeFrame(c, await t.issue(c), step, 1, t.device.sign);
    assert.equal(await v(qr), want, `status index ${index}`);
  }
  // a printed card: no device, no time step
  const card = dp1.makeCard(credBytes, issuerSig);
  assert.equal(await v(card), "valid");
  assert.equal(await v(card, NOW + 86400 * 11), "expired");
  assert.equal(await v(card, NOW - 86400 * 11), "not_yet_valid");
  // the issuer's window is in seconds
  assert.equal(await v(card, NOW + 1e6 + 1), "unknown_issuer");
  // a device key that is not the credential's
  const other = await keyPair();
  assert.equal(await v(await dp1.makeFrame(credBytes, issuerSig, step, 1, other.sign)), "bad_device_sig");
  // arguments off the spec's shapes are refused, not encoded
  await assert.rejects(dp1.makeFrame(credBytes, issuerSig, step, 1000000, t.device.sign), dp1.Malformed);
  await assert.rejects(dp1.makeFrame(credBytes, issuerSig.slice(1), step, 1, t.device.sign), dp1.Malformed);
  await assert.rejects(dp1.makeFrame(credBytes, issuerSig, -1, 1, t.device.sign), dp1.Malformed);
  await assert.rejects(dp1.makeFrame(credBytes, issuerSig, step, 1, async () => new Uint8Array(63)), dp1.Malformed);
  assert.throws(() => dp1.makeCard(cat(credBytes, [0]), issuerSig), dp1.Malformed);
});

test("encodeCred: round trip, and refuses what decodeCred would refuse", async () => {
  const c = dp1.decodeCred(credWith());
  assert.deepEqual(dp1.encodeCred(c), credWith());
  assert.throws(() => dp1.encodeCred({ ...c, name: "张".repeat(11) }), dp1.Malformed);
  assert.throws(() => dp1.encodeCred({ ...c, kid: "no spaces" }), dp1.Malformed);
  assert.throws(() => dp1.encodeCred({ ...c, photoDigest: new Uint8Array(15) }));
  assert.throws(() => dp1.encodeCred({ ...c, serial: -1 }));
});

test("lists: the signature covers the exact payload; wrong type, bits, size or zlib stream are refused", async () => {
  const t = await testIssuer();
  const sp = t.trust.statusPub;
  const open = (env) => dp1.openStatus(env, sp).then(() => "accept", (e) => (e instanceof dp1.Malformed || e instanceof dp1.BadSignature ? "reject" : `threw ${e}`));
  const signed = (obj) => envelope(t.statusKey, "DP1/status\0", enc.encode(JSON.stringify(obj)));
  assert.equal(await open(await signed(t.statusObj())), "accept");
  assert.equal(await open(await signed(t.statusObj({ bits: 1 }))), "reject");
  assert.equal(await open(await signed(t.statusObj({ type: "dp1-trust" }))), "reject");
  assert.equal(await open(await signed(t.statusObj({ size: SIZE + 4 }))), "reject");
  assert.equal(await open(await signed(t.statusObj({ size: "131072" }))), "reject");
  const z = deflateSync(bitstring({}));
  assert.equal(await open(await signed(t.statusObj({ list: dp1.b64uEncode(cat(z, [0])) }))), "reject", "a byte after the zlib stream");
  assert.equal(await open(await signed(t.statusObj({ list: dp1.b64uEncode(z.subarray(0, z.length - 1)) }))), "reject", "a stream cut short");
  assert.equal(await open(await signed(t.statusObj({ list: dp1.b64uEncode(cat(z.subarray(0, z.length - 1), [z[z.length - 1] ^ 1])) }))), "reject", "a wrong Adler-32");
  // the payload is checked as bytes: the same JSON re-serialized with a space does not verify
  const env = await signed(t.statusObj());
  const respaced = dp1.b64uEncode(enc.encode(JSON.stringify(t.statusObj(), null, 1)));
  assert.equal(await open({ payload: respaced, sig: env.sig }), "reject");
  // a BOM in front of the JSON is not JSON
  const json = enc.encode(JSON.stringify(t.statusObj()));
  assert.equal(await open(await envelope(t.statusKey, "DP1/status\0", cat([0xef, 0xbb, 0xbf], json))), "reject");
  // the status key's signature with the trust tag, and the root's with the status tag
  assert.equal(await open(await envelope(t.statusKey, "DP1/trust\0", json)), "reject");
  assert.equal(await open(await envelope(t.root, "DP1/status\0", json)), "reject");
  for (const junk of [null, "x", {}, { payload: 1, sig: "" }, { payload: "", sig: "" }]) assert.equal(await open(junk), "reject");

  const openT = (env) => dp1.openTrust(env, t.root.pub).then(() => "accept", (e) => (e instanceof dp1.Malformed || e instanceof dp1.BadSignature ? "reject" : `threw ${e}`));
  const signedT = (obj) => envelope(t.root, "DP1/trust\0", enc.encode(JSON.stringify(obj)));
  assert.equal(await openT(await signedT(t.trustObj)), "accept");
  assert.equal(await openT(await signedT({ ...t.trustObj, type: "dp1-status" })), "reject");
  assert.equal(await openT(await signedT({ ...t.trustObj, status_pub: dp1.b64uEncode(new Uint8Array(31)) })), "reject");
  assert.equal(await openT(await signedT({ ...t.trustObj, issuers: [null] })), "reject");
  assert.equal(await openT(await signedT({ ...t.trustObj, issuers: [{ ...t.trustObj.issuers[0], kid: "bad kid" }] })), "reject");
  assert.equal(await openT(await signedT([t.trustObj])), "reject");
});

// ---- never throws ----

test("verify never throws, whatever it is given", async () => {
  const { trust, status } = await vectorLists();
  const good = data.cases[0];
  const card = data.cases.find((c) => c.qr.startsWith("DP1S:"));
  const frame = dp1.b45Decode(good.qr.slice(4));
  const cardBytes = dp1.b45Decode(card.qr.slice(5));
  const credBytes = dp1.parseQr(good.qr).credBytes;
  let seed = 12345;
  const rnd = (n) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  const inputs = [null, undefined, 5, {}, [], "", "DP1:", "DP1S:", "x".repeat(600), "DP1:" + "0".repeat(600), new Uint8Array(8), Symbol("qr"), 10n];
  for (let i = 0; i < 1500; i++) {
    const m = frame.slice();
    for (let k = 1 + rnd(3); k > 0; k--) m[rnd(m.length)] ^= 1 << rnd(8);
    inputs.push("DP1:" + dp1.b45Encode(m));
    const mc = cardBytes.slice();
    mc[rnd(mc.length)] = rnd(256);
    inputs.push("DP1S:" + dp1.b45Encode(mc));
    const cm = credBytes.slice();
    cm[rnd(cm.length)] = rnd(256);
    inputs.push("DP1:" + dp1.b45Encode(cat(mp.arr([mp.bin(cm), mp.bin(SIG), mp.uint(rnd(2 ** 31)), mp.uint(rnd(1000000)), mp.bin(SIG)]))));
    inputs.push("DP1:" + dp1.b45Encode(frame.slice(0, rnd(frame.length))));
    inputs.push("DP1:" + Array.from({ length: rnd(120) }, () => B45[rnd(45)]).join(""));
    inputs.push(Array.from({ length: rnd(80) }, () => String.fromCharCode(rnd(0x3000))).join(""));
    inputs.push("DP1:" + dp1.b45Encode(Uint8Array.from({ length: rnd(200) }, () => rnd(256))));
  }
  const results = new Set();
  for (const input of inputs) {
    const r = await dp1.verify(input, good.now, trust, status, rnd(2) ? good.secret : null);
    assert.ok(dp1.RESULTS.includes(r.result), String(r.result));
    results.add(r.result);
  }
  assert.ok(inputs.length > 10000 && results.has("malformed") && results.size > 1, [...results].join(","));
  // nor with arguments that are not what they should be
  for (const [now, tr, st, sec] of [[NaN, trust, status, null], [Infinity, trust, status, null], ["1795000000", trust, status, null], [NOW, null, status, null], [NOW, trust, null, null], [NOW, {}, {}, null], [NOW, trust, status, "not base32!"], [NOW, trust, status, 7]]) {
    const r = await dp1.verify(good.qr, now, tr, st, sec);
    assert.ok(dp1.RESULTS.includes(r.result));
  }
  assert.equal((await dp1.verify(good.qr, NaN, trust, status)).result, "malformed");
});
