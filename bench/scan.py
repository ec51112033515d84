"""Scan to verdict in Chromium with the fake camera, offline, at full speed and with the CPU throttled 4×.

From the tap on 扫码核验 to the verdict on screen (the frame after it is in the page), measured inside the page
(`performance.now()`), with the app's own marks (pwa/src/scan/camera.ts) splitting the time: tap → camera stream →
video playing → first frame sent → code read → verdict painted. The page opens, the person looks at it for a moment
(IDLE_S), then taps: what a household does at the door.

Baseline, in the same page and run, at the same CPU rate: zxing-wasm alone (its IIFE build, `readBarcodes` on the
main thread, the same options the app used before issue 11) on the same camera frame, the module already compiled.
Conditions: cpu_1x and cpu_4x (CDP Emulation.setCPUThrottlingRate) with the tap IDLE_S after the page is ready, and
cpu_4x_tap_at_once, the tap as soon as the button and the lists show.

The verdict per frame (issue 12: "the household's verdict per frame in Chromium at 4x CPU throttle"), at cpu_1x and
cpu_4x, in the same offline page (service worker in control, network off): the verify step alone, from a decoded
frame's text to the verdict, over FRAMES distinct live frames. It calls `verify()` of pwa/src/dp1 — what the verify
page's `check()` calls on a decoded text (pwa/src/views/Verify.tsx) — bundled from the same source with the build's
esbuild and loaded into the page (the built app exposes no hook; it has no performance mark around the call either),
on the lists the page itself keeps in IndexedDB. The scans' own marks give the in-app figure beside it: from
`scan:decoded` to the verdict painted. Goal: the verdict in under a second; baseline: zxing-wasm decode alone (above).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.e2e.camera import write_y4m
from tests.e2e.conftest import CHROMIUM, FLAGS
from tests.served import ROOT, Phone, Served

REPS = int(os.environ.get("DOORPASS_SCAN_REPS", "7"))
IDLE_S = 1.5
RATES = (1, 4)
SCANS = int(os.environ.get("DOORPASS_VERDICT_SCANS", "30"))
"""Scans in a row through 再次核验 (verify again) per CPU rate, each timed from its code read to its verdict painted."""
FRAMES = int(os.environ.get("DOORPASS_VERDICT_FRAMES", "40"))
"""Distinct live frames verified per CPU rate (the first, cold, is reported apart and not in the summary)."""
VERDICT_GOAL_MS = 1000.0
"""Issue 12 / README: the household sees the verdict in under a second."""
TAP_GOAL_MS = 500.0
"""Issue 11: tap to verdict at 4x CPU."""

ARM = """() => {
  window.__bench = {};
  document.addEventListener('click', (e) => {
    if (e.target.closest && e.target.closest('[data-testid=start-scan]')) window.__bench.tap = performance.now();
  }, true);
  new MutationObserver((_, obs) => {
    if (!document.querySelector('[data-testid=verdict]')) return;
    obs.disconnect();
    window.__bench.verdictDom = performance.now();
    requestAnimationFrame(() => setTimeout(() => { window.__bench.verdict = performance.now(); }, 0));
  }).observe(document.body, { childList: true, subtree: true });
}"""

READ = """() => {
  const last = (n) => { const e = performance.getEntriesByName(n); return e.length ? e[e.length - 1].startTime : null; };
  const workers = performance.getEntriesByName('scan:worker-decode').map((e) => e.detail);
  const r = document.querySelector('[data-testid=verdict]')?.getAttribute('data-result');
  return { ...window.__bench, result: r, stream: last('scan:stream'), playing: last('scan:playing'),
           frame: last('scan:frame'), decoded: last('scan:decoded'), worker_ms: workers };
}"""

# zxing-wasm alone on one frame of the same camera: grab the frame, compile once, then time readBarcodes.
BASELINE = """async ([wasmUrl, n]) => {
  const Z = window.ZXingWASM;
  Z.prepareZXingModule({ overrides: { locateFile: (p, prefix) => p.endsWith('.wasm') ? wasmUrl : prefix + p } });
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 } } });
  const video = document.createElement('video');
  video.muted = true; video.srcObject = stream; await video.play();
  while (video.readyState < 2 || !video.videoWidth) await new Promise((r) => setTimeout(r, 20));
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(video, 0, 0);
  stream.getTracks().forEach((t) => t.stop());
  const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const opts = { formats: ['QRCode'], tryHarder: true, maxNumberOfSymbols: 1 };
  const first = await Z.readBarcodes(img, opts);  // compiles the module: not counted
  const times = [];
  for (let i = 0; i < n; i++) { const t0 = performance.now(); await Z.readBarcodes(img, opts); times.push(performance.now() - t0); }
  times.sort((a, b) => a - b);
  return { ok: !!(first[0] && first[0].isValid), ms: times[Math.floor(n / 2)], width: img.width, height: img.height };
}"""


# 再次核验 (verify again) on a verdict: the verdict leaves, the camera reads the code, a new verdict is painted.
AGAIN = """() => {
  window.__bench = {};
  let gone = false;
  new MutationObserver((_, obs) => {
    const v = document.querySelector('[data-testid=verdict]');
    if (!v) { gone = true; return; }
    if (!gone) return;
    obs.disconnect();
    window.__bench.verdictDom = performance.now();
    requestAnimationFrame(() => setTimeout(() => { window.__bench.verdict = performance.now(); }, 0));
  }).observe(document.body, { childList: true, subtree: true });
  window.__bench.tap = performance.now();
  document.querySelector('[data-testid=verify-again]').click();
}"""

AGAIN_READ = """() => {
  const d = performance.getEntriesByName('scan:decoded');
  const v = document.querySelector('[data-testid=verdict]');
  return { ...window.__bench, decoded: d.length ? d[d.length - 1].startTime : null,
           result: v?.getAttribute('data-result'), source: v?.getAttribute('data-source') };
}"""

# The verify step alone, on the page, offline: the lists from the page's own IndexedDB (as `loadCached` opens them),
# then each frame timed from its text to the verdict.
VERDICT = """async ([rootPub, frames]) => {
  const D = window.DP1;
  const kv = await new Promise((ok, fail) => {
    const r = indexedDB.open('doorpass');
    r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error);
  });
  const get = (k) => new Promise((ok, fail) => {
    const q = kv.transaction('kv').objectStore('kv').get(k); q.onsuccess = () => ok(q.result); q.onerror = () => fail(q.error);
  });
  const trust = await D.openTrust(await get('trust'), D.b64uDecode(rootPub));
  const status = await D.openStatus(await get('status'), trust.statusPub);
  kv.close();
  // the network really off: a request the service worker does not answer from its cache fails
  const reached = await fetch('/api/health?probe=' + Math.random(), { cache: 'no-store' }).then(() => true, () => false);
  const ms = [], results = [];
  const start = performance.now();
  for (const [text, now] of frames) {
    const t0 = performance.now();
    const v = await D.verify(text, now, trust, status);
    ms.push(performance.now() - t0);
    results.push(v.result);
  }
  const allMs = performance.now() - start;
  return { ms, allMs, results, reached, onLine: navigator.onLine, controlled: !!navigator.serviceWorker.controller };
}"""


def _median(xs: list[float]) -> float:
    return round(statistics.median(xs), 1)


def summarise(ms: list[float]) -> dict[str, float | int]:
    """Median, p95 (nearest rank: the smallest value with at least 95 % of the samples at or below it), min and max,
    in ms to 0.1."""
    if not ms:
        raise ValueError("no samples")
    xs = sorted(ms)
    rank = max(1, -(-95 * len(xs) // 100))  # ceil(0.95 n), at least the first
    return {"n": len(xs), "median_ms": round(statistics.median(xs), 1), "p95_ms": round(xs[rank - 1], 1),
            "min_ms": round(xs[0], 1), "max_ms": round(xs[-1], 1)}


def frames_of(phone: Phone, now: int, n: int) -> list[tuple[str, int]]:
    """`n` distinct live frames of one pass, each with the time it is verified at: one per 30 s step from `now` on
    (forward, so that no frame falls before the day the pass was issued), every one of them valid at its time."""
    return [(phone.live(t), t) for t in (now + 30 * k for k in range(n))]


def dp1_bundle() -> str:
    """pwa/src/dp1 as one script defining `window.DP1`, built by the PWA's own esbuild (what Vite bundles it with)."""
    r = subprocess.run(
        [str(ROOT / "pwa" / "node_modules" / ".bin" / "esbuild"), "src/dp1/index.ts", "--bundle", "--format=iife",
         "--global-name=DP1", "--target=es2022", "--log-level=warning"],
        cwd=ROOT / "pwa", capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"esbuild failed: {r.stderr[-2000:]}")
    return r.stdout + "\nwindow.DP1 = DP1;"


