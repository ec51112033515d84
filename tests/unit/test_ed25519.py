"""RFC 8032 section 7.1 Ed25519 tests 1 and 2 through our raw-key functions."""

from __future__ import annotations

import pytest

import crypto

RFC8032 = [
    pytest.param(
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        id="test 1"),
    pytest.param(
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        id="test 2"),
]


@pytest.mark.parametrize("priv,pub,msg,sig", RFC8032)
def test_rfc8032(priv: str, pub: str, msg: str, sig: str) -> None:
    p, m = bytes.fromhex(priv), bytes.fromhex(msg)
    assert crypto.public_key(p).hex() == pub
    assert crypto.sign(p, m).hex() == sig
    assert crypto.verify_sig(bytes.fromhex(pub), bytes.fromhex(sig), m)


@pytest.mark.parametrize("priv,pub,msg,sig", RFC8032)
def test_verify_sig_is_false_never_an_error(priv: str, pub: str, msg: str, sig: str) -> None:
    k, s, m = bytes.fromhex(pub), bytes.fromhex(sig), bytes.fromhex(msg)
    assert not crypto.verify_sig(k, s, m + b"x")
    assert not crypto.verify_sig(k, bytes([s[0] ^ 1]) + s[1:], m)
    assert not crypto.verify_sig(k, s[:63], m)
    assert not crypto.verify_sig(k[:31], s, m)
    assert not crypto.verify_sig(b"", b"", b"")
    assert not crypto.verify_sig(None, s, m)  # type: ignore[arg-type]


def test_new_key_signs_and_verifies() -> None:
    priv = crypto.new_signing_key()
    assert len(priv) == 32 and priv != crypto.new_signing_key()
    pub = crypto.public_key(priv)
    assert len(pub) == 32
    sig = crypto.sign(priv, b"DP1")
    assert len(sig) == 64 and crypto.verify_sig(pub, sig, b"DP1")
