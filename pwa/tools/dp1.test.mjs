// node --test pwa/tools/ — the TypeScript DP1 module (built to tools/dist/dp1.mjs) on published vectors.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as dp1 from "./dist/dp1.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const VECTORS = process.env.DP1_VECTORS ?? resolve(here, "../../../shared/vectors/dp1.json");
const data = JSON.parse(readFileSync(VECTORS, "utf8"));
const enc = new TextEncoder();

test("base45, RFC 9285 examples", () => {
  for (const [raw, text] of [["AB", "BB8"], ["Hello!!", "%69 VD92EX0"], ["base-45", "UJCLQE7W581"], ["ietf!", "QED8WEX0"]]) {
    assert.equal(dp1.b45Encode(enc.encode(raw)), text);
    assert.deepEqual(dp1.b45Decode(text), enc.encode(raw));
  }
  for (const bad of ["GGW", "A", "abc"]) assert.throws(() => dp1.b45Decode(bad), dp1.Malformed);
});

test("TOTP, RFC 6238 SHA-1 (6 digits)", async () => {
  const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // base32 of ASCII 12345678901234567890
  for (const [t, code] of [[59, 287082], [1111111109, 81804], [1111111111, 50471], [1234567890, 5924], [2000000000, 279037], [20000000000, 353130]]) {
    assert.equal(await dp1.totp(secret, Math.floor(t / 30)), code);
  }
});

test("every shared case agrees", async () => {
  const trust = await dp1.openTrust(data.trust, dp1.b64uDecode(data.root_pub));
  const status = await dp1.openStatus(data.status, trust.statusPub);
  for (const c of data.cases) {
    const v = await dp1.verify(c.qr, c.now, trust, status, c.secret);
    assert.equal(v.result, c.expect, c.name);
  }
  for (const c of data.status_cases) assert.equal(dp1.statusAt(status, c.index), c.expect, `index ${c.index}`);
});

test("list cases: accept and reject", async () => {
  const root = dp1.b64uDecode(data.root_pub);
  const trust = await dp1.openTrust(data.trust, root);
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

test("a frame made here verifies; the same frame two minutes later is stale", async () => {
  const trust = await dp1.openTrust(data.trust, dp1.b64uDecode(data.root_pub));
  const status = await dp1.openStatus(data.status, trust.statusPub);
  const good = data.cases[0];
  const parsed = dp1.parseQr(good.qr);
  assert.equal(parsed.kind, "live");
  const card = dp1.makeCard(parsed.credBytes, parsed.issuerSig);
  assert.equal((await dp1.verify(card, good.now, trust, status)).result, "valid");
  assert.equal((await dp1.verify(good.qr, good.now + 120, trust, status)).result, "stale");
  assert.deepEqual(dp1.decodeCred(dp1.encodeCred(parsed.cred)), parsed.cred);
});

test("verify never throws, whatever it is given", async () => {
  const trust = await dp1.openTrust(data.trust, dp1.b64uDecode(data.root_pub));
  const status = await dp1.openStatus(data.status, trust.statusPub);
  const good = data.cases[0];
  const raw = dp1.b45Decode(good.qr.slice(4));
  let seed = 12345;
  const rnd = (n) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const inputs = [null, undefined, 5, {}, [], "", "DP1:", "DP1S:", "x".repeat(600)];
  for (let i = 0; i < 1500; i++) {
    const m = raw.slice();
    m[rnd(m.length)] ^= 1 << rnd(8);
    inputs.push("DP1:" + dp1.b45Encode(m));
    inputs.push("DP1:" + dp1.b45Encode(raw.slice(0, rnd(raw.length))));
    inputs.push("DP1:" + Array.from({ length: rnd(80) }, () => String.fromCharCode(32 + rnd(95))).join(""));
    const junk = Uint8Array.from({ length: rnd(200) }, () => rnd(256));
    inputs.push("DP1:" + dp1.b45Encode(junk));
  }
  for (const input of inputs) {
    const v = await dp1.verify(input, good.now, trust, status, good.secret);
    assert.ok(dp1.RESULTS.includes(v.result));
  }
});