def verdict_in_app(page) -> dict:  # type: ignore[no-untyped-def]
    """SCANS scans in a row from a verdict on screen (its 再次核验 button), each timed with the app's own mark
    `scan:decoded` (the code read) to the verdict in the DOM and to the frame after it is painted."""
    painted, dom = [], []
    for _ in range(SCANS):
        page.evaluate(AGAIN)
        page.wait_for_function("() => window.__bench && window.__bench.verdict", timeout=30000)
        r = page.evaluate(AGAIN_READ)
        if r["decoded"] is None or r["decoded"] < r["tap"] or r["result"] != "valid" or r["source"] != "offline":
            raise RuntimeError(f"a scan again did not read its code before its verdict: {r}")
        painted.append(r["verdict"] - r["decoded"])
        dom.append(r["verdictDom"] - r["decoded"])
    return {**summarise(painted), "to_dom_median_ms": summarise(dom)["median_ms"]}


def verdict_per_frame(page, phone: Phone, root_pub: str, bundle: str) -> dict:  # type: ignore[no-untyped-def]
    """The verify step alone on FRAMES frames in the (offline, throttled) page: the first frame apart, the rest
    summarised."""
    page.evaluate("() => { " + bundle + " }")
    r = page.evaluate(VERDICT, [root_pub, frames_of(phone, int(time.time()), FRAMES)])
    if r["reached"] or not r["controlled"]:
        raise RuntimeError(f"the verdict must be measured offline under the service worker: reached the server "
                           f"{r['reached']}, service worker in control {r['controlled']}")
    if set(r["results"]) != {"valid"}:
        raise RuntimeError(f"frames did not verify: {sorted(set(r['results']))}")
    # performance.now() is coarsened to 0.1 ms in a page that is not cross-origin isolated: the mean over all frames
    # (one clock reading around the loop) is the finer figure when a verdict takes well under a millisecond.
    return {"first_frame_ms": round(r["ms"][0], 1), **summarise(r["ms"][1:]),
            "mean_ms": round(r["allMs"] / len(r["ms"]), 3), "navigator_online": r["onLine"]}


