"""The household's visit code (docs/devices.md): what the worker scans to check in.

    DPV2:<visit_id>.<pseudonym>.<serial>.<at>.<sig>
    sig = Ed25519(household device key, "DP1/visit\\0" || visit_id "\\n" pseudonym "\\n" serial "\\n" at)

It names a per-visit pseudonym, never the household's device. The worker cannot check `sig`; the server checks it
with the key of the device whose review or complaint of the visit arrives (`signed_by`). Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import crypto

DOMAIN = b"DP1/visit\0"
WINDOW = 3600
"""Seconds after the household's verification within which the worker may check in with its code."""
SKEW = 300
"""Seconds a check-in may seem to come before the code (two phones' clocks)."""

_CODE = re.compile(
    r"^DPV2:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{22})\.(\d{1,16})\.(\d{1,12})"
    r"\.([A-Za-z0-9_-]{86})$"
)


@dataclass(frozen=True)
class VisitCode:
    visit_id: str
    pseudonym: str
    serial: int
    at: int
    sig: bytes

    def message(self) -> bytes:
        return message(self.visit_id, self.pseudonym, self.serial, self.at)

    def signed_by(self, pub: bytes | None) -> bool:
        """Whether the device of key `pub` made this code."""
        return pub is not None and crypto.verify_sig(pub, self.sig, self.message())


def message(visit_id: str, pseudonym: str, serial: int, at: int) -> bytes:
    return DOMAIN + f"{visit_id}\n{pseudonym}\n{serial}\n{at}".encode()


def parse(text: str) -> VisitCode | None:
    """The code's parts, or None when it is not a DPV2 visit code."""
    m = _CODE.match(text)
    if m is None:
        return None
    try:
        sig = crypto.b64u_decode(m[5])
    except (crypto.CryptoError, ValueError):
        return None
    if len(sig) != 64:
        return None
    return VisitCode(m[1], m[2], int(m[3]), int(m[4]), sig)


def make(priv: bytes, visit_id: str, pseudonym: str, serial: int, at: int) -> str:
    """A visit code signed with the household device key `priv` (tests and tools; the PWA makes its own)."""
    sig = crypto.sign(priv, message(visit_id, pseudonym, serial, at))
    return f"DPV2:{visit_id}.{pseudonym}.{serial}.{at}.{crypto.b64u_encode(sig)}"
