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
    try:
        p = parse_qr(qr)  # type: ignore[arg-type]
    except CryptoError:
        return Verdict("malformed")
    c = p.cred
    issuer = trust.issuer(c.kid)
    if issuer is None or not issuer.not_before <= now <= issuer.not_after:
        return Verdict("unknown_issuer", p)
    if not verify_sig(issuer.pub, p.issuer_sig, TAG_CRED + p.cred_bytes):
        return Verdict("bad_issuer_sig", p, issuer)
    live = p.kind == "live"
    if live and not verify_sig(c.device_pub, p.device_sig, live_message(p.cred_bytes, p.step, p.code)):  # type: ignore[arg-type]
        return Verdict("bad_device_sig", p, issuer)
    today = day(now)
    if today < c.issued_day:
        return Verdict("not_yet_valid", p, issuer)
    if today > c.expires_day:
        return Verdict("expired", p, issuer)
    if live:
        current = now // STEP_SECONDS
        if p.step < current - 1:  # type: ignore[operator]
            return Verdict("stale", p, issuer)
        if p.step > current + 1:  # type: ignore[operator]
            return Verdict("future", p, issuer)
        if secret is not None and not check_code(secret, p.step, p.code):  # type: ignore[arg-type]
            return Verdict("bad_code", p, issuer)
    value = status.get(c.status_index)
    return Verdict(_BY_STATUS[value], p, issuer, value)