def _condition(p, s: Served, tmp: Path, rate: int, idle: float, wasm_url: str, zxing_iife: str,  # type: ignore[no-untyped-def]
               bundle: str | None = None) -> dict:
    phone = s.phone("valid")
    cam = write_y4m(tmp / f"cam-{rate}-{idle}.y4m", [phone.live()], frames_each=20)
    args = [*FLAGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={cam}"]
    ctx = p.chromium.launch_persistent_context(str(tmp / f"profile-{rate}-{idle}"), executable_path=CHROMIUM, args=args,
                                               headless=True, viewport={"width": 360, "height": 740}, locale="zh-CN",
                                               permissions=["camera"])
    try:
        page = ctx.new_page()
        page.goto(s.base + "/verify")
        page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)")
        page.reload()
        page.wait_for_function("() => !!navigator.serviceWorker.controller")
        page.wait_for_function("() => document.querySelector('[data-testid=lists-age]')?.textContent.includes('更新于')",
                               timeout=20000)
        ctx.set_offline(True)
        cdp = ctx.new_cdp_session(page)
        runs = []
        for _ in range(REPS):
            page.goto(s.base + "/verify")
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
            page.wait_for_selector("[data-testid=start-scan]")
            page.wait_for_function("() => document.querySelector('[data-testid=lists-age]')?.textContent.includes('更新于')")
            time.sleep(idle)
            page.evaluate(ARM)
            page.click("[data-testid=start-scan]")
            page.wait_for_function("() => window.__bench && window.__bench.verdict", timeout=30000)
            runs.append(page.evaluate(READ))
        page.evaluate("() => { " + zxing_iife + "\n; window.ZXingWASM = ZXingWASM; }")
        base = [page.evaluate(BASELINE, [wasm_url, 9]) for _ in range(3)]
        in_app = verdict_in_app(page) if bundle is not None else None
        verdict = verdict_per_frame(page, phone, s.root_pub, bundle) if bundle is not None else None
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    finally:
        ctx.close()
    assert all(r["result"] for r in runs), runs
    assert all(b["ok"] for b in base), base
    total = [r["verdict"] - r["tap"] for r in runs]
    zx = statistics.median(b["ms"] for b in base)

    def part(a: str, b: str) -> float | None:
        xs = [r[b] - r[a] for r in runs if r.get(a) is not None and r.get(b) is not None]
        return _median(xs) if xs else None

    out: dict = {} if verdict is None or in_app is None else {
        "verdict_in_app": {**in_app, "vs_baseline": round(in_app["median_ms"] / zx, 2)},
        "verdict_per_frame": {**verdict, "vs_baseline": round(verdict["median_ms"] / zx, 2)}}
    return {
        **out,
        "tap_to_verdict_ms": _median(total),
        "tap_to_verdict_min_max_ms": [round(min(total), 1), round(max(total), 1)],
        "where_the_time_goes_ms": {
            "tap_to_camera_stream": part("tap", "stream"),
            "stream_to_video_playing": part("stream", "playing"),
            "playing_to_first_frame_sent": part("playing", "frame"),
            "first_frame_to_code_read": part("frame", "decoded"),
            "code_read_to_verdict_painted": part("decoded", "verdict"),
        },
        "worker_decode_ms_per_frame": _median([m["ms"] for r in runs for m in r["worker_ms"]]) if any(r["worker_ms"] for r in runs) else None,
        "worker_pixels_ms_per_frame": _median([m.get("pixelsMs") or 0 for r in runs for m in r["worker_ms"]]) if any(r["worker_ms"] for r in runs) else None,
        "frames_decoded_per_scan": _median([len(r["worker_ms"]) for r in runs]),
        "results_seen": sorted({r["result"] for r in runs}),
        "baseline_zxing_wasm_alone_ms": round(zx, 1),
        "baseline_frame": f"{base[0]['width']}x{base[0]['height']}",
        "tap_to_verdict_vs_baseline": round(statistics.median(total) / zx, 1),
    }


