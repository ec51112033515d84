"""Sealing under a keyring: the blob names its key, binds its associated data, and legacy blobs still open."""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import crypto
from server import secrets as sealed

SECRET = b"JBSWY3DPEHPK3PXP"


def legacy_seal(master: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """The format before key ids: nonce || ciphertext || tag."""
    nonce = os.urandom(12)
    return nonce + AESGCM(master).encrypt(nonce, plaintext, aad)


def test_blob_names_its_key_in_a_header() -> None:
    k = crypto.new_master_key()
    blob = crypto.seal(crypto.Keyring(k), SECRET, b"passes.totp_sealed:1")
    key_id = hashlib.sha256(b"doorpass/master-key-id\0" + k).digest()[:8]
    assert blob[:2] == b"S1" and blob[2:10] == key_id == crypto.master_key_id(k)
    assert crypto.sealed_key_id(blob) == key_id
    assert len(blob) == 2 + 8 + 12 + len(SECRET) + 16
    assert SECRET not in blob
    assert crypto.seal(crypto.Keyring(k), SECRET, b"passes.totp_sealed:1") != blob  # fresh nonce
    assert crypto.unseal(crypto.Keyring(k), blob, b"passes.totp_sealed:1") == SECRET
    assert crypto.unseal(crypto.Keyring(k), crypto.seal(crypto.Keyring(k), b"", b"x"), b"x") == b""


def test_previous_keys_open_and_only_current_seals() -> None:
    old, new = crypto.new_master_key(), crypto.new_master_key()
    by_old = crypto.seal(crypto.Keyring(old), SECRET, b"a")
    ring = crypto.Keyring(new, (old,))
    assert crypto.unseal(ring, by_old, b"a") == SECRET
    assert crypto.sealed_key_id(crypto.seal(ring, SECRET, b"a")) == crypto.master_key_id(new)


def test_wrong_key_is_an_unknown_key() -> None:
    blob = crypto.seal(crypto.Keyring(crypto.new_master_key()), SECRET, b"a")
    with pytest.raises(crypto.UnknownKey):
        crypto.unseal(crypto.Keyring(crypto.new_master_key()), blob, b"a")
    assert issubclass(crypto.UnknownKey, crypto.DecryptError)


def test_aad_mismatch_and_tampering_refuse() -> None:
    ring = crypto.Keyring(crypto.new_master_key())
    blob = crypto.seal(ring, SECRET, b"passes.totp_sealed:1")
    with pytest.raises(crypto.DecryptError):
        crypto.unseal(ring, blob, b"passes.totp_sealed:2")
    for i in range(len(blob)):  # the header is authenticated too
        flipped = bytearray(blob)
        flipped[i] ^= 1
        with pytest.raises(crypto.DecryptError):
            crypto.unseal(ring, bytes(flipped), b"passes.totp_sealed:1")
    for short in (b"", blob[:2], blob[:37]):
        with pytest.raises(crypto.DecryptError):
            crypto.unseal(ring, short, b"passes.totp_sealed:1")


def test_legacy_blob_opens_only_with_its_legacy_aad() -> None:
    old, new = crypto.new_master_key(), crypto.new_master_key()
    blob = legacy_seal(old, SECRET, b"totp:7")
    ring = crypto.Keyring(new, (old,))
    assert crypto.unseal(ring, blob, b"passes.totp_sealed:7", legacy_aad=b"totp:7") == SECRET
    with pytest.raises(crypto.DecryptError):
        crypto.unseal(ring, blob, b"passes.totp_sealed:7")  # a headerless blob needs the caller's say-so
    with pytest.raises(crypto.DecryptError):
        crypto.unseal(ring, blob, b"passes.totp_sealed:8", legacy_aad=b"totp:8")
    with pytest.raises(crypto.DecryptError):
        crypto.unseal(crypto.Keyring(new), blob, b"x", legacy_aad=b"totp:7")


def test_keyring_never_shows_a_key() -> None:
    k, p = crypto.new_master_key(), crypto.new_master_key()
    shown = repr(crypto.Keyring(k, (p,))) + str(crypto.Keyring(k, (p,)))
    for key in (k, p):
        assert crypto.b64u_encode(key) not in shown and repr(key) not in shown and key.hex() not in shown
    assert crypto.master_key_id(k).hex() in shown
    with pytest.raises(ValueError):
        crypto.Keyring(b"short")


# ---------------------------------------------------------------- server/secrets.py


def test_helpers_bind_table_column_and_row() -> None:
    ring = crypto.Keyring(crypto.new_master_key())
    assert sealed.open_totp(ring, 5, sealed.seal_totp(ring, 5, "ABC")) == "ABC"
    assert sealed.open_id_number(ring, 3, sealed.seal_id_number(ring, 3, "110101")) == "110101"
    assert sealed.open_signing_key(ring, "root", sealed.seal_signing_key(ring, "root", b"k" * 32)) == b"k" * 32
    totp = sealed.seal_totp(ring, 5, "ABC")
    with pytest.raises(crypto.DecryptError):
        sealed.open_totp(ring, 6, totp)
    with pytest.raises(crypto.DecryptError):  # same row key, another column
        sealed.open_field(ring, "accounts", "totp_secret_sealed", 5, totp)
    blob = sealed.seal_field(ring, "accounts", "totp_secret_sealed", 9, b"S")
    assert crypto.unseal(ring, blob, b"accounts.totp_secret_sealed:9") == b"S"
    with pytest.raises(ValueError):
        sealed.seal_field(ring, "accounts", "not_listed", 9, b"S")


def test_helpers_open_values_sealed_before_key_ids() -> None:
    k = crypto.new_master_key()
    ring = crypto.Keyring(k)
    assert sealed.open_totp(ring, 5, legacy_seal(k, b"ABC", b"totp:5")) == "ABC"
    assert sealed.open_signing_key(ring, "root", legacy_seal(k, b"p" * 32, b"root")) == b"p" * 32
    assert sealed.open_id_number(ring, 3, legacy_seal(k, b"110101", b"id_number")) == "110101"
    with pytest.raises(crypto.DecryptError):
        sealed.open_totp(ring, 6, legacy_seal(k, b"ABC", b"totp:5"))


def test_a_server_keyring_reloads_after_a_rotation_elsewhere(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from server.keyfiles import load_keyring, write_private_file

    ring = load_keyring("", tmp_path)
    assert oct(tmp_path.stat().st_mode)[-3:] == "700"
    assert oct((tmp_path / "master.key").stat().st_mode)[-3:] == "600"
    old = ring.current
    new = crypto.new_master_key()
    by_new = sealed.seal_totp(crypto.Keyring(new), 1, "ABC")
    write_private_file(tmp_path / "master.key.previous", crypto.b64u_encode(old) + "\n")
    write_private_file(tmp_path / "master.key", crypto.b64u_encode(new) + "\n")
    assert oct((tmp_path / "master.key").stat().st_mode)[-3:] == "600"
    assert sealed.open_totp(ring, 1, by_new) == "ABC"  # unknown key id: the files are read again
    assert ring.current == new and ring.previous == (old,)
