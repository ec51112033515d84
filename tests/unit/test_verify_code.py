"""`crypto.verify_code`: the rows of `verify` that apply to a code read out or typed, in the spec's order."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crypto

NOW = 1_800_000_000
STEP = NOW // 30


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    root, status_key, issuer, device = (crypto.new_signing_key() for _ in range(4))
    iss = crypto.Issuer(kid="agency-1", pub=crypto.public_key(issuer), agency_id=7, name="安心家政",
                        not_before=NOW - 86400, not_after=NOW + 86400 * 400)
    trust = crypto.open_trust(crypto.build_trust(root, seq=1, issued_at=NOW, status_pub=crypto.public_key(status_key),
                                                 issuers=[iss]), crypto.public_key(root))
    size = 131072
    values = [0] * size
    values[10], values[11], values[12] = crypto.Status.CAUTION, crypto.Status.RED, crypto.Status.REVOKED
    status = crypto.open_status(crypto.build_status(status_key, seq=1, issued_at=NOW, size=size,
                                                    bitstring=crypto.pack_status(values, size)), trust.status_pub)
    return issuer, device, trust, status, crypto.new_totp_secret()


def cred_for(issuer: bytes, device: bytes, **over: object) -> tuple[bytes, bytes]:
    fields: dict[str, object] = {
        "kid": "agency-1", "serial": 42, "status_index": 9, "issued_day": NOW // 86400 - 1,
        "expires_day": NOW // 86400 + 300, "name": "王秀英", "agency_id": 7, "photo_digest": bytes(16),
        "device_pub": crypto.public_key(device), "services": 1, **over}
    cred = crypto.encode_cred(crypto.Credential(**fields))  # type: ignore[arg-type]
    return cred, crypto.sign_cred(issuer, cred)


def check(world, cred: bytes, sig: bytes, *, code: int | None = None, now: int = NOW,  # type: ignore[no-untyped-def]
          secret: str | None | bool = True) -> crypto.Verdict:
    _, _, trust, status, the_secret = world
    s = the_secret if secret is True else secret
    if code is None:
        code = crypto.totp_code(the_secret, now // 30)
    return crypto.verify_code(cred, sig, code, now, trust, status, secret=s)  # type: ignore[arg-type]


@pytest.mark.parametrize("index,result", [(9, crypto.Result.VALID), (10, crypto.Result.CAUTION),
                                          (11, crypto.Result.RED), (12, crypto.Result.REVOKED),
                                          (131072, crypto.Result.REVOKED)])
def test_a_right_code_gives_the_status(world, index: int, result: crypto.Result) -> None:  # type: ignore[no-untyped-def]
    issuer, device, *_ = world
    v = check(world, *cred_for(issuer, device, status_index=index))
    assert v.result == result and v.status is not None and v.status.result == result
    assert v.cred is not None and v.cred.serial == 42 and v.issuer is not None and v.issuer.kid == "agency-1"


def test_the_code_window_is_one_step_either_side(world) -> None:  # type: ignore[no-untyped-def]
    issuer, device, *_, secret = world
    cred, sig = cred_for(issuer, device)
    for step, result in [(STEP - 2, "bad_code"), (STEP - 1, "valid"), (STEP, "valid"), (STEP + 1, "valid"),
                         (STEP + 2, "bad_code")]:
        assert check(world, cred, sig, code=crypto.totp_code(secret, step)).result == result, step
    right = crypto.totp_code(secret, STEP)
    assert check(world, cred, sig, code=(right + 1) % 1_000_000).result == "bad_code"
    assert check(world, cred, sig, secret=None).result == "bad_code"  # the server holds no secret: never right
    assert check(world, cred, sig, secret=crypto.new_totp_secret()).result == "bad_code"
    assert check(world, cred, sig, secret="not base32!").result == "bad_code"  # a secret that cannot be decoded


def test_each_earlier_row(world) -> None:  # type: ignore[no-untyped-def]
    issuer, device, *_ = world
    cred, sig = cred_for(issuer, device)
    assert check(world, cred, sig, now=NOW + 86400 * 500).result == "unknown_issuer"  # past the issuer's not_after
    assert check(world, *cred_for(issuer, device, kid="agency-2")).result == "unknown_issuer"
    assert check(world, cred, crypto.sign_cred(crypto.new_signing_key(), cred)).result == "bad_issuer_sig"
    assert check(world, cred, sig[:-1]).result == "bad_issuer_sig"
    assert check(world, *cred_for(issuer, device, issued_day=NOW // 86400 + 1)).result == "not_yet_valid"
    assert check(world, *cred_for(issuer, device, expires_day=NOW // 86400 - 1)).result == "expired"
    v = check(world, cred[:-1], sig)
    assert v.result == "malformed" and v.cred is None


def test_rows_come_in_the_spec_order(world) -> None:  # type: ignore[no-untyped-def]
    """Wrong in several ways: the first failing row answers (the code row comes after the day rows)."""
    issuer, device, *_ = world
    expired_revoked = cred_for(issuer, device, status_index=12, expires_day=NOW // 86400 - 1)
    assert check(world, *expired_revoked, code=0, secret=None).result == "expired"
    revoked = cred_for(issuer, device, status_index=12)
    assert check(world, *revoked, secret=None).result == "bad_code"
    forged_unknown = cred_for(issuer, device, kid="agency-9")
    assert check(world, forged_unknown[0], bytes(64)).result == "unknown_issuer"


@pytest.mark.parametrize("index", [9, 10, 11, 12])
@pytest.mark.parametrize("days", [{}, {"issued_day": NOW // 86400 + 1}, {"expires_day": NOW // 86400 - 1}])
def test_agrees_with_verify_on_a_card(world, index: int, days: dict) -> None:  # type: ignore[no-untyped-def]
    """With the right code, the same credential gives what `verify` gives for its printed card."""
    issuer, device, trust, status, _ = world
    cred, sig = cred_for(issuer, device, status_index=index, **days)
    assert check(world, cred, sig).result == crypto.verify(crypto.make_card(cred, sig), NOW, trust, status).result


@settings(max_examples=200, deadline=None)
@given(cred=st.one_of(st.binary(max_size=200), st.text(max_size=20), st.none(), st.integers()),
       sig=st.one_of(st.binary(max_size=80), st.none()),
       code=st.one_of(st.integers(), st.text(max_size=8), st.none(), st.booleans()),
       now=st.one_of(st.integers(), st.floats(allow_nan=True), st.none()))
def test_never_raises(world, cred: object, sig: object, code: object, now: object) -> None:  # type: ignore[no-untyped-def]
    _, _, trust, status, secret = world
    v = crypto.verify_code(cred, sig, code, now, trust, status, secret=secret)  # type: ignore[arg-type]
    assert v.result in crypto.RESULTS
