"""Scan to verdict in Chromium with the fake camera, offline, at full speed and with the CPU throttled 4×.

From the tap on 扫码核验 to the verdict on screen (the frame after it is in the page), measured inside the page
(`performance.now()`), with the app's own marks (pwa/src/scan/camera.ts) splitting the time: tap → camera stream →
video playing → first frame sent → code read → verdict painted. The page opens, the person looks at it for a moment
(IDLE_S), then taps: what a household does at the door.

Baseline, in the same page and run, at the same CPU rate: zxing-wasm alone (its IIFE build, `readBarcodes` on the
main thread, the same options the app used before issue 11) on the same camera frame, the module already compiled.
Conditions: cpu_1x and cpu_4x (CDP Emulation.setCPUThrottlingRate) with the tap IDLE_S after the page is ready, and
cpu_4x_tap_at_once, the tap as soon as the button and the lists show.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from tests.e2e.camera import write_y4m
from tests.e2e.conftest import CHROMIUM, FLAGS
from tests.served import ROOT, Served

REPS = int(os.environ.get("DOORPASS_SCAN_REPS", "7"))
IDLE_S = 1.5
RATES = (1, 4)

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


def _median(xs: list[float]) -> float:
    return round(statistics.median(xs), 1)


def _condition(p, s: Served, tmp: Path, rate: int, idle: float, wasm_url: str, zxing_iife: str) -> dict:  # type: ignore[no-untyped-def]
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

    return {
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
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        s = Served(tmp, build_pwa=True)
        try:
            wasm = next((tmp / "dist" / "assets").glob("zxing_reader-*.wasm")).name
            with sync_playwright() as p:
                out: dict[str, object] = {f"cpu_{rate}x": _condition(p, s, tmp, rate, IDLE_S, f"/assets/{wasm}", zxing_iife) for rate in RATES}
                # the hurried case: the tap the moment the button and the lists show (the warm-up may not be done)
                out["cpu_4x_tap_at_once"] = _condition(p, s, tmp, 4, 0, f"/assets/{wasm}", zxing_iife)
        finally:
            s.stop()
    out["goal"] = "tap to verdict <= 500 ms at cpu_4x (issue 11)"
    out["note"] = ("offline, served by the service worker; the camera may open before the tap (permission already "
                   f"granted, the page open {IDLE_S} s); baseline = zxing-wasm readBarcodes alone on the same frame, "
                   "main thread, same CPU rate")
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, ensure_ascii=False))
