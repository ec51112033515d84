"""Published vectors for the primitives: RFC 9285 base45, RFC 6238 TOTP, RFC 8032 Ed25519."""

from __future__ import annotations

import base64

import pytest

import crypto


@pytest.mark.parametrize("raw,text", [(b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581"),
                                      (b"ietf!", "QED8WEX0"), (b"", "")])
def test_base45_rfc9285(raw: bytes, text: str) -> None:
    assert crypto.b45encode(raw) == text
    assert crypto.b45decode(text) == raw


@pytest.mark.parametrize("bad", ["GGW", "ZZZ", "A", "abc", "BB8\n", "ÄÄ"])
def test_base45_rejects(bad: str) -> None:
    with pytest.raises(crypto.Malformed):
        crypto.b45decode(bad)


RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


@pytest.mark.parametrize("t,code", [(59, 287082), (1111111109, 81804), (1111111111, 50471), (1234567890, 5924),
                                    (2000000000, 279037), (20000000000, 353130)])
def test_totp_rfc6238_sha1(t: int, code: int) -> None:
    assert crypto.totp_code(RFC_SECRET, t // 30) == code
    assert crypto.check_code(RFC_SECRET, t // 30, code)
    assert not crypto.check_code(RFC_SECRET, t // 30, (code + 1) % 1_000_000)


RFC8032 = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
]


@pytest.mark.parametrize("priv,pub,msg,sig", RFC8032)
def test_ed25519_rfc8032(priv: str, pub: str, msg: str, sig: str) -> None:
    p = bytes.fromhex(priv)
    assert crypto.public_key(p).hex() == pub
    assert crypto.sign(p, bytes.fromhex(msg)).hex() == sig
    assert crypto.verify_sig(bytes.fromhex(pub), bytes.fromhex(sig), bytes.fromhex(msg))
    assert not crypto.verify_sig(bytes.fromhex(pub), bytes.fromhex(sig), b"other")
    assert not crypto.verify_sig(b"short", bytes.fromhex(sig), b"")


def test_seal_roundtrip_and_tamper() -> None:
    k = crypto.new_master_key()
    blob = crypto.seal(k, b"JBSWY3DPEHPK3PXP", b"totp:1")
    assert crypto.unseal(k, blob, b"totp:1") == b"JBSWY3DPEHPK3PXP"
    with pytest.raises(crypto.DecryptError):
        crypto.unseal(k, blob, b"totp:2")
    with pytest.raises(crypto.DecryptError):
        crypto.unseal(crypto.new_master_key(), blob, b"totp:1")
    flipped = bytes([blob[0] ^ 1]) + blob[1:]
    with pytest.raises(crypto.DecryptError):
        crypto.unseal(k, flipped, b"totp:1")


def test_b64u() -> None:
    assert crypto.b64u_encode(b"\xfb\xff") == "-_8"
    assert crypto.b64u_decode("-_8") == b"\xfb\xff"
    for bad in ["a", "+/", "a b"]:
        with pytest.raises(crypto.Malformed):
            crypto.b64u_decode(bad)