def run() -> dict:
    from playwright.sync_api import sync_playwright

    zxing_iife = (ROOT / "pwa" / "node_modules" / "zxing-wasm" / "dist" / "iife" / "reader" / "index.js").read_text()
    bundle = dp1_bundle()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        s = Served(tmp, build_pwa=True)
        try:
            wasm = next((tmp / "dist" / "assets").glob("zxing_reader-*.wasm")).name
            with sync_playwright() as p:
                out: dict[str, object] = {f"cpu_{rate}x": _condition(p, s, tmp, rate, IDLE_S, f"/assets/{wasm}", zxing_iife, bundle)
                                         for rate in RATES}
                # the hurried case: the tap the moment the button and the lists show (the warm-up may not be done)
                out["cpu_4x_tap_at_once"] = _condition(p, s, tmp, 4, 0, f"/assets/{wasm}", zxing_iife)
        finally:
            s.stop()
    out["goal"] = "tap to verdict <= 500 ms at cpu_4x (issue 11); verdict per frame < 1 s (issue 12)"
    out["goals"] = goals(out)
    out["note"] = ("offline, served by the service worker; the camera may open before the tap (permission already "
                   f"granted, the page open {IDLE_S} s); baseline = zxing-wasm readBarcodes alone on the same frame, "
                   "main thread, same CPU rate")
    return out


def _goal(name: str, value: float, zx: float | None, rate: int, goal_ms: float, *, at_most: bool = False) -> dict:
    return {"name": name, "value": value, "unit": "ms", "baseline": f"zxing-wasm decode alone, same frame, {rate}x CPU",
            "baseline_value": zx, "ratio": round(value / zx, 2) if zx else None,
            "goal": f"{'<=' if at_most else '<'} {goal_ms:,.0f} ms",
            "met": value <= goal_ms if at_most else value < goal_ms}


def goals(out: dict) -> list[dict]:
    """The report's goal rows, each against zxing-wasm decode alone at its CPU rate: per rate, the verdict per frame
    in the app (code read to verdict painted, p95) and the verify step alone (p95); then tap to verdict at 4x."""
    rows = []
    for rate in RATES:
        c = out.get(f"cpu_{rate}x") or {}
        zx = c.get("baseline_zxing_wasm_alone_ms")
        if a := c.get("verdict_in_app"):
            rows.append(_goal(f"offline verdict per frame in the app, code read → verdict painted, {rate}x CPU "
                              f"(p95 of {a['n']}; median {a['median_ms']} ms)", a["p95_ms"], zx, rate, VERDICT_GOAL_MS))
        if v := c.get("verdict_per_frame"):
            rows.append(_goal(f"offline verify step alone (dp1 verify()), {rate}x CPU (p95 of {v['n']}; median "
                              f"{v['median_ms']} ms)", v["p95_ms"], zx, rate, VERDICT_GOAL_MS))
    c4 = out.get("cpu_4x") or {}
    if c4.get("tap_to_verdict_ms") is not None:
        rows.append(_goal("scan: tap to verdict, fake camera, 4x CPU (median)", c4["tap_to_verdict_ms"],
                          c4.get("baseline_zxing_wasm_alone_ms"), 4, TAP_GOAL_MS, at_most=True))
    return rows

if __name__ == "__main__":
    print(json.dumps(run(), indent=2, ensure_ascii=False))
