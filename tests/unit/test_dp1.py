"""DP1 round trips, the verifier's rows, strict decoding and lists, with keys made here (sealing: test_sealing.py)."""

from __future__ import annotations

import zlib
from collections.abc import Callable

import msgspec
import pytest

import crypto

NOW = 1_800_000_000
LONG_KID = "agency-16-chars_"


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    root, status_key, issuer, device = (crypto.new_signing_key() for _ in range(4))
    iss = crypto.Issuer(kid="agency-1", pub=crypto.public_key(issuer), agency_id=7, name="安心家政",
                        not_before=NOW - 86400, not_after=NOW + 86400 * 400)
    long_kid = crypto.Issuer(kid=LONG_KID, pub=iss.pub, agency_id=7, name="", not_before=0, not_after=2**40)
    trust = crypto.open_trust(crypto.build_trust(root, seq=2, issued_at=NOW, status_pub=crypto.public_key(status_key),
                                                 issuers=[iss, long_kid]), crypto.public_key(root))
    size = 131072
    values = [0] * size
    values[10], values[11], values[12] = 1, 2, 3
    status = crypto.open_status(crypto.build_status(status_key, seq=5, issued_at=NOW, size=size,
                                                    bitstring=crypto.pack_status(values, size)), trust.status_pub)
    return root, status_key, issuer, device, trust, status


def cred_fields(device: bytes, **over: object) -> dict[str, object]:
    fields: dict[str, object] = dict(
        kid="agency-1", serial=123456789, status_index=9, issued_day=NOW // 86400 - 1, expires_day=NOW // 86400 + 300,
        name="王秀英", agency_id=7, photo_digest=bytes(range(16)), device_pub=crypto.public_key(device), services=0b1001)
    fields.update(over)
    return fields


def cred_for(issuer: bytes, device: bytes, **over: object) -> tuple[bytes, bytes]:
    cred = crypto.encode_cred(crypto.Credential(**cred_fields(device, **over)))  # type: ignore[arg-type]
    return cred, crypto.sign_cred(issuer, cred)


# ---------- the verifier's rows ----------

