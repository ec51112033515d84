"""Local secrets: the master keyring that seals keys and TOTP secrets.

Each comes from its env var or from a 0600 file under `var/` (itself 0700), made on first start.
Never logged. `python -m server rotate-master-key` replaces the master key (see server/secrets.py).
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path

from crypto import Keyring, b64u_decode, b64u_encode, new_master_key

MASTER_KEY_FILE = "master.key"
PREVIOUS_KEYS_FILE = "master.key.previous"


def private_dir(path: Path) -> None:
    """Make `path` (var/) if missing; either way 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


def _read_or_create(path: Path, make: Callable[[], str]) -> str:
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    value = make()
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return value


def _key(text: str) -> bytes:
    key = b64u_decode(text.strip())
    if len(key) != 32:
        raise ValueError("a master key must be 32 bytes, base64url")
    return key


def _read_keyring(env_value: str, env_previous: str, var_dir: Path) -> Keyring:
    current = env_value or _read_or_create(var_dir / MASTER_KEY_FILE, lambda: b64u_encode(new_master_key()))
    previous = [t for t in env_previous.replace(",", " ").split() if t]
    prev_file = var_dir / PREVIOUS_KEYS_FILE
    if prev_file.exists():
        previous += prev_file.read_text().split()
    return Keyring(_key(current), tuple(_key(t) for t in previous))


class LoadedKeyring(Keyring):
    """The process's keyring: the current key from `DOORPASS_MASTER_KEY` or `var/master.key`, the previous
    ones from `DOORPASS_MASTER_KEY_PREVIOUS` (comma-separated) and `var/master.key.previous` (one a line).

    `reload()` reads them again: a server process calls it when a sealed value names a key it does not hold
    (another process ran `rotate-master-key`) and before sealing when `var/master.key` changed on disk."""

    def __init__(self, env_value: str, var_dir: Path, env_previous: str = "") -> None:
        self._source = (env_value, env_previous, var_dir)
        self._lock = threading.Lock()
        self._stamp = self._file_stamp()
        ring = _read_keyring(*self._source)
        super().__init__(ring.current, ring.previous)

    def _file_stamp(self) -> tuple[int, int] | None:
        env_value, _, var_dir = self._source
        if env_value:
            return None
        try:
            st = (var_dir / MASTER_KEY_FILE).stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def reload(self) -> None:
        with self._lock:
            stamp = self._file_stamp()
            ring = _read_keyring(*self._source)
            self.previous = ring.previous  # first: it holds the key that was current
            self.current = ring.current
            self._stamp = stamp

    def reload_if_changed(self) -> None:
        """Reload when `var/master.key` was replaced since it was read (a stat, no read otherwise)."""
        if self._file_stamp() != self._stamp:
            self.reload()

    def snapshot(self) -> Keyring:
        """A plain keyring with the same keys, that no reload changes."""
        return Keyring(self.current, self.previous)


def load_keyring(env_value: str, var_dir: Path, env_previous: str = "") -> LoadedKeyring:
    """The master keyring (see `LoadedKeyring`); makes `var/` (0700) and `var/master.key` (0600) on first start."""
    private_dir(var_dir)
    return LoadedKeyring(env_value, var_dir, env_previous)


def write_private_file(path: Path, text: str) -> None:
    """Replace `path` atomically with `text`, 0600: write a temporary file beside it, fsync, rename."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
