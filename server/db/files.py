"""The SQLite database is private: its file and the `-wal`, `-shm` and `-journal` files beside it 0600.

SQLite gives a new `-wal`/`-shm`/`-journal` file the mode of the database file, so creating the database
file 0600 (before SQLite opens it) is enough for new databases; older ones are tightened here too.
"""

from __future__ import annotations

import os
from pathlib import Path

COMPANIONS = ("", "-wal", "-shm", "-journal")


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (`sqlite+aiosqlite:///var/doorpass.db`); None for another database or memory."""
    if not url.startswith("sqlite") or "///" not in url:
        return None
    path = url.split("///", 1)[1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def private_sqlite(url: str) -> None:
    """Make the database's folder (0700) and file (0600, empty) if missing; make its files 0600 if looser."""
    path = sqlite_path(url)
    if path is None:
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # an empty file is an empty SQLite database
    for suffix in COMPANIONS:
        p = path.with_name(path.name + suffix)
        try:
            if p.stat().st_mode & 0o077:
                p.chmod(0o600)
        except FileNotFoundError:
            continue
