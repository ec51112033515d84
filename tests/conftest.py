"""Shared fixtures. The settings env is set before the app is imported.

Database tests run on SQLite and, when a PostgreSQL server answers on
127.0.0.1:5432 (trust auth, database `test`), on PostgreSQL too; the header
and the summary say which ran.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors" / "dp1.json"
"""The DP1 test vectors, the repository's own copy (docs/spec/dp1.md is the format they test)."""

_VAR = Path(tempfile.mkdtemp(prefix="doorpass-test-"))
os.environ.setdefault("DOORPASS_VAR", str(_VAR))
os.environ.setdefault("DOORPASS_TEST_FAST_HASH", "1")  # staff passwords: argon2's cheapest parameters in tests only
os.environ.setdefault("DOORPASS_MASTER_KEY", "q6Qx5VBxI8a2z7x7oA1vWqG3r9mK2cT4u8eN0pLdYhA")
# Tests make many calls from one client; the rate-limit tests turn limits on in their own settings.
os.environ.setdefault("DOORPASS_RATE_LIMITS", "off")

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN_URL = os.environ.get("DOORPASS_TEST_PG", f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/test")


def _pg_answers() -> bool:
    if os.environ.get("DOORPASS_TEST_NO_PG"):
        return False
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


PG = _pg_answers()
DATABASES = ["sqlite", "postgresql"] if PG else ["sqlite"]
_ran: set[str] = set()


def pytest_report_header(config: pytest.Config) -> list[str]:
    if PG:
        return [f"databases: SQLite and PostgreSQL ({PG_HOST}:{PG_PORT}, database test answers)"]
    return [f"databases: SQLite only (no PostgreSQL answering on {PG_HOST}:{PG_PORT})"]


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    ran = ", ".join(sorted(_ran)) or "none"
    terminalreporter.write_line(f"database tests ran on: {ran}")


async def _pg_create(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="test")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _pg_drop(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user="postgres", database="test")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=DATABASES)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A fresh, migrated, empty database on each engine in turn."""
    from server.db.migrate import upgrade

    kind = request.param
    _ran.add(kind)
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'doorpass.db'}"
        upgrade(url)
        yield url
        return
    name = f"doorpass_{uuid.uuid4().hex[:12]}"
    await _pg_create(name)
    url = f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        await _pg_drop(name)
