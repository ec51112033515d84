// node pwa/tools/check-vectors.mjs [PATH] — check the TypeScript DP1 module (built to ./dist/dp1.mjs)
// against every part of a vectors file: cases (result codes), list_cases (accept / reject) and
// status_cases (2-bit status). Prints one line per mismatch and exits 1 if there is any, 2 if the
// file cannot be read; prints a one-line summary and exits 0 when everything agrees.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as dp1 from "./dist/dp1.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const path = process.argv[2] ?? process.env.DP1_VECTORS ?? resolve(here, "../../../shared/vectors/dp1.json");

let data, trust, status, root;
try {
  data = JSON.parse(readFileSync(path, "utf8"));
  root = dp1.b64uDecode(data.root_pub);
  trust = await dp1.openTrust(data.trust, root);
  status = await dp1.openStatus(data.status, trust.statusPub);
} catch (e) {
  console.error(`cannot read vectors from ${path}: ${e?.message ?? e}`);
  process.exit(2);
}

const bad = [];
const cases = data.cases ?? [];
for (const [i, c] of cases.entries()) {
  const got = (await dp1.verify(c.qr, c.now, trust, status, c.secret)).result;
  if (got !== c.expect) bad.push(`cases[${i}] ${JSON.stringify(c.name)}: got ${got}, want ${c.expect}`);
}
const listCases = data.list_cases ?? [];
for (const [i, c] of listCases.entries()) {
  let got = "accept";
  let why = "";
  try {
    if (c.kind === "trust") await dp1.openTrust(c.envelope, root);
    else if (c.kind === "status") await dp1.openStatus(c.envelope, trust.statusPub);
    else throw new Error(`unknown kind ${c.kind}`);
  } catch (e) {
    got = "reject";
    why = ` (${e?.message ?? e})`;
  }
  if (got !== c.expect) bad.push(`list_cases[${i}] ${JSON.stringify(c.name)}: got ${got}${why}, want ${c.expect}`);
}
const statusCases = data.status_cases ?? [];
for (const [i, c] of statusCases.entries()) {
  const got = dp1.statusAt(status, c.index);
  if (got !== c.expect) bad.push(`status_cases[${i}] index ${c.index}: got ${got}, want ${c.expect}`);
}

if (bad.length) {
  for (const line of bad) console.error(line);
  console.error(`${bad.length} mismatch(es) in ${path}`);
  process.exit(1);
}
console.log(`ok: ${cases.length} cases, ${listCases.length} list cases, ${statusCases.length} status cases agree (${path})`);
