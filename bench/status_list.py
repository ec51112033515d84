"""Status list size and re-signing time (issue 12), with crypto's own list functions.

Lists of 131,072 and 1,000,000 passes with 5 % of them non-green (yellow, red or revoked at random, at random
places), packed by `crypto.pack_status` and signed by `crypto.build_status` as the server does: the size of the
signed envelope (JSON, as `GET /api/status` sends it) raw, gzipped as the server's middleware sends it (level 6)
and brotli (quality 11, as a CDN or a precompressed static file would); the time to re-sign after one change
against one Ed25519 signature; and W3C Bitstring Status List's own case (131,072 entries of 1 bit, 16 KiB, with
1,000 set at random) measured the same way for comparison.

Brotli comes from the `brotli` package when it is installed, else from Node's zlib (`node` is needed for the PWA
build anyway); without either the brotli figures are None and the output says why.
"""

from __future__ import annotations

import base64
import gzip
import random
import shutil
import statistics
import subprocess
import time
import zlib
from collections.abc import Callable

import msgspec

import crypto

SIZES = (131_072, 1_000_000)
NON_GREEN = 0.05
GOAL_BYTES = 300 * 1000  # ≤ 300 KB at 1 M on the wire
SEED = 12


def statuses(size: int, share: float = NON_GREEN, seed: int = SEED) -> bytearray:
    """`size` entries, `share` of them 1, 2 or 3 (yellow, red, revoked) at random places, the rest 0 (green)."""
    rng = random.Random(seed)
    out = bytearray(size)
    for index in rng.sample(range(size), round(size * share)):
        out[index] = rng.randint(1, 3)
    return out


def envelope_bytes(size: int, share: float = NON_GREEN, seed: int = SEED) -> tuple[bytes, bytes, bytearray]:
    """The signed envelope's JSON as served, the status key, and the packed bitstring."""
    key = crypto.new_signing_key()
    bits = crypto.pack_status(statuses(size, share, seed), size)
    env = crypto.build_status(key, seq=1, issued_at=1_795_000_000, size=size, bitstring=bits)
    return msgspec.json.encode(env), key, bytearray(bits)


def gzipped(data: bytes) -> int:
    """Bytes on the wire from the server's gzip middleware (Litestar CompressionConfig, level 6)."""
    return len(gzip.compress(data, compresslevel=6))


def brotli_size(data: bytes) -> tuple[int | None, str]:
    """Brotli quality 11: the `brotli` package, else Node's zlib, else None with the reason."""
    try:
        import brotli

        return len(brotli.compress(data, quality=11)), "python brotli"
    except ImportError:
        pass
    node = shutil.which("node")
    if node is None:
        return None, "no brotli: neither the `brotli` package nor node is installed"
    script = (
        "const z=require('zlib');const c=[];process.stdin.on('data',d=>c.push(d)).on('end',()=>{"
        "const b=Buffer.concat(c);process.stdout.write(String(z.brotliCompressSync(b,{params:{"
        "[z.constants.BROTLI_PARAM_QUALITY]:11,[z.constants.BROTLI_PARAM_SIZE_HINT]:b.length}}).length))})"
    )
    done = subprocess.run([node, "-e", script], input=data, capture_output=True, check=True, timeout=120)
    return int(done.stdout), "node zlib"


def resign_once(key: bytes, bits: bytearray, size: int, index: int, value: int) -> None:
    """What server.domain.lists.services.resign_status does for one change: set 2 bits, pack, sign."""
    byte, shift = divmod(index, 4)
    shift = 6 - 2 * shift
    bits[byte] = (bits[byte] & ~(3 << shift) & 0xFF) | ((value & 3) << shift)
    msgspec.json.encode(crypto.build_status(key, seq=2, issued_at=1_795_000_001, size=size, bitstring=bytes(bits)))


