"""RFC 6238 TOTP (HMAC-SHA1, 30 s, 6 digits) through pyotp; steps are passed in, never read from a clock."""

from __future__ import annotations

import base64
import hmac
import os

import pyotp


def new_totp_secret() -> str:
    """Base32 of 20 random bytes."""
    return base64.b32encode(os.urandom(20)).decode("ascii")


def totp_code(secret_b32: str, step: int) -> int:
    """The code for time step `step`, as an integer (what `pyotp.TOTP(secret).at(step * 30)` prints)."""
    return int(pyotp.TOTP(secret_b32).at(step * 30))


def check_code(secret_b32: str, step: int, code: int) -> bool:
    """Whether `code` is the code for `step`, compared in constant time; False (never an error) for a bad secret."""
    try:
        expected = b"%06d" % totp_code(secret_b32, step)
        given = b"%06d" % code
    except (ValueError, TypeError):  # binascii.Error (a bad base32 secret) is a ValueError
        return False
    return hmac.compare_digest(expected, given)


def check_code_now(secret_b32: str, code: int, now: int) -> bool:
    """Whether `code` is the code for the 30 s step of Unix time `now` or one step either side (a code read out
    or typed, docs/spec/dp1.md §9.6). All three steps are always compared; False (never an error) for a bad secret."""
    current = now // 30
    return any([check_code(secret_b32, step, code) for step in (current - 1, current, current + 1)])
