"""`python -m crypto verify --vectors PATH`: print the result code of every case, in order, as one JSON list."""

from __future__ import annotations

import argparse
import json
import sys

from crypto import b64u_decode, open_status, open_trust, verify


def _verify_vectors(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    trust = open_trust(data["trust"], b64u_decode(data["root_pub"]))
    status = open_status(data["status"], trust.status_pub)
    return [verify(c["qr"], c["now"], trust, status, secret=c.get("secret")).result for c in data["cases"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crypto", description="DP1 tools")
    sub = parser.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify", help="verify every case of a vectors file")
    v.add_argument("--vectors", required=True, metavar="PATH")
    args = parser.parse_args(argv)
    try:
        results = _verify_vectors(args.vectors)
    except (OSError, ValueError, KeyError, TypeError, Exception) as e:  # noqa: BLE001 - report, don't trace
        print(f"cannot read vectors from {args.vectors}: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    print(json.dumps(results, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
