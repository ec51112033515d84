"""The PWA in Chromium: shell size, offline start, offline verify time — each against a baseline from the same run.

- size: gzip bytes of the precached app shell (decoder wasm counted apart) against a bare
  Preact "hello" page built by the same toolchain (the framework floor);
- offline start: navigation to /verify until the scan button is usable and the lists are loaded,
  served by the service worker with the network off, against navigating to a precached icon;
- offline verify: the app's DP1 verify() per frame, against two raw WebCrypto Ed25519 verifications.
"""

from __future__ import annotations

import gzip
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.e2e.conftest import CHROMIUM, FLAGS
from tests.served import ROOT, Served


def _gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), 9))


def _floor_build(tmp: Path) -> int:
    app = tmp / "floor"
    (app / "src").mkdir(parents=True)
    (app / "index.html").write_text('<!doctype html><div id="app"></div><script type="module" src="/src/main.tsx"></script>')
    (app / "src" / "main.tsx").write_text('import { render } from "preact";\nrender(<p>hello</p>, document.getElementById("app")!);\n')
    (app / "vite.config.mjs").write_text('export default { esbuild: { jsx: "automatic", jsxImportSource: "preact" } };\n')
    (app / "node_modules").symlink_to(ROOT / "pwa" / "node_modules")
    r = subprocess.run(["npx", "vite", "build", "--logLevel", "warn"], cwd=app, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return sum(_gz(p) for p in (app / "dist").rglob("*") if p.is_file())


VERIFY_LOOP = """
async ([n, qr, now]) => {
  const dp1 = await import('/bench-dp1.mjs');
  const env = JSON.parse(localStorage.getItem('bench-lists'));
  const trust = await dp1.openTrust(env.trust, dp1.b64uDecode(env.root));
  const status = await dp1.openStatus(env.status, trust.statusPub);
  const p = dp1.parseQr(qr);
  const issuer = dp1.findIssuer(trust, p.cred.kid);
  const credMsg = new Uint8Array([...new TextEncoder().encode('DP1/cred\\0'), ...p.credBytes]);
  const liveMsg = await dp1.liveMessage(p.credBytes, p.step, p.code);
  const r = (await dp1.verify(qr, now, trust, status)).result;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await dp1.verify(qr, now, trust, status);
  const t1 = performance.now();
  for (let i = 0; i < n; i++) { await dp1.verifySig(issuer.pub, p.issuerSig, credMsg); await dp1.verifySig(p.cred.devicePub, p.deviceSig, liveMsg); }
  const t2 = performance.now();
  return { result: r, verify_ms: (t1 - t0) / n, baseline_ms: (t2 - t1) / n };
}
"""


def run() -> dict:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        s = Served(tmp, build_pwa=True)
        try:
            dist = tmp / "dist"
            # The build's own .br / .gz copies are not files of the app: each asset is counted once, gzipped here.
            files = [p for p in dist.rglob("*") if p.is_file() and p.name not in ("sw.js",) and p.suffix not in (".br", ".gz")]
            wasm = sum(_gz(p) for p in files if p.suffix == ".wasm")
            shell = sum(_gz(p) for p in files if p.suffix != ".wasm") + _gz(dist / "sw.js")
            floor = _floor_build(tmp)
            phone = s.phone("valid")
            subprocess.run(["npm", "run", "-s", "build:tools"], cwd=ROOT / "pwa", check=True, capture_output=True)
            bench_module = (ROOT / "pwa" / "tools" / "dist" / "dp1.mjs").read_bytes()
            with sync_playwright() as p:
                ctx = p.chromium.launch_persistent_context(str(tmp / "profile"), executable_path=CHROMIUM, args=FLAGS, headless=True,
                                                           viewport={"width": 360, "height": 740})
                page = ctx.new_page()
                page.route("**/bench-dp1.mjs", lambda route: route.fulfill(body=bench_module, content_type="text/javascript"))
                page.goto(s.base + "/verify")
                page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)")
                page.reload()
                page.wait_for_function("() => !!navigator.serviceWorker.controller")
                page.wait_for_function("() => document.querySelector('[data-testid=lists-age]')?.textContent.includes('更新于')")
                ctx.set_offline(True)
                starts, floors = [], []
                for _ in range(7):
                    t0 = time.perf_counter()
                    page.goto(s.base + "/verify")
                    page.wait_for_selector("[data-testid=start-scan]")
                    page.wait_for_function("() => document.querySelector('[data-testid=lists-age]')?.textContent.includes('更新于')")
                    starts.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    page.goto(s.base + "/icons/icon-192.png")
                    floors.append(time.perf_counter() - t0)
                ctx.set_offline(False)
                page.goto(s.base + "/")
                lists = {"trust": s.call("/api/trust")[1], "status": s.call("/api/status")[1], "root": s.root_pub}
                page.evaluate("l => localStorage.setItem('bench-lists', JSON.stringify(l))", lists)
                rounds = [page.evaluate(VERIFY_LOOP, [200, phone.live(), int(time.time())]) for _ in range(5)]
                ctx.close()
        finally:
            s.stop()
    assert all(r["result"] == "valid" for r in rounds)
    ratios = [r["verify_ms"] / r["baseline_ms"] for r in rounds]
    start, floor_start = statistics.median(starts), statistics.median(floors)
    goals = [
        {"name": "app shell, gzip (decoder wasm apart)", "value": shell, "unit": "bytes",
         "baseline": "bare Preact hello page, gzip", "baseline_value": floor, "ratio": round(shell / floor, 2),
         "goal": "reported (first-visit bytes: bench wire)", "met": None},
        {"name": "offline start of /verify (service worker)", "value": round(start * 1000, 1), "unit": "ms",
         "baseline": "a precached icon offline", "baseline_value": round(floor_start * 1000, 1),
         "ratio": round(start / floor_start, 2), "goal": "reported", "met": None},
        {"name": "offline verify per frame in the page", "value": round(statistics.median(r["verify_ms"] for r in rounds), 3),
         "unit": "ms", "baseline": "two WebCrypto Ed25519 verifications",
         "baseline_value": round(statistics.median(r["baseline_ms"] for r in rounds), 3),
         "ratio": round(statistics.median(ratios), 2), "goal": "reported", "met": None},
    ]
    return {
        "goals": goals,
        "shell_gzip_bytes": shell,
        "decoder_wasm_gzip_bytes": wasm,
        "baseline_preact_hello_gzip_bytes": floor,
        "shell_vs_baseline": round(shell / floor, 2),
        "offline_verify_view_ms": round(statistics.median(starts) * 1000, 1),
        "baseline_offline_precached_icon_ms": round(statistics.median(floors) * 1000, 1),
        "offline_start_vs_baseline": round(statistics.median(starts) / statistics.median(floors), 2),
        "offline_verify_ms_per_frame": round(statistics.median(r["verify_ms"] for r in rounds), 3),
        "baseline_two_webcrypto_ed25519_ms": round(statistics.median(r["baseline_ms"] for r in rounds), 3),
        "verify_vs_baseline": round(statistics.median(ratios), 2),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
