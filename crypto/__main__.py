"""`python -m crypto verify --vectors PATH`: print the result code of every case, in order, as one JSON list.

It prints results only and compares nothing; a file it cannot use exits 2 with a message on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from crypto import CryptoError, b64u_decode, open_status, open_trust, verify


class BadFile(Exception):
    """The vectors file is not shaped like tests/vectors/dp1.json."""


def _field(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise BadFile(f"{where} has no {key!r}")
    return obj[key]


def verify_vectors(path: str) -> list[str]:
    """Pin root_pub, open trust then status, and verify every case at its `now` (online when it has a secret)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise BadFile(f"{type(e).__name__}: {e}") from e
    try:
        trust = open_trust(_field(data, "trust", "the file"), b64u_decode(_field(data, "root_pub", "the file")))
        status = open_status(_field(data, "status", "the file"), trust.status_pub)
    except CryptoError as e:
        raise BadFile(f"the trust or status list does not open: {type(e).__name__}: {e}") from e
    cases = _field(data, "cases", "the file")
    if not isinstance(cases, list):
        raise BadFile("'cases' is not a list")
    results: list[str] = []
    for i, c in enumerate(cases):
        now = _field(c, "now", f"case {i}")
        if not isinstance(now, int) or isinstance(now, bool):
            raise BadFile(f"case {i}: 'now' is not an integer")
        secret = c.get("secret")
        if secret is not None and not isinstance(secret, str):
            raise BadFile(f"case {i}: 'secret' is neither null nor text")
        results.append(verify(_field(c, "qr", f"case {i}"), now, trust, status, secret=secret).result)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crypto", description="DP1 tools")
    sub = parser.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify", help="print the result code of every case of a vectors file, as one JSON list")
    v.add_argument("--vectors", required=True, metavar="PATH", help="a file shaped like tests/vectors/dp1.json")
    args = parser.parse_args(argv)
    try:
        results = verify_vectors(args.vectors)
    except BadFile as e:
        print(f"cannot read vectors from {args.vectors}: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        print(f"cannot read vectors from {args.vectors}: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    print(json.dumps(results, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
