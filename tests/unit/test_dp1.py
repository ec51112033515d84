"""DP1 round trips and the verifier's rows, with keys made here."""

from __future__ import annotations

import pytest

import crypto

NOW = 1_800_000_000


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    root, status_key, issuer, device = (crypto.new_signing_key() for _ in range(4))
    iss = crypto.Issuer(kid="agency-1", pub=crypto.public_key(issuer), agency_id=7, name="安心家政",
                        not_before=NOW - 86400, not_after=NOW + 86400 * 400)
    trust = crypto.open_trust(crypto.build_trust(root, seq=2, issued_at=NOW, status_pub=crypto.public_key(status_key),
                                                 issuers=[iss]), crypto.public_key(root))
    size = 131072
    values = [0] * size
    values[10], values[11], values[12] = 1, 2, 3
    status = crypto.open_status(crypto.build_status(status_key, seq=5, issued_at=NOW, size=size,
                                                    bitstring=crypto.pack_status(values, size)), trust.status_pub)
    return root, status_key, issuer, device, trust, status


def cred_for(issuer: bytes, device: bytes, **over: object) -> tuple[bytes, bytes]:
    fields = dict(kid="agency-1", serial=123456789, status_index=9, issued_day=NOW // 86400 - 1,
                  expires_day=NOW // 86400 + 300, name="王秀英", agency_id=7, photo_digest=bytes(range(16)),
                  device_pub=crypto.public_key(device), services=0b1001)
    fields.update(over)
    cred = crypto.encode_cred(crypto.Credential(**fields))  # type: ignore[arg-type]
    return cred, crypto.sign_cred(issuer, cred)


def test_live_frame_rows(world) -> None:  # type: ignore[no-untyped-def]
    _, _, issuer, device, trust, status = world
    secret = crypto.new_totp_secret()
    cred, sig = cred_for(issuer, device)
    qr = crypto.make_live_qr(cred, sig, secret, device, NOW)
    assert qr.startswith("DP1:") and len(qr) <= 512
    assert crypto.verify(qr, NOW, trust, status).result == "valid"
    assert crypto.verify(qr, NOW, trust, status, secret=secret).result == "valid"
    assert crypto.verify(qr, NOW, trust, status, secret=crypto.new_totp_secret()).result == "bad_code"
    assert crypto.verify(qr, NOW + 30, trust, status).result == "valid"
    assert crypto.verify(qr, NOW + 120, trust, status).result == "stale"
    assert crypto.verify(qr, NOW - 120, trust, status).result == "future"
    assert crypto.verify(qr, NOW + 86400 * 400, trust, status).result == "expired"
    assert crypto.verify(qr, NOW + 86400 * 500, trust, status).result == "unknown_issuer"
    other = crypto.new_signing_key()
    forged = crypto.make_live_qr(cred, sig, secret, other, NOW)
    assert crypto.verify(forged, NOW, trust, status).result == "bad_device_sig"
    assert crypto.verify(crypto.make_live_qr(cred, crypto.sign_cred(other, cred), secret, device, NOW), NOW, trust, status).result == "bad_issuer_sig"


@pytest.mark.parametrize("index,result", [(9, "valid"), (10, "caution"), (11, "red"), (12, "revoked"), (200000, "revoked")])
def test_status_rows(world, index: int, result: str) -> None:  # type: ignore[no-untyped-def]
    _, _, issuer, device, trust, status = world
    cred, sig = cred_for(issuer, device, status_index=index)
    assert crypto.verify(crypto.make_card(cred, sig), NOW, trust, status).result == result


def test_card_and_parse(world) -> None:  # type: ignore[no-untyped-def]
    _, _, issuer, device, trust, status = world
    cred, sig = cred_for(issuer, device)
    card = crypto.make_card(cred, sig)
    p = crypto.parse_qr(card)
    assert p.kind == "card" and p.cred.name == "王秀英" and p.step is None
    assert crypto.verify(card, NOW + 86400 * 302, trust, status).result == "expired"


def test_credential_shape_is_enforced(world) -> None:  # type: ignore[no-untyped-def]
    _, _, issuer, device, *_ = world
    with pytest.raises(crypto.Malformed):
        cred_for(issuer, device, name="名" * 11)  # 33 UTF-8 bytes
    with pytest.raises(crypto.Malformed):
        cred_for(issuer, device, kid="bad kid!")
    with pytest.raises(crypto.Malformed):
        cred_for(issuer, device, photo_digest=b"short")
    with pytest.raises(crypto.Malformed):
        crypto.decode_cred(cred_for(issuer, device)[0] + b"\x00")


def test_lists_reject_what_they_should(world) -> None:  # type: ignore[no-untyped-def]
    root, status_key, *_ , trust, status = world
    env = crypto.build_status(status_key, seq=1, issued_at=NOW, size=131072, bitstring=bytes(32768))
    with pytest.raises(crypto.BadSignature):
        crypto.open_status(env, crypto.public_key(root))
    with pytest.raises(crypto.Malformed):
        crypto.open_status({"payload": 5}, trust.status_pub)
    tampered = dict(env, payload=env["payload"][:-2] + "AA")
    with pytest.raises(crypto.CryptoError):
        crypto.open_status(tampered, trust.status_pub)
    assert crypto.newer(status, crypto.open_status(crypto.build_status(
        status_key, seq=6, issued_at=NOW, size=131072, bitstring=bytes(32768)), trust.status_pub))
    assert not crypto.newer(status, status)
