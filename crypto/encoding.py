"""base45 (RFC 9285) and base64url without padding."""

from __future__ import annotations

import base64
import re

from crypto.errors import Malformed

B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_VALUE = {c: i for i, c in enumerate(B45)}
_B64U = re.compile(r"[A-Za-z0-9_-]*")


def b45encode(data: bytes) -> str:
    """Encode bytes as base45 (RFC 9285)."""
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += (B45[c], B45[d], B45[e])
    if len(data) % 2:
        out += (B45[data[-1] % 45], B45[data[-1] // 45])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """Decode base45; anything not exactly valid raises Malformed."""
    if not isinstance(text, str):
        raise Malformed("base45 input must be text")
    try:
        values = [_B45_VALUE[c] for c in text]
    except KeyError as e:
        raise Malformed("character outside the base45 alphabet") from e
    if len(values) % 3 == 1:
        raise Malformed("base45 length")
    out = bytearray()
    for i in range(0, len(values) - 2, 3):
        n = values[i] + values[i + 1] * 45 + values[i + 2] * 2025
        if n > 0xFFFF:
            raise Malformed("base45 triple out of range")
        out += n.to_bytes(2, "big")
    if len(values) % 3 == 2:
        n = values[-2] + values[-1] * 45
        if n > 0xFF:
            raise Malformed("base45 pair out of range")
        out.append(n)
    return bytes(out)


def b64u_encode(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Decode base64url without padding, strictly: no `=`, no other characters, canonical last character.

    Each byte string thus has exactly one accepted text, the one `b64u_encode` makes.
    """
    if not isinstance(text, str) or not _B64U.fullmatch(text) or len(text) % 4 == 1:
        raise Malformed("not unpadded base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64u_encode(data) != text:
        raise Malformed("non-canonical base64url (stray bits in the last character)")
    return data
