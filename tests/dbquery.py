"""Read a test server's database directly, on SQLite or PostgreSQL: `rows(url, sql, *params)` with `?` placeholders."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end from sync code, even where a loop already runs (Playwright's sync API)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def rows(database_url: str, sql: str, *params: object) -> list[tuple]:
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.split("///", 1)[1]) as c:
            return c.execute(sql, params).fetchall()
    import asyncpg

    numbered = iter(range(1, sql.count("?") + 1))
    pg_sql = re.sub(r"\?", lambda _: f"${next(numbered)}", sql)

    async def fetch() -> list[tuple]:
        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            return [tuple(r) for r in await conn.fetch(pg_sql, *params)]
        finally:
            await conn.close()

    return run_sync(fetch())
