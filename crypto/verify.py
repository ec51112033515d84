"""`verify()`: the spec's checks, in the spec's order; any input at all gives a result code."""

from __future__ import annotations

import msgspec

from crypto.dp1 import STEP_SECONDS, TAG_CRED, Parsed, day, live_message, parse_qr
from crypto.errors import CryptoError
from crypto.keys import verify_sig
from crypto.lists import Issuer, StatusList, TrustList
from crypto.totp import check_code

RESULTS = ("malformed", "unknown_issuer", "bad_issuer_sig", "bad_device_sig", "not_yet_valid", "expired",
           "stale", "future", "bad_code", "revoked", "red", "caution", "valid")
_BY_STATUS = ("valid", "caution", "red", "revoked")


class Verdict(msgspec.Struct):
    """The first check that failed (or `valid`), with what was learnt on the way."""

    result: str
    parsed: Parsed | None = None
    issuer: Issuer | None = None
    status: int | None = None


def verify(qr: object, now: int, trust: TrustList, status: StatusList, secret: str | None = None) -> Verdict:
    """Verify a DP1 live frame or printed card at `now`; online when `secret` is given. Never raises."""
    try:
        return _verify(qr, now, trust, status, secret)
    except Exception:  # noqa: BLE001 - a verifier must not crash on any input
        return Verdict("malformed")


def _verify(qr: object, now: int, trust: TrustList, status: StatusList, secret: str | None) -> Verdict:
    if not isinstance(qr, str):
        return Verdict("malformed")
    try:
        p = parse_qr(qr)
    except CryptoError:
        return Verdict("malformed")
    c = p.cred
    issuer = trust.issuer(c.kid)
    if issuer is None or not issuer.not_before <= now <= issuer.not_after:
        return Verdict("unknown_issuer", p)
    if not verify_sig(issuer.pub, p.issuer_sig, TAG_CRED + p.cred_bytes):
        return Verdict("bad_issuer_sig", p, issuer)
    live = p.step is not None and p.code is not None and p.device_sig is not None
    if live and not verify_sig(c.device_pub, p.device_sig, live_message(p.cred_bytes, p.step, p.code)):
        return Verdict("bad_device_sig", p, issuer)
    today = day(now)
    if today < c.issued_day:
        return Verdict("not_yet_valid", p, issuer)
    if today > c.expires_day:
        return Verdict("expired", p, issuer)
    if live:  # a printed card has no device, step or code rows
        current = now // STEP_SECONDS
        if p.step < current - 1:
            return Verdict("stale", p, issuer)
        if p.step > current + 1:
            return Verdict("future", p, issuer)
        if secret is not None and not check_code(secret, p.step, p.code):
            return Verdict("bad_code", p, issuer)
    value = status.get(c.status_index)
    return Verdict(_BY_STATUS[value], p, issuer, value)
