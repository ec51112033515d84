"""`verify()` and `verify_code()`: the spec's checks, in the spec's order; any input at all gives a result code."""

from __future__ import annotations

import msgspec

from crypto.dp1 import (
    STEP_SECONDS,
    TAG_CRED,
    Credential,
    Parsed,
    day,
    decode_cred,
    live_message,
    parse_qr,
)
from crypto.enums import Result, Status
from crypto.errors import CryptoError
from crypto.keys import verify_sig
from crypto.lists import Issuer, StatusList, TrustList
from crypto.totp import check_code, check_code_now


class Verdict(msgspec.Struct):
    """The first check that failed (or `valid`), with what was learnt on the way."""

    result: Result
    parsed: Parsed | None = None
    issuer: Issuer | None = None
    status: Status | None = None
    cred: Credential | None = None
    """The decoded credential (`verify_code`; `verify` gives it in `parsed`)."""


def verify(
    qr: object, now: int, trust: TrustList, status: StatusList, secret: str | None = None, *,
    parsed: Parsed | None = None, issued: tuple[bytes, bytes] | None = None,
) -> Verdict:
    """Verify a DP1 live frame or printed card at `now`; online when `secret` is given. Never raises.

    Two shortcuts for a verifier that already knows something, neither of which changes a result:
    - `parsed`: `parse_qr(qr)`, when the caller has just parsed it (the frame is not decoded twice);
    - `issued`: the (credential bytes, issuer signature) pair the verifier itself issued and keeps (the server's pass
      row). When the frame carries exactly that pair, the issuer signature is not checked again: the issuer made it
      with the key its `kid` names, and a `kid` names one key for ever. Every other check runs as usual (the issuer
      still has to be in the trust list and in its validity window; the device signature, days, step, code, status).
    """
    try:
        return _verify(qr, now, trust, status, secret, parsed, issued)
    except Exception:
        return Verdict(Result.MALFORMED)


def _verify(qr: object, now: int, trust: TrustList, status: StatusList, secret: str | None, parsed: Parsed | None,
            issued: tuple[bytes, bytes] | None) -> Verdict:
    if not isinstance(qr, str):
        return Verdict(Result.MALFORMED)
    p = parsed
    if p is None:
        try:
            p = parse_qr(qr)
        except CryptoError:
            return Verdict(Result.MALFORMED)
    c = p.cred
    issuer = trust.issuer(c.kid)
    if issuer is None or not issuer.not_before <= now <= issuer.not_after:
        return Verdict(Result.UNKNOWN_ISSUER, p)
    own = issued is not None and issued[0] == p.cred_bytes and issued[1] == p.issuer_sig
    if not own and not verify_sig(issuer.pub, p.issuer_sig, TAG_CRED + p.cred_bytes):
        return Verdict(Result.BAD_ISSUER_SIG, p, issuer)
    step, code, device_sig = p.step, p.code, p.device_sig
    if step is not None and code is not None and device_sig is not None \
            and not verify_sig(c.device_pub, device_sig, live_message(p.cred_bytes, step, code)):
        return Verdict(Result.BAD_DEVICE_SIG, p, issuer)
    today = day(now)
    if today < c.issued_day:
        return Verdict(Result.NOT_YET_VALID, p, issuer)
    if today > c.expires_day:
        return Verdict(Result.EXPIRED, p, issuer)
    if step is not None and code is not None:  # a printed card has no device, step or code rows
        window = step_window(step, now)
        if window is not None:
            return Verdict(window, p, issuer)
        if secret is not None and not check_code(secret, step, code):
            return Verdict(Result.BAD_CODE, p, issuer)
    value = status.get(c.status_index)
    return Verdict(value.result, p, issuer, value)


STEP_TOLERANCE = 1
"""Steps either side of the verifier's current step that a live frame may be (§9.4 step window)."""


def step_window(step: int, now: int) -> Result | None:
    """`stale` or `future` when a frame's `step` is outside the step window at `now` (§9.4); None inside it.

    The same window tells whether an offline record was made when the frame it carries was shown: `now` is then
    the record's own time.
    """
    current = now // STEP_SECONDS
    if step < current - STEP_TOLERANCE:
        return Result.STALE
    if step > current + STEP_TOLERANCE:
        return Result.FUTURE
    return None


def verify_code(
    cred: bytes, issuer_sig: bytes, code: int, now: int, trust: TrustList, status: StatusList, *, secret: str | None
) -> Verdict:
    """Verify a pass's credential and a six-digit code read out or typed (no frame), at `now`. Never raises.

    The rows of `verify` that apply without a frame, in the same order (docs/spec/dp1.md §9.6):
    malformed, unknown_issuer, bad_issuer_sig, not_yet_valid, expired, then bad_code (the code is
    TOTP(secret, step) for the step of `now` or one either side; no secret: bad_code), then the status.
    """
    try:
        return _verify_code(cred, issuer_sig, code, now, trust, status, secret)
    except Exception:
        return Verdict(Result.MALFORMED)


def _verify_code(
    cred_bytes: bytes, issuer_sig: bytes, code: int, now: int, trust: TrustList, status: StatusList, secret: str | None
) -> Verdict:
    ints = isinstance(now, int) and isinstance(code, int) and not isinstance(code, bool)
    if not ints or not isinstance(cred_bytes, bytes) or not isinstance(issuer_sig, bytes) or not 0 <= code <= 999_999:
        return Verdict(Result.MALFORMED)
    try:
        c = decode_cred(cred_bytes)
    except CryptoError:
        return Verdict(Result.MALFORMED)
    issuer = trust.issuer(c.kid)
    if issuer is None or not issuer.not_before <= now <= issuer.not_after:
        return Verdict(Result.UNKNOWN_ISSUER, cred=c)
    if not verify_sig(issuer.pub, issuer_sig, TAG_CRED + cred_bytes):
        return Verdict(Result.BAD_ISSUER_SIG, issuer=issuer, cred=c)
    today = day(now)
    if today < c.issued_day:
        return Verdict(Result.NOT_YET_VALID, issuer=issuer, cred=c)
    if today > c.expires_day:
        return Verdict(Result.EXPIRED, issuer=issuer, cred=c)
    if secret is None or not check_code_now(secret, code, now):
        return Verdict(Result.BAD_CODE, issuer=issuer, cred=c)
    value = status.get(c.status_index)
    return Verdict(value.result, issuer=issuer, status=value, cred=c)
