"""RFC 6238 appendix B (SHA-1 rows), cut to our 6 digits, through totp_code / check_code."""

from __future__ import annotations

import base64

import pyotp
import pytest

import crypto

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


@pytest.mark.parametrize("t,code", [(59, 287082), (1111111109, 81804), (1111111111, 50471), (1234567890, 5924),
                                    (2000000000, 279037), (20000000000, 353130)])
def test_rfc6238_sha1(t: int, code: int) -> None:
    step = t // 30
    assert crypto.totp_code(RFC_SECRET, step) == code
    assert crypto.check_code(RFC_SECRET, step, code)
    assert not crypto.check_code(RFC_SECRET, step, (code + 1) % 1_000_000)
    assert not crypto.check_code(RFC_SECRET, step + 1, code)


def test_code_is_what_pyotp_prints() -> None:
    secret = crypto.new_totp_secret()
    for step in (0, 1, 59_833_333, 2**32):
        assert crypto.totp_code(secret, step) == int(pyotp.TOTP(secret).at(step * 30))


def test_new_secret_is_base32_of_20_bytes() -> None:
    s = crypto.new_totp_secret()
    assert len(base64.b32decode(s)) == 20 and s != crypto.new_totp_secret()


@pytest.mark.parametrize("secret", ["not base32!", "A"])
def test_check_code_with_a_bad_secret_is_false(secret: str) -> None:
    assert crypto.check_code(secret, 1, 123456) is False
