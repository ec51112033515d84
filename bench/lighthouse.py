"""Lighthouse (npm lighthouse@12.2.3, pinned exactly: 13 wants Node 22) on `/`, `/verify` and `/pass` of a served app.

Its default mobile profile (simulated slow 4G, 4× CPU), headless Debian Chromium, a fresh profile each run: what a
first visit sees (no service worker yet, no pass on the phone — so `/pass` shows the enroll prompt). Each page runs
RUNS times; the median of each figure is reported.

Baseline, in the same run and the same way: a bare Preact "hello" page built by the same toolchain (bench/pwa.py's
framework floor), served by the same server process's static files — the best a page of this stack can score here.

Lighthouse is installed on the first run into bench/.lighthouse (ignored by git), so `make test` and `make run` never
wait for it.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench.pwa import _floor_build
from tests.e2e.conftest import CHROMIUM
from tests.served import Served

VERSION = "12.2.3"
HERE = Path(__file__).resolve().parent
PREFIX = HERE / ".lighthouse"
BIN = PREFIX / "node_modules" / ".bin" / "lighthouse"
RUNS = int(os.environ.get("DOORPASS_LIGHTHOUSE_RUNS", "3"))
PAGES = ("/", "/verify", "/pass")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def ensure_lighthouse() -> Path:
    pkg = PREFIX / "node_modules" / "lighthouse" / "package.json"
    PREFIX.mkdir(exist_ok=True)
    if not (PREFIX / ".gitignore").exists():
        (PREFIX / ".gitignore").write_text("*\n")  # the whole install stays out of git
    if not (BIN.exists() and pkg.exists() and json.loads(pkg.read_text())["version"] == VERSION):
        subprocess.run(["npm", "i", "-E", "--no-audit", "--no-fund", "--prefix", str(PREFIX), f"lighthouse@{VERSION}"],
                       check=True, capture_output=True, timeout=600)
    return BIN


def lighthouse(url: str, out: Path) -> dict:
    flags = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --disable-background-networking"
    r = subprocess.run([str(ensure_lighthouse()), url, "--quiet", "--output=json", f"--output-path={out}",
                        f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={flags}", "--locale=en-US"],
                       env={**os.environ, "CHROME_PATH": CHROMIUM}, capture_output=True, text=True, timeout=300)
    if r.returncode != 0 or not out.exists():
        raise RuntimeError(f"lighthouse {url} failed: {r.stderr[-2000:]}")
    lhr = json.loads(out.read_text())
    cats, audits = lhr["categories"], lhr["audits"]
    failed = sorted(k for c in CATEGORIES if c != "performance" for ref in cats[c]["auditRefs"]
                    if ref["weight"] > 0 and (k := ref["id"]) in audits and audits[k].get("score") not in (None, 1))
    return {
        **{c: round(cats[c]["score"] * 100) for c in CATEGORIES},
        "tbt_ms": round(audits["total-blocking-time"]["numericValue"]),
        "lcp_ms": round(audits["largest-contentful-paint"]["numericValue"]),
        "fcp_ms": round(audits["first-contentful-paint"]["numericValue"]),
        "failed_audits": failed,
    }


def _median(runs: list[dict]) -> dict:
    out: dict = {k: statistics.median(r[k] for r in runs) for k in ("performance", "accessibility", "best-practices",
                                                                   "seo", "tbt_ms", "lcp_ms", "fcp_ms")}
    out["performance_runs"] = [r["performance"] for r in runs]
    out["tbt_runs_ms"] = [r["tbt_ms"] for r in runs]
    out["failed_audits"] = sorted({a for r in runs for a in r["failed_audits"]})
    return out


def run() -> dict:
    ensure_lighthouse()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        s = Served(tmp, build_pwa=True)
        try:
            _floor_build(tmp)  # tmp/floor/dist: the baseline page, served as a static file of the app's server
            shutil.copytree(tmp / "floor" / "dist" / "assets", tmp / "dist" / "assets", dirs_exist_ok=True)
            (tmp / "dist" / "bench-floor.html").write_text((tmp / "floor" / "dist" / "index.html").read_text())
            baseline = _median([lighthouse(s.base + "/bench-floor.html", tmp / f"floor-{i}.json") for i in range(RUNS)])
            pages = {path: _median([lighthouse(s.base + path, tmp / f"lh-{i}.json") for i in range(RUNS)]) for path in PAGES}
        finally:
            s.stop()
    report: dict = {"baseline_preact_hello": baseline}
    for path, m in pages.items():
        m["performance_vs_baseline"] = round(m["performance"] / baseline["performance"], 2)
        m["lcp_vs_baseline"] = round(m["lcp_ms"] / baseline["lcp_ms"], 2)
        m["tbt_over_baseline_ms"] = m["tbt_ms"] - baseline["tbt_ms"]
        report[path] = m
    goals = []
    for path in PAGES:
        m = report[path]
        goals.append({"name": f"Lighthouse performance {path} (mobile, median of {RUNS})", "value": m["performance"],
                      "unit": "score", "baseline": "bare Preact hello page", "baseline_value": baseline["performance"],
                      "ratio": m["performance_vs_baseline"], "goal": "≥ 95", "met": m["performance"] >= 95})
        goals.append({"name": f"Lighthouse total blocking time {path}", "value": m["tbt_ms"], "unit": "ms",
                      "baseline": "bare Preact hello page", "baseline_value": baseline["tbt_ms"],
                      "ratio": round(m["tbt_ms"] / baseline["tbt_ms"], 2) if baseline["tbt_ms"] else None,
                      "goal": "reported", "met": None})
        goals.append({"name": f"Lighthouse largest contentful paint {path}", "value": m["lcp_ms"], "unit": "ms",
                      "baseline": "bare Preact hello page", "baseline_value": baseline["lcp_ms"],
                      "ratio": m["lcp_vs_baseline"], "goal": "reported", "met": None})
        for cat in ("accessibility", "best-practices"):
            goals.append({"name": f"Lighthouse {cat} {path}", "value": m[cat], "unit": "score",
                          "baseline": "bare Preact hello page", "baseline_value": baseline[cat],
                          "ratio": round(m[cat] / baseline[cat], 2) if baseline[cat] else None,
                          "goal": "100", "met": m[cat] == 100})
    report["goals"] = goals
    report["goal"] = "performance >= 95, accessibility and best-practices 100 (issue 11)"
    report["note"] = (f"lighthouse {VERSION}, mobile profile, headless Chromium, fresh profile (first visit: /pass shows "
                      f"the enroll prompt, no pass on the phone); median of {RUNS} runs")
    return report


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, ensure_ascii=False))
