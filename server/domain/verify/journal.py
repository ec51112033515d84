"""The record of online verifications, written in batches off the request path.

Answering a verification only reads; its audit row waits in memory and a background task inserts
what has gathered in one statement every `FLUSH_SECONDS` (sooner when `BATCH` rows wait). So a
verification never waits for SQLite's write lock behind a long push, and a busy morning costs one
write a second, not one per request. A clean shutdown (the app's lifespan ending) writes what is
left; a process killed outright loses at most the last `FLUSH_SECONDS` of rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from sqlalchemy import Table, insert

from server.db.engine import Database
from server.db.models import VerificationEvent

log = logging.getLogger("doorpass")
EVENTS: Table = VerificationEvent.__table__  # type: ignore[assignment]  # a mapped class's table is a Table
FLUSH_SECONDS = 1.0
BATCH = 500


@dataclass(frozen=True)
class Entry:
    """One online verification: who asked about which pass, when, and the answer."""

    serial: int | None
    at: int
    result: str
    channel: str
    verifier: str
    device_id: str | None


class Journal:
    """Entries waiting to be written; `run()` writes them, `close()` writes the rest and stops."""

    def __init__(self) -> None:
        self.pending: list[Entry] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def add(self, entry: Entry) -> None:
        self.pending.append(entry)
        if len(self.pending) >= BATCH:
            self._wake.set()

    async def flush(self, db: Database) -> int:
        """Write what waits now, in one statement; a failed write keeps the rows for the next try."""
        batch, self.pending = self.pending, []
        if not batch:
            return 0
        try:
            async with db.transaction() as session:
                # Core, not the ORM: the rows need no objects, and this runs on the event loop between answers
                await session.execute(insert(EVENTS), [vars(e) for e in batch])
        except Exception:
            log.exception("could not write %d verification records; will retry", len(batch))
            self.pending[:0] = batch
            return 0
        return len(batch)

    async def _run(self, db: Database) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), FLUSH_SECONDS)
            self._wake.clear()
            await self.flush(db)

    def start(self, db: Database) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(db))

    async def close(self, db: Database) -> None:
        """Stop the loop between writes (never in the middle of one), then write what is left."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        await self.flush(db)
