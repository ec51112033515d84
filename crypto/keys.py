"""Ed25519 raw keys and AES-256-GCM sealing, on `cryptography`."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from crypto.errors import DecryptError


def new_signing_key() -> bytes:
    """A new Ed25519 private key as its 32-byte seed."""
    return Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def public_key(priv: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign(priv: bytes, msg: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(priv).sign(msg)


def verify_sig(pub: bytes, sig: bytes, msg: bytes) -> bool:
    """True when `sig` is a valid Ed25519 signature of `msg` by `pub`; never raises."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes(pub)).verify(bytes(sig), bytes(msg))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def new_master_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(master: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """AES-256-GCM: 12-byte random nonce || ciphertext || tag."""
    nonce = os.urandom(12)
    return nonce + AESGCM(master).encrypt(nonce, plaintext, aad)


def unseal(master: bytes, blob: bytes, aad: bytes = b"") -> bytes:
    if len(blob) < 28:
        raise DecryptError("sealed blob too short")
    try:
        return AESGCM(master).decrypt(blob[:12], blob[12:], aad)
    except InvalidTag as e:
        raise DecryptError("cannot open sealed blob: wrong key or tampered") from e
