// node pwa/tools/verify-vectors.mjs PATH — what `python -m crypto verify --vectors PATH` does:
// pin root_pub, open trust and status, verify every case's qr at its now (online with its secret
// when not null) and print one JSON list of the result codes, in case order. It does not compare.
import { readFileSync } from "node:fs";
import * as dp1 from "./dist/dp1.mjs";

const path = process.argv[2];
if (!path) {
  console.error("usage: node pwa/tools/verify-vectors.mjs PATH");
  process.exit(2);
}
try {
  const data = JSON.parse(readFileSync(path, "utf8"));
  const trust = await dp1.openTrust(data.trust, dp1.b64uDecode(data.root_pub));
  const status = await dp1.openStatus(data.status, trust.statusPub);
  const out = [];
  for (const c of data.cases) out.push((await dp1.verify(c.qr, c.now, trust, status, c.secret)).result);
  console.log(JSON.stringify(out));
} catch (e) {
  console.error(`cannot read vectors from ${path}: ${e?.message ?? e}`);
  process.exit(2);
}
