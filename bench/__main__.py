"""`python -m bench [NAME ...]`: run the benchmarks and print a JSON report (also bench/out/report.json)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench import lighthouse, pwa, scan, sync_push, verify_load, verify_py

BENCHES = {"verify_py": verify_py.run, "pwa": pwa.run, "sync_push": sync_push.run, "verify_load": verify_load.run,
           "scan": scan.run, "lighthouse": lighthouse.run}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    report = {}
    for name in names:
        print(f"bench {name} ...", file=sys.stderr, flush=True)
        report[name] = BENCHES[name]()
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


sys.exit(main(sys.argv[1:]))
