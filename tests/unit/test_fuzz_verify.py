"""Any input at all gives a result code: verify() never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import crypto
from tests.unit.test_dp1 import NOW, cred_for

ROOT, STATUS, ISSUER, DEVICE = (crypto.new_signing_key() for _ in range(4))
TRUST = crypto.open_trust(crypto.build_trust(ROOT, seq=1, issued_at=NOW, status_pub=crypto.public_key(STATUS), issuers=[
    crypto.Issuer(kid="agency-1", pub=crypto.public_key(ISSUER), agency_id=7, name="x", not_before=0, not_after=2**40)]),
    crypto.public_key(ROOT))
STATUS_LIST = crypto.open_status(crypto.build_status(STATUS, seq=1, issued_at=NOW, size=131072, bitstring=bytes(32768)),
                                 TRUST.status_pub)
CRED, SIG = cred_for(ISSUER, DEVICE)
SECRET = crypto.new_totp_secret()
GOOD = crypto.make_live_qr(CRED, SIG, SECRET, DEVICE, NOW)
RAW = crypto.b45decode(GOOD[4:])


def check(qr: object) -> None:
    v = crypto.verify(qr, NOW, TRUST, STATUS_LIST, secret=SECRET)
    assert v.result in crypto.RESULTS


def test_good_frame_is_valid() -> None:
    assert crypto.verify(GOOD, NOW, TRUST, STATUS_LIST, secret=SECRET).result == "valid"


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=600))
def test_any_text(text: str) -> None:
    check(text)
    check("DP1:" + text)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_in_base45(data: bytes) -> None:
    check("DP1:" + crypto.b45encode(data))
    check("DP1S:" + crypto.b45encode(data))


@settings(max_examples=400, deadline=None)
@given(st.integers(0, len(RAW) - 1), st.integers(0, 7), st.integers(0, len(RAW)), st.binary(max_size=8))
def test_mutated_frames(pos: int, bit: int, cut: int, insert: bytes) -> None:
    flipped = bytearray(RAW)
    flipped[pos] ^= 1 << bit
    for raw in (bytes(flipped), RAW[:cut], RAW[:pos] + insert + RAW[pos:]):
        v = crypto.verify("DP1:" + crypto.b45encode(raw), NOW, TRUST, STATUS_LIST, secret=SECRET)
        assert v.result in crypto.RESULTS
        if raw != RAW:
            assert v.result != "valid" or raw[:len(RAW)] == RAW and len(raw) == len(RAW)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(), st.lists(st.text()), st.dictionaries(st.text(), st.integers())))
def test_any_object(obj: object) -> None:
    check(obj)