def test_live_frame_rows(world) -> None:  # type: ignore[no-untyped-def]
    _, _, issuer, device, trust, status = world
    secret = crypto.new_totp_secret()
    cred, sig = cred_for(issuer, device)
    qr = crypto.make_live_qr(cred, sig, secret, device, NOW)
    assert qr.startswith("DP1:") and len(qr) <= 512
    v = crypto.verify(qr, NOW, trust, status)
    assert v.result == "valid" and v.status == 0 and v.issuer is not None and v.issuer.kid == "agency-1"
    assert v.parsed is not None and v.parsed.kind == "live" and v.parsed.step == NOW // 30
    assert v.parsed.code == crypto.totp_code(secret, NOW // 30)
    assert crypto.verify(qr, NOW, trust, status, secret=secret).result == "valid"
    assert crypto.verify(qr, NOW, trust, status, secret=crypto.new_totp_secret()).result == "bad_code"
    assert crypto.verify(qr, NOW + 30, trust, status).result == "valid"
    assert crypto.verify(qr, NOW - 30, trust, status).result == "valid"
    assert crypto.verify(qr, NOW + 120, trust, status).result == "stale"  # two minutes later: a screenshot
    assert crypto.verify(qr, NOW - 120, trust, status).result == "future"
    assert crypto.verify(qr, NOW + 86400 * 400, trust, status).result == "expired"
    assert crypto.verify(qr, NOW + 86400 * 500, trust, status).result == "unknown_issuer"
    other = crypto.new_signing_key()
    forged = crypto.make_live_qr(cred, sig, secret, other, NOW)
    assert crypto.verify(forged, NOW, trust, status).result == "bad_device_sig"
    resigned = crypto.make_live_qr(cred, crypto.sign_cred(other, cred), secret, device, NOW)
    assert crypto.verify(resigned, NOW, trust, status).result == "bad_issuer_sig"


def test_an_issued_pair_skips_only_the_issuer_signature(world) -> None:  # type: ignore[no-untyped-def]
    """`issued` (the server's own record of a credential and its signature) spares exactly one check: the issuer
    signature of a frame carrying that very pair. A different signature, an issuer out of the trust list or out of its
    window, a forged device signature, a stale step and the status still give their rows."""
    _, _, issuer, device, trust, status = world
    secret = crypto.new_totp_secret()
    cred, sig = cred_for(issuer, device)
    qr = crypto.make_live_qr(cred, sig, secret, device, NOW)
    parsed = crypto.parse_qr(qr)
    assert crypto.verify(qr, NOW, trust, status, secret=secret, parsed=parsed, issued=(cred, sig)).result == "valid"
    other = crypto.new_signing_key()
    resigned = crypto.make_live_qr(cred, crypto.sign_cred(other, cred), secret, device, NOW)
    assert crypto.verify(resigned, NOW, trust, status, issued=(cred, sig)).result == "bad_issuer_sig"
    # The pair is what the verifier vouches for: a pair it "issued" with a wrong signature is taken as it says.
    assert crypto.verify(resigned, NOW, trust, status, issued=(cred, crypto.sign_cred(other, cred))).result == "valid"
    assert crypto.verify(qr, NOW + 86400 * 500, trust, status, issued=(cred, sig)).result == "unknown_issuer"
    unknown = cred_for(issuer, device, kid="agency-2")
    assert crypto.verify(crypto.make_card(*unknown), NOW, trust, status, issued=unknown).result == "unknown_issuer"
    forged = crypto.make_live_qr(cred, sig, secret, other, NOW)
    assert crypto.verify(forged, NOW, trust, status, issued=(cred, sig)).result == "bad_device_sig"
    assert crypto.verify(qr, NOW + 120, trust, status, issued=(cred, sig)).result == "stale"
    assert crypto.verify(qr, NOW, trust, status, secret=crypto.new_totp_secret(), issued=(cred, sig)).result == "bad_code"
    revoked = cred_for(issuer, device, status_index=12)
    assert crypto.verify(crypto.make_card(*revoked), NOW, trust, status, issued=revoked).result == "revoked"


def test_rows_come_in_the_spec_order(world) -> None:  # type: ignore[no-untyped-def]
    """A frame wrong in several ways reports the first failing row."""
    _, _, issuer, device, trust, status = world
    secret = crypto.new_totp_secret()
    cred, sig = cred_for(issuer, device, status_index=12, expires_day=NOW // 86400 - 1)  # revoked and expired
    stale = crypto.make_live_qr(cred, sig, secret, device, NOW - 600)
    assert crypto.verify(stale, NOW, trust, status, secret="A" * 32).result == "expired"
    cred, sig = cred_for(issuer, device, status_index=12)
    stale = crypto.make_live_qr(cred, sig, secret, device, NOW - 600)
    assert crypto.verify(stale, NOW, trust, status, secret="A" * 32).result == "stale"
    fresh = crypto.make_live_qr(cred, sig, secret, device, NOW)
    assert crypto.verify(fresh, NOW, trust, status, secret=crypto.new_totp_secret()).result == "bad_code"
    assert crypto.verify(fresh, NOW, trust, status, secret=secret).result == "revoked"
    bad_dev = crypto.make_live_qr(cred, sig, secret, crypto.new_signing_key(), NOW - 600)
    assert crypto.verify(bad_dev, NOW, trust, status).result == "bad_device_sig"
    tomorrow = cred_for(issuer, device, issued_day=NOW // 86400 + 1)
    assert crypto.verify(crypto.make_card(*tomorrow), NOW, trust, status).result == "not_yet_valid"
    unknown = cred_for(issuer, device, kid="agency-2")
    assert crypto.verify(crypto.make_card(*unknown), NOW, trust, status).result == "unknown_issuer"


@pytest.mark.parametrize("index,result", [(9, "valid"), (10, "caution"), (11, "red"), (12, "revoked"),
                                          (131071, "valid"), (131072, "revoked"), (2**64 - 1, "revoked")])
def test_status_rows(world, index: int, result: str) -> None:  # type: ignore[no-untyped-def]
    _, _, issuer, device, trust, status = world
    cred, sig = cred_for(issuer, device, status_index=index)
    assert crypto.verify(crypto.make_card(cred, sig), NOW, trust, status).result == result


def test_printed_card(world) -> None:  # type: ignore[no-untyped-def]
    _, _, issuer, device, trust, status = world
    cred, sig = cred_for(issuer, device)
    card = crypto.make_card(cred, sig)
    assert card.startswith("DP1S:")
    p = crypto.parse_qr(card)
    assert p.kind == "card" and p.cred.name == "王秀英" and p.step is None and p.code is None and p.device_sig is None
    assert p.cred_bytes == cred and p.issuer_sig == sig and crypto.decode_cred(cred) == p.cred
    # no time-step rows: a card is as good a year on as it is today, until its last day
    assert crypto.verify(card, NOW + 86400 * 300, trust, status, secret=crypto.new_totp_secret()).result == "valid"
    assert crypto.verify(card, NOW + 86400 * 302, trust, status).result == "expired"
    other = crypto.make_card(cred, crypto.sign_cred(crypto.new_signing_key(), cred))
    assert crypto.verify(other, NOW, trust, status).result == "bad_issuer_sig"


def test_live_message_layout() -> None:
    import hashlib

    msg = crypto.live_message(b"cred", 0x0102030405060708, 999999)
    assert msg == b"DP1/live\0" + hashlib.sha256(b"cred").digest() + bytes(range(1, 9)) + (999999).to_bytes(4, "big")


def test_day() -> None:
    assert crypto.day(0) == 0 and crypto.day(86399) == 0 and crypto.day(86400) == 1


# ---------- strict decoding ----------

_enc = msgspec.msgpack.encode


def _frame(world, *, cred: list[object] | bytes | None = None,  # type: ignore[no-untyped-def]
           edit: Callable[[list[object]], object] | None = None) -> str:
    """A live frame, its credential and outer array edited at will (signatures as they were)."""
    _, _, issuer, device, *_ = world
    good_cred, sig = cred_for(issuer, device)
    cred_bytes = cred if isinstance(cred, bytes) else _enc(cred) if cred is not None else good_cred
    outer: list[object] = [cred_bytes, sig, NOW // 30, 123456, bytes(64)]
    shaped = edit(outer) if edit else outer
    raw = shaped if isinstance(shaped, bytes) else _enc(shaped)
    return "DP1:" + crypto.b45encode(raw)


def _cred_list(world, **over: object) -> list[object]:  # type: ignore[no-untyped-def]
    f = cred_fields(world[3], **over)
    return [f[k] for k in crypto.Credential.__struct_fields__]


def _set(i: int, v: object) -> Callable[[list[object]], list[object]]:
    return lambda a: a[:i] + [v] + a[i + 1:]


OUTER_SHAPES: dict[str, Callable[[list[object]], object]] = {
    "frame of 4": lambda a: a[:4],
    "frame of 6": lambda a: a + [0],
    "frame as a map": lambda a: dict(zip("abcde", a, strict=True)),
    "frame as bin": lambda a: _enc(_enc(a)),
    "bytes after the frame": lambda a: _enc(a) + b"\x00",
    "cred as str": lambda a: [a[0].decode("latin-1"), *a[1:]],  # type: ignore[union-attr]
    "cred as ext": lambda a: [msgspec.msgpack.Ext(1, a[0]), *a[1:]],  # type: ignore[arg-type]
    "issuer_sig 63 bytes": _set(1, bytes(63)),
    "issuer_sig 65 bytes": _set(1, bytes(65)),
    "issuer_sig as str": _set(1, "x" * 64),
    "step negative": _set(2, -1),
    "step bool": _set(2, True),
    "step float": _set(2, float(NOW // 30)),
    "step as str": _set(2, str(NOW // 30)),
    "step nil": _set(2, None),
    "code of 7 digits": _set(3, 1_000_000),
    "code negative": _set(3, -5),
    "code bool": _set(3, False),
    "code float": _set(3, 123456.0),
    "device_sig 0 bytes": _set(4, b""),
    "device_sig as str": _set(4, "y" * 64),
}


def test_the_unedited_shapes_parse(world) -> None:  # type: ignore[no-untyped-def]
    """The edits below start from frames that parse, so each edit alone makes them malformed."""
    assert crypto.parse_qr(_frame(world)).kind == "live"
    assert crypto.parse_qr(_frame(world, cred=_cred_list(world))).cred.kid == "agency-1"
    cred = _enc(_cred_list(world))
    assert crypto.parse_qr("DP1S:" + crypto.b45encode(_enc([cred, bytes(64)]))).kind == "card"


@pytest.mark.parametrize("shape", OUTER_SHAPES)
def test_frame_shapes_are_malformed(world, shape: str) -> None:  # type: ignore[no-untyped-def]
    qr = _frame(world, edit=OUTER_SHAPES[shape])
    with pytest.raises(crypto.Malformed):
        crypto.parse_qr(qr)
    assert crypto.verify(qr, NOW, world[4], world[5]).result == "malformed"


CRED_EDITS: dict[str, Callable[[list[object]], object]] = {
    "cred of 9": lambda c: c[:9],
    "cred of 11": lambda c: c + [0],
    "cred as a map": lambda c: dict(zip(crypto.Credential.__struct_fields__, c, strict=True)),
    "bytes after cred": lambda c: _enc(c) + b"\xc0",
    "kid empty": _set(0, ""),
    "kid 17 chars": _set(0, "a" * 17),
    "kid with a space": _set(0, "agency 1"),
    "kid with a trailing newline": _set(0, "agency-1\n"),
    "kid non-ASCII digit": _set(0, "agency-\u0661"),
    "kid as bin": _set(0, b"agency-1"),
    "serial 2^53": _set(1, 2**53),
    "serial negative": _set(1, -1),
    "serial bool": _set(1, True),
    "status_index float": _set(2, 9.0),
    "issued_day negative": _set(3, -1),
    "expires_day nil": _set(4, None),
    "name 33 UTF-8 bytes": _set(5, "名" * 11),
    "name as bin": _set(5, "王秀英".encode()),
    "name invalid UTF-8": lambda c: _enc(c).replace("王秀英".encode(), b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7"),
    "agency_id bool": _set(6, False),
    "photo_digest 15 bytes": _set(7, bytes(15)),
    "photo_digest 17 bytes": _set(7, bytes(17)),
    "photo_digest as str": _set(7, "0" * 16),
    "device_pub 31 bytes": _set(8, bytes(31)),
    "device_pub as str": _set(8, "k" * 32),
    "services negative": _set(9, -1),
    "services float": _set(9, 9.5),
}


@pytest.mark.parametrize("shape", CRED_EDITS)
def test_credential_shapes_are_malformed(world, shape: str) -> None:  # type: ignore[no-untyped-def]
    edited = CRED_EDITS[shape](_cred_list(world))
    cred = edited if isinstance(edited, bytes) else _enc(edited)
    with pytest.raises(crypto.Malformed):
        crypto.decode_cred(cred)
    for qr in (_frame(world, cred=cred), "DP1S:" + crypto.b45encode(_enc([cred, bytes(64)]))):
        with pytest.raises(crypto.Malformed):
            crypto.parse_qr(qr)
        assert crypto.verify(qr, NOW, world[4], world[5]).result == "malformed"


def test_credential_limits_are_accepted(world) -> None:  # type: ignore[no-untyped-def]
    c = _cred_list(world, kid="A-z_09" + "x" * 10, serial=2**53 - 1, name="王" * 10 + "ab", status_index=2**64 - 1)
    cred = crypto.decode_cred(_enc(c))
    assert cred.serial == 2**53 - 1 and len(cred.name.encode()) == 32 and len(cred.kid) == 16


@pytest.mark.parametrize("text", [
    "", "DP1", "DP1:", "DP1S:", "dp1:BB8", "DP1 :BB8", " DP1:BB8", "DP2:BB8", "DP1SBB8", "DP1:bb8", "DP1:BB8\n",
    "DP1:" + "0" * 509,
])
def test_text_shapes_are_malformed(world, text: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(crypto.Malformed):
        crypto.parse_qr(text)
    assert crypto.verify(text, NOW, world[4], world[5]).result == "malformed"


def test_kind_and_prefix_must_agree(world) -> None:  # type: ignore[no-untyped-def]
    live = _frame(world)
    card = crypto.make_card(*cred_for(world[2], world[3]))
    for qr in ("DP1S:" + live[4:], "DP1:" + card[5:]):
        with pytest.raises(crypto.Malformed):
            crypto.parse_qr(qr)


def _wide(v: object, wide: bool = True) -> bytes:
    """MessagePack in its widest formats (array 32, uint 64, str 32, bin 32): valid, just long."""
    if isinstance(v, list):
        return b"\xdd" + len(v).to_bytes(4, "big") + b"".join(_wide(x, wide) for x in v)
    if not wide:
        return _enc(v)
    if isinstance(v, int):
        return b"\xcf" + v.to_bytes(8, "big")
    if isinstance(v, str):
        return b"\xdb" + len(v.encode()).to_bytes(4, "big") + v.encode()
    assert isinstance(v, bytes)
    return b"\xc6" + len(v).to_bytes(4, "big") + v


def test_512_characters_at_most(world, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Widest encodings are accepted, but past 512 characters the text is malformed whatever it holds."""
    _, _, issuer, device, trust, status = world
    secret = crypto.new_totp_secret()
    cred = _wide(_cred_list(world, kid=LONG_KID, name="王" * 10 + "ab"))
    sig = crypto.sign_cred(issuer, cred)
    step = NOW // 30
    code = crypto.totp_code(secret, step)
    dsig = crypto.sign(device, crypto.live_message(cred, step, code))
    long = "DP1:" + crypto.b45encode(_wide([cred, sig, step, code, dsig]))
    short = "DP1:" + crypto.b45encode(_wide([cred, sig, step, code, dsig], wide=False))
    assert len(short) <= 512 < len(long)
    assert crypto.verify(short, NOW, trust, status, secret=secret).result == "valid"
    assert crypto.verify(long, NOW, trust, status, secret=secret).result == "malformed"
    monkeypatch.setattr("crypto.dp1.MAX_QR_CHARS", 10_000)
    assert crypto.verify(long, NOW, trust, status, secret=secret).result == "valid"  # the length was all


def test_nothing_off_the_shapes_is_ever_made(world) -> None:  # type: ignore[no-untyped-def]
    _, _, issuer, device, *_ = world
    for over in ({"name": "名" * 11}, {"kid": "bad kid!"}, {"kid": "agency-1\n"}, {"photo_digest": b"short"},
                 {"serial": 2**53}, {"serial": -1}, {"services": True}):
        with pytest.raises(crypto.Malformed):
            cred_for(issuer, device, **over)
    cred, sig = cred_for(issuer, device)
    with pytest.raises(crypto.Malformed):
        crypto.make_frame(cred, sig, NOW // 30, 1_000_000, bytes(64))
    with pytest.raises(crypto.Malformed):
        crypto.make_frame(cred, sig[:63], NOW // 30, 1, bytes(64))
    with pytest.raises(crypto.Malformed):
        crypto.make_card(cred + b"\x00", sig)


# ---------- lists ----------

def test_trust_roundtrip(world) -> None:  # type: ignore[no-untyped-def]
    root, status_key, issuer, *_ = world
    issuers = [crypto.Issuer("a", crypto.public_key(issuer), 1, "甲", 0, 10),
               crypto.Issuer("b-2_", crypto.public_key(root), 2, "乙", -5, 2**40)]
    env = crypto.build_trust(root, seq=9, issued_at=NOW, status_pub=crypto.public_key(status_key), issuers=issuers)
    assert set(env) == {"payload", "sig"}
    t = crypto.open_trust(env, crypto.public_key(root))
    assert (t.seq, t.issued_at, t.status_pub, t.issuers) == (9, NOW, crypto.public_key(status_key), issuers)
    assert t.issuer("b-2_") == issuers[1] and t.issuer("c") is None
    payload = crypto.b64u_decode(env["payload"])
    assert b" " not in payload and "甲".encode() in payload  # compact JSON, raw UTF-8


def test_status_roundtrip_pack_and_get(world) -> None:  # type: ignore[no-untyped-def]
    _, status_key, *_, trust, _ = world
    assert crypto.pack_status([0, 1, 2, 3, 3], 5) == bytes([0b00011011, 0b11000000])
    assert crypto.pack_status(b"\x02", 1) == bytes([0b10000000])
    assert crypto.pack_status([], 0) == b""
    with pytest.raises(ValueError):
        crypto.pack_status([4], 1)
    values = [(i * 7) % 4 for i in range(1001)]
    env = crypto.build_status(status_key, seq=3, issued_at=NOW, size=1001, bitstring=crypto.pack_status(values, 1001))
    s = crypto.open_status(env, trust.status_pub)
    assert (s.seq, s.issued_at, s.size, s.bits) == (3, NOW, 1001, 2)
    assert [s.get(i) for i in range(1001)] == values
    assert s.get(1001) == s.get(10**9) == s.get(-1) == crypto.Status.REVOKED
    with pytest.raises(ValueError):
        crypto.build_status(status_key, seq=1, issued_at=NOW, size=5, bitstring=b"\x00")


def _signed(priv: bytes, tag: bytes, payload: bytes) -> dict[str, str]:
    return {"payload": crypto.b64u_encode(payload), "sig": crypto.b64u_encode(crypto.sign(priv, tag + payload))}


def test_lists_reject_what_they_should(world) -> None:  # type: ignore[no-untyped-def]
    root, status_key, *_, trust, status = world
    spub, rpub = trust.status_pub, crypto.public_key(root)
    env = crypto.build_status(status_key, seq=1, issued_at=NOW, size=131072, bitstring=bytes(32768))
    with pytest.raises(crypto.BadSignature):
        crypto.open_status(env, rpub)  # not the status key
    with pytest.raises(crypto.BadSignature):
        crypto.open_trust(env, spub)  # a status list is no trust list: the tags differ
    for bad in ({"payload": 5, "sig": env["sig"]}, {"payload": env["payload"]}, [], None, "x",
                dict(env, payload=env["payload"] + "="), dict(env, sig="!" + env["sig"])):
        with pytest.raises(crypto.Malformed):
            crypto.open_status(bad, spub)
    with pytest.raises(crypto.CryptoError):
        crypto.open_status(dict(env, payload=env["payload"][:-2] + "AA"), spub)
    with pytest.raises(crypto.BadSignature):
        crypto.open_status(dict(env, sig=crypto.b64u_encode(bytes(64))), spub)

    good = {"type": "dp1-status", "seq": 1, "issued_at": NOW, "size": 8, "bits": 2,
            "list": crypto.b64u_encode(zlib.compress(b"\x00\x00"))}
    assert crypto.open_status(_signed(status_key, b"DP1/status\0", msgspec.json.encode(good)), spub).size == 8
    for over in ({"type": "dp1-trust"}, {"bits": 1}, {"bits": 2.0}, {"seq": True}, {"seq": 1.5}, {"size": -1},
                 {"size": 9}, {"size": 4}, {"list": "!!"}, {"list": crypto.b64u_encode(b"\x00\x00")},
                 {"list": crypto.b64u_encode(zlib.compress(b"\x00\x00") + b"\x00")}):
        payload = msgspec.json.encode(dict(good, **over))
        with pytest.raises(crypto.Malformed):
            crypto.open_status(_signed(status_key, b"DP1/status\0", payload), spub)
    for drop in good:
        payload = msgspec.json.encode({k: v for k, v in good.items() if k != drop})
        with pytest.raises(crypto.Malformed):
            crypto.open_status(_signed(status_key, b"DP1/status\0", payload), spub)
    for payload in (b"not json", b"[1]", b'{"type":"dp1-status","name":"\xff"}'):
        with pytest.raises(crypto.Malformed):
            crypto.open_status(_signed(status_key, b"DP1/status\0", payload), spub)

    issuer = {"kid": "a", "pub": crypto.b64u_encode(bytes(32)), "agency_id": 1, "name": "x", "not_before": 0,
              "not_after": 1}
    tgood = {"type": "dp1-trust", "seq": 1, "issued_at": NOW, "status_pub": crypto.b64u_encode(spub), "issuers": [issuer]}
    assert crypto.open_trust(_signed(root, b"DP1/trust\0", msgspec.json.encode(tgood)), rpub).issuer("a")
    for over in ({"type": "dp1-status"}, {"status_pub": crypto.b64u_encode(bytes(31))}, {"issuers": {}},
                 {"issuers": [dict(issuer, kid="a\n")]}, {"issuers": [dict(issuer, pub="AA==")]},
                 {"issuers": [dict(issuer, agency_id=True)]}, {"issuers": [{"kid": "a"}]}):
        payload = msgspec.json.encode(dict(tgood, **over))
        with pytest.raises(crypto.Malformed):
            crypto.open_trust(_signed(root, b"DP1/trust\0", payload), rpub)
    with pytest.raises(crypto.Malformed):  # nothing is signed that open_trust would refuse
        crypto.build_trust(root, seq=1, issued_at=NOW, status_pub=spub, issuers=[crypto.Issuer("bad kid", spub, 1, "", 0, 1)])


def test_newer(world) -> None:  # type: ignore[no-untyped-def]
    _, status_key, *_, trust, status = world
    later = crypto.open_status(crypto.build_status(status_key, seq=6, issued_at=NOW, size=4, bitstring=b"\x00"),
                               trust.status_pub)
    assert crypto.newer(status, later) and crypto.newer(None, status)
    assert not crypto.newer(status, status) and not crypto.newer(later, status)
