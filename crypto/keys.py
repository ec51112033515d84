"""Ed25519 raw keys and AES-256-GCM sealing under a keyring of master keys, on `cryptography`."""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from crypto.errors import DecryptError, UnknownKey


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


SEALED_V1 = b"S1"
"""The first bytes of a sealed blob of this version: `S1` || key id (8) || nonce (12) || ciphertext || tag (16)."""
KEY_ID_SIZE = 8
_HEADER = len(SEALED_V1) + KEY_ID_SIZE
_NONCE, _TAG = 12, 16


def master_key_id(master: bytes) -> bytes:
    """The 8 bytes that name a master key in a sealed blob: SHA-256("doorpass/master-key-id\\0" || master)[:8]."""
    return hashlib.sha256(b"doorpass/master-key-id\0" + master).digest()[:KEY_ID_SIZE]


@dataclass(repr=False)
class Keyring:
    """The master key that seals (`current`) and older ones still accepted for opening (`previous`).

    Its repr shows key ids only, never a key."""

    current: bytes
    previous: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        self.previous = tuple(k for k in dict.fromkeys(self.previous) if k != self.current)
        if any(len(k) != 32 for k in (self.current, *self.previous)):
            raise ValueError("a master key is 32 bytes")

    def __repr__(self) -> str:
        ids = ", ".join(master_key_id(k).hex() for k in self.previous)
        return f"Keyring(current={master_key_id(self.current).hex()}, previous=[{ids}])"

    def key(self, key_id: bytes) -> bytes | None:
        """The key of the ring that `key_id` names, or None."""
        for k in (self.current, *self.previous):
            if hmac.compare_digest(master_key_id(k), key_id):
                return k
        return None


def sealed_key_id(blob: bytes) -> bytes | None:
    """The key id a sealed blob names; None for a blob without the header (sealed before key ids)."""
    if len(blob) >= _HEADER + _NONCE + _TAG and blob[: len(SEALED_V1)] == SEALED_V1:
        return bytes(blob[len(SEALED_V1) : _HEADER])
    return None


def seal(keyring: Keyring, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM under the current key: `S1` || key id || 12-byte random nonce || ciphertext || tag.

    `aad` names what the value belongs to (table, column, row), so a blob copied to another row does not open.
    The header is authenticated too."""
    header = SEALED_V1 + master_key_id(keyring.current)
    nonce = os.urandom(_NONCE)
    return header + nonce + AESGCM(keyring.current).encrypt(nonce, plaintext, header + aad)


def unseal(keyring: Keyring, blob: bytes, aad: bytes, *, legacy_aad: bytes | None = None) -> bytes:
    """Open a blob from `seal` with the key it names. Raises UnknownKey when no key of the ring has that id,
    DecryptError when it does not open (wrong row, tampered).

    A blob without the header (nonce || ciphertext || tag, sealed before key ids) opens only when the caller
    says what its associated data was (`legacy_aad`), under any key of the ring."""
    blob = bytes(blob)
    kid = sealed_key_id(blob)
    if kid is not None:
        key = keyring.key(kid)
        if key is not None:
            return _open(key, blob[_HEADER:], blob[:_HEADER] + aad)
        if legacy_aad is None:
            raise UnknownKey("the sealed blob names a master key that is not in the keyring")
    if legacy_aad is None:
        raise DecryptError("sealed blob without a key id (or too short)")
    if len(blob) < _NONCE + _TAG:
        raise DecryptError("sealed blob too short")
    for key in (keyring.current, *keyring.previous):
        try:
            return _open(key, blob, legacy_aad)
        except DecryptError:
            continue
    if kid is not None:
        raise UnknownKey("the sealed blob names a master key that is not in the keyring")
    raise DecryptError("cannot open sealed blob: wrong key or tampered")


def _open(key: bytes, nonce_ct: bytes, aad: bytes) -> bytes:
    if len(nonce_ct) < _NONCE + _TAG:
        raise DecryptError("sealed blob too short")
    try:
        return AESGCM(key).decrypt(nonce_ct[:_NONCE], nonce_ct[_NONCE:], aad)
    except InvalidTag as e:
        raise DecryptError("cannot open sealed blob: wrong key or tampered") from e