def _median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(size: int) -> dict:
    data, key, bits = envelope_bytes(size)
    bitstring = bytes(bits)
    deflated = zlib.compress(bitstring, 9)
    br, br_how = brotli_size(data)
    rng = random.Random(size)
    resign = _median_seconds(lambda: resign_once(key, bits, size, rng.randrange(size), rng.randint(0, 3)), 7)
    msg = b"DP1/status\0" + data
    one_sig = _median_seconds(lambda: crypto.sign(key, msg), 201)
    return {
        "size": size,
        "non_green": round(size * NON_GREEN),
        "bitstring_bytes": len(bitstring),
        "zlib_bitstring_bytes": len(deflated),
        "envelope_raw_bytes": len(data),
        "envelope_gzip_bytes": gzipped(data),
        "envelope_brotli_bytes": br,
        "brotli_by": br_how,
        "resign_ms": round(resign * 1000, 2),
        "ed25519_sign_ms": round(one_sig * 1000, 4),
        "resign_vs_sign": round(resign / one_sig, 1),
    }


def w3c_case() -> dict:
    """W3C Bitstring Status List's minimum list: 131,072 one-bit entries (16 KiB), 1,000 set at random, GZIP'd,
    base64url (multibase 'u') as its `encodedList`."""
    rng = random.Random(SEED)
    bitstring = bytearray(131_072 // 8)
    for index in rng.sample(range(131_072), 1000):
        bitstring[index >> 3] |= 0x80 >> (index & 7)
    encoded = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bitstring), 9)).decode().rstrip("=")
    return {"entries": 131_072, "set": 1000, "bitstring_bytes": len(bitstring), "gzip_bytes": len(gzip.compress(bytes(bitstring), 9)),
            "encoded_list_chars": len(encoded)}


def run() -> dict:
    rows = [measure(size) for size in SIZES]
    w3c = w3c_case()
    big = rows[-1]
    on_wire = min(x for x in (big["envelope_gzip_bytes"], big["envelope_brotli_bytes"]) if x is not None)
    goals = [
        {
            "name": "status list at 1 M passes (5 % non-green), gzip on the wire",
            "value": big["envelope_gzip_bytes"], "unit": "bytes",
            "baseline": "the 2-bit bitstring uncompressed", "baseline_value": big["bitstring_bytes"],
            "ratio": round(big["envelope_gzip_bytes"] / big["bitstring_bytes"], 3),
            "goal": f"≤ {GOAL_BYTES} bytes", "met": big["envelope_gzip_bytes"] <= GOAL_BYTES,
        },
        {
            "name": "status list at 1 M passes (5 % non-green), brotli",
            "value": big["envelope_brotli_bytes"] or 0, "unit": "bytes",
            "baseline": "the 2-bit bitstring uncompressed", "baseline_value": big["bitstring_bytes"],
            "ratio": round(big["envelope_brotli_bytes"] / big["bitstring_bytes"], 3) if big["envelope_brotli_bytes"] else None,
            "goal": f"≤ {GOAL_BYTES} bytes",
            "met": None if big["envelope_brotli_bytes"] is None else big["envelope_brotli_bytes"] <= GOAL_BYTES,
        },
    ]
    for row in rows:
        goals.append({
            "name": f"re-sign the status list after one change ({row['size']:,} passes)",
            "value": row["resign_ms"], "unit": "ms",
            "baseline": "one Ed25519 signature", "baseline_value": row["ed25519_sign_ms"], "ratio": row["resign_vs_sign"],
            "goal": "reported (no goal set)", "met": None,
        })
    return {
        "lists": rows,
        "w3c_minimum_list": w3c,
        "smallest_on_wire_at_1m": on_wire,
        "notes": (
            "Envelope = JSON {payload: b64u(JSON{..., list: b64u(zlib(bitstring))}), sig}: the list is base64url "
            "twice (x16/9 in characters); gzip and brotli win most of that back. DP1 format unchanged."
        ),
        "goals": goals,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2, ensure_ascii=False))
