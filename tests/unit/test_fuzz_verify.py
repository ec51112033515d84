"""Any input at all gives a result code: verify() never raises, and no mutation of a frame stays valid."""

from __future__ import annotations

import msgspec
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
CARD = crypto.make_card(CRED, SIG)
RAW = crypto.b45decode(GOOD[len("DP1:"):])
RAW_CARD = crypto.b45decode(CARD[len("DP1S:"):])


def result(qr: object, secret: str | None = SECRET) -> str:
    v = crypto.verify(qr, NOW, TRUST, STATUS_LIST, secret=secret)
    assert isinstance(v, crypto.Verdict) and v.result in crypto.RESULTS
    return v.result


def content(qr: str) -> tuple[object, ...]:
    p = crypto.parse_qr(qr)
    return p.kind, p.cred_bytes, p.issuer_sig, p.step, p.code, p.device_sig


def never_valid_unless_same(qr: str, seed: str) -> None:
    """A mutation may be read as another encoding of the same frame (an int in a wider format), never as another."""
    if result(qr) == "valid":
        assert content(qr) == content(seed)


def test_the_seeds_are_valid() -> None:
    assert result(GOOD) == "valid" and result(CARD) == "valid"


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=600))
def test_any_text(text: str) -> None:
    result(text)
    result("DP1:" + text)
    result("DP1S:" + text, secret=None)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_in_base45(data: bytes) -> None:
    result("DP1:" + crypto.b45encode(data))
    result("DP1S:" + crypto.b45encode(data))


_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.floats(), st.text(max_size=20),
                  st.binary(max_size=70))
_msgpack = st.recursive(_leaf, lambda inner: st.lists(inner, max_size=11), max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(_msgpack, _msgpack)
def test_any_messagepack(outer: object, cred: object) -> None:
    raw = msgspec.msgpack.encode(outer)
    assert result("DP1:" + crypto.b45encode(raw)) == "malformed"
    assert result("DP1S:" + crypto.b45encode(raw)) == "malformed"
    c = msgspec.msgpack.encode(cred)
    assert result("DP1:" + crypto.b45encode(msgspec.msgpack.encode([c, SIG, NOW // 30, 1, bytes(64)]))) == "malformed"
    assert result("DP1S:" + crypto.b45encode(msgspec.msgpack.encode([c, SIG]))) == "malformed"


@settings(max_examples=400, deadline=None)
@given(st.integers(0, len(RAW) - 1), st.integers(0, 7), st.integers(0, len(RAW) - 1), st.binary(min_size=1, max_size=8))
def test_mutated_frames(pos: int, bit: int, cut: int, insert: bytes) -> None:
    flipped = bytearray(RAW)
    flipped[pos] ^= 1 << bit
    for raw in (bytes(flipped), RAW[:cut], RAW[:pos] + insert + RAW[pos:]):
        never_valid_unless_same("DP1:" + crypto.b45encode(raw), GOOD)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(RAW_CARD) - 1), st.integers(0, 7), st.integers(0, len(RAW_CARD) - 1))
def test_mutated_cards(pos: int, bit: int, cut: int) -> None:
    flipped = bytearray(RAW_CARD)
    flipped[pos] ^= 1 << bit
    for raw in (bytes(flipped), RAW_CARD[:cut]):
        never_valid_unless_same("DP1S:" + crypto.b45encode(raw), CARD)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(GOOD) - 1), st.characters())
def test_mutated_text(pos: int, ch: str) -> None:
    never_valid_unless_same(GOOD[:pos] + ch + GOOD[pos + 1:], GOOD)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(), st.lists(st.text()),
                 st.dictionaries(st.text(), st.integers()), st.builds(object), st.just(GOOD.encode()),
                 st.just(bytearray(GOOD.encode())), st.just([GOOD]), st.just(crypto)))
def test_any_object(obj: object) -> None:
    assert result(obj) == "malformed"


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=40), st.integers()), st.one_of(st.integers(), st.floats(), st.none()))
def test_odd_secret_and_now(secret: object, now: object) -> None:
    v = crypto.verify(GOOD, now, TRUST, STATUS_LIST, secret=secret)  # type: ignore[arg-type]
    assert v.result in crypto.RESULTS
