"""`python -m bench [NAME ...]`: run the benchmarks, write bench/out/results.json and bench/out/REPORT.md (with its
PNG plots), and print where they are.

Without names every module of `BENCHES` runs, in order; with names only those run and their results replace the
same entries of an existing results.json (the others are kept, each with the date it ran). A module that is not
in the checkout yet is skipped with a message; one that fails is reported as failed (its traceback in
results.json) and the others still run. `python -m bench.report` redraws the report from results.json alone.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from datetime import UTC, datetime

from bench import report

BENCHES = [
    "verify_py",  # crypto.verify in process: the baseline of online verify
    "http",  # verify and the lists over HTTP (wrk), 1, 2 and 4 processes
    "verify_load",  # verify and pull beside heavy pushes
    "sync_push",  # push against a bulk insert; pull against a plain read
    "pull",  # a whole pull against the records a phone holds (plot)
    "push_procs",  # push at 1, 2 and 4 processes on PostgreSQL
    "status_list",  # status list size and re-signing time
    "wire",  # bytes of a first visit on the wire
    "pwa",  # the built PWA's assets
    "scan",  # offline verdict and scan-to-verdict in Chromium
    "lighthouse",  # Lighthouse's mobile profile
    "dbsize",  # what PostgreSQL holds per million passes and records
]


def run_one(name: str) -> dict:
    """One bench module's `run()`, timed; a missing module or a failure becomes an entry that says so."""
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        module = importlib.import_module(f"bench.{name}")
    except ModuleNotFoundError as e:
        if e.name != f"bench.{name}":
            raise
        print(f"bench {name}: skipped (no module bench/{name}.py in this checkout)", file=sys.stderr, flush=True)
        return {"status": "skipped", "reason": f"no module bench/{name}.py in this checkout", "at": at}
    print(f"bench {name} ...", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    try:
        result = module.run()
    except Exception as e:
        traceback.print_exc()
        print(f"bench {name}: FAILED ({type(e).__name__}: {e})", file=sys.stderr, flush=True)
        return {"status": "failed", "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(), "at": at,
                "seconds": round(time.monotonic() - t0, 1)}
    seconds = round(time.monotonic() - t0, 1)
    print(f"bench {name}: done in {seconds} s", file=sys.stderr, flush=True)
    return {"status": "ok", "at": at, "seconds": seconds, "result": result}


def main(argv: list[str]) -> int:
    unknown = [n for n in argv if n not in BENCHES]
    if unknown:
        print(f"unknown bench {', '.join(unknown)}; known: {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    names = argv or BENCHES
    results: dict = {"machine": report.describe_machine(), "benches": {}}
    if argv and report.RESULTS.exists():  # a partial run updates the last full one
        results["benches"] = json.loads(report.RESULTS.read_text(encoding="utf-8")).get("benches", {})
    for name in names:
        results["benches"][name] = run_one(name)
        report.OUT.mkdir(parents=True, exist_ok=True)  # written after each bench: a long run is never all lost
        report.RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    written = report.render(results, report.OUT)
    print(report.summary(results))
    print(f"results: {report.RESULTS}\nreport:  {written}")
    return 1 if any(b.get("status") == "failed" for b in results["benches"].values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
