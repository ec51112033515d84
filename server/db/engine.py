"""Engine and sessions. SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL locks rows.

Reads never wait for writes: `Database.read()` opens a read-only transaction (SQLite: a plain deferred
BEGIN, which WAL lets run beside the one writer; PostgreSQL: READ ONLY), so verify, lists and pull answer
while a long push holds the write lock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from server.db.files import private_sqlite


class Database:
    """One engine and session factory per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            private_sqlite(url)  # 0600 file (SQLite gives -wal/-shm its mode), 0700 folder if new
            self.engine: AsyncEngine = create_async_engine(url, connect_args={"timeout": 30})
            _sqlite_immediate(self.engine)
            reader = self.engine.execution_options(doorpass_read=True)
        else:
            self.engine = create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
            reader = self.engine.execution_options(postgresql_readonly=True)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.readers = async_sessionmaker(reader, expire_on_commit=False, autoflush=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session inside one read-only transaction, for handlers that only read: it never waits for a writer
        (nor makes one wait). A write in it fails (PostgreSQL) or takes the write lock late (SQLite): don't."""
        async with self.readers() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_immediate(engine: AsyncEngine) -> None:
    """Take SQLite's write lock at BEGIN so two writers queue instead of deadlocking (reads: a deferred BEGIN)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("doorpass_read") else "BEGIN IMMEDIATE")
