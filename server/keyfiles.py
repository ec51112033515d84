"""Local secrets: the master key that seals keys and TOTP secrets, and the admin token.

Each comes from its env var or from a 0600 file under `var/`, made on first start.
Never logged.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from crypto import b64u_decode, b64u_encode, new_master_key


def _read_or_create(path: Path, make: callable) -> str:  # type: ignore[valid-type]
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    value = make()
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return value


def load_master_key(env_value: str, var_dir: Path) -> bytes:
    """The 32-byte master key: from `DOORPASS_MASTER_KEY` (b64u) or `var/master.key`."""
    text = env_value or _read_or_create(var_dir / "master.key", lambda: b64u_encode(new_master_key()))
    key = b64u_decode(text)
    if len(key) != 32:
        raise ValueError("the master key must be 32 bytes, base64url")
    return key


def load_admin_token(env_value: str, var_dir: Path) -> str:
    """The admin bearer token: from `DOORPASS_ADMIN_TOKEN` or `var/admin.token`."""
    return env_value or _read_or_create(var_dir / "admin.token", lambda: secrets.token_urlsafe(24))
