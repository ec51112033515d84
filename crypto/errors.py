"""One error tree for everything DP1."""


class CryptoError(Exception):
    """Base of every crypto/ error."""


class Malformed(CryptoError):
    """Bytes or text not of the DP1 shape."""


class BadSignature(CryptoError):
    """An Ed25519 signature did not verify."""


class DecryptError(CryptoError):
    """AES-GCM could not open a sealed blob (wrong key or tampered)."""


class UnknownKey(DecryptError):
    """A sealed blob names a master key that the keyring does not hold (rotated since this process loaded it?)."""
