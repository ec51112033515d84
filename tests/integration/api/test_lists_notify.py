"""On PostgreSQL a list re-signed by one process is served by every other at its next request: the re-signing
transaction notifies `doorpass_lists` and each process's listener marks its in-memory lists due. The `MAX_AGE`
re-check stays as the bound while the listener is down (and on SQLite)."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

import crypto
from server.clock import Clock
from server.db.engine import Database
from server.domain.lists.services import ListCache, ListListener, resign_status
from server.keyfiles import load_keyring
from server.settings import Settings
from tests.integration.conftest import Admin


async def _status_of(client: AsyncTestClient, index: int) -> crypto.Status:
    root = crypto.b64u_decode((await client.get("/api/root")).json()["root_pub"])
    trust = crypto.open_trust((await client.get("/api/trust")).json(), root)
    return crypto.open_status((await client.get("/api/status")).json(), trust.status_pub).get(index)


async def _change_elsewhere(settings: Settings, clock: Clock, index: int, status: crypto.Status) -> None:
    """Another server process on the same database (its own engine and pool) re-signs the status list."""
    other = Database(settings.database_url)
    try:
        async with other.transaction() as session:
            await resign_status(session, load_keyring(settings.master_key, settings.var_dir), now=clock.now(),
                                changes={index: int(status)})
    finally:
        await other.dispose()


async def _served_within(client: AsyncTestClient, index: int, want: crypto.Status, seconds: float) -> bool:
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while loop.time() < until:
        if await _status_of(client, index) == want:
            return True
        await asyncio.sleep(0.05)
    return False


async def _listening(listener: ListListener) -> None:
    for _ in range(200):
        if listener.listening:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the lists listener never started listening")


@pytest.fixture
def postgresql_only(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("notifications are PostgreSQL's; SQLite keeps the MAX_AGE bound (test_lists_memory.py)")


@pytest.mark.usefixtures("postgresql_only")
async def test_a_change_in_another_process_is_served_at_once(
    client, admin: Admin, settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """With a re-check bound of an hour, another process's revocation is served (lists and online verify) well
    within a second — and with the listener switched off, the next change is not served at all within the same wait:
    the notification, not the re-check, is what makes it fresh."""
    phone = await admin.enrolled_phone()
    index = crypto.decode_cred(phone.cred).status_index
    lists: ListCache = client.app.state.lists
    listener: ListListener = client.app.state.lists_listener
    lists.max_age = 3600
    await _listening(listener)
    assert await _status_of(client, index) == crypto.Status.VALID
    assert (await client.post("/api/verify", json={"qr": phone.live(clock.now())})).json()["result"] == "valid"

    await _change_elsewhere(settings, clock, index, crypto.Status.REVOKED)
    assert await _served_within(client, index, crypto.Status.REVOKED, 1.0), "the other process's change was not heard"
    assert listener.heard >= 1
    assert (await client.post("/api/verify", json={"qr": phone.live(clock.now())})).json()["result"] == "revoked"

    # The mechanism off: notifications still arrive but mark nothing, so only the (hour-long) re-check is left.
    # (The app runs on the test client's own event loop: its listener task is stopped by the app's shutdown.)
    monkeypatch.setattr(lists, "mark_due", lambda: None)
    heard = listener.heard
    await _change_elsewhere(settings, clock, index, crypto.Status.RED)
    assert not await _served_within(client, index, crypto.Status.RED, 1.5)
    assert listener.heard > heard  # it was sent and heard: only marking the lists due was off
    assert (await client.post("/api/verify", json={"qr": phone.live(clock.now())})).json()["result"] == "revoked"


@pytest.mark.usefixtures("postgresql_only")
async def test_the_listener_reconnects_after_losing_its_connection(
    client, admin: Admin, settings: Settings, clock: Clock,  # type: ignore[no-untyped-def]
) -> None:
    """The database ends the listening connection (a restart, a failover, an administrator): the listener connects
    again by itself and the next change by another process is heard as before."""
    phone = await admin.enrolled_phone()
    index = crypto.decode_cred(phone.cred).status_index
    client.app.state.lists.max_age = 3600
    listener: ListListener = client.app.state.lists_listener
    await _listening(listener)
    assert await _status_of(client, index) == crypto.Status.VALID

    database = settings.database_url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database=database)
    try:
        ended = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid() AND pid = $2", database, listener.server_pid)
    finally:
        await conn.close()
    assert ended == 1
    for _ in range(200):  # it notices, then connects again after its first backoff
        if listener.listening and listener.server_pid not in (None, 0) and listener.reconnects >= 1:
            break
        await asyncio.sleep(0.05)
    assert listener.listening and listener.reconnects >= 1
    assert await _status_of(client, index) == crypto.Status.VALID  # the re-check a reconnection makes is spent here

    await _change_elsewhere(settings, clock, index, crypto.Status.RED)
    assert await _served_within(client, index, crypto.Status.RED, 1.0)


async def test_a_listener_that_cannot_connect_never_fails_the_app(caplog: pytest.LogCaptureFixture) -> None:
    """No database answering where the listener looks: it says so in the log (without the address) and keeps
    retrying in the background; nothing is raised, and stop() ends it."""
    cache = ListCache()
    listener = ListListener(cache)
    db = Database("postgresql+asyncpg://doorpass:secret-pw@127.0.0.1:1/nowhere")
    caplog.set_level(logging.WARNING, logger="doorpass")
    try:
        await listener.start(db)
        for _ in range(100):
            if "cannot listen" in caplog.text:
                break
            await asyncio.sleep(0.05)
        assert "cannot listen" in caplog.text
        assert not listener.listening
        assert "secret-pw" not in caplog.text and "127.0.0.1:1" not in caplog.text
    finally:
        await listener.stop()
        await db.dispose()


async def test_no_listener_on_sqlite(tmp_path) -> None:  # type: ignore[no-untyped-def]
    listener = ListListener(ListCache())
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        await listener.start(db)
        assert listener._task is None and not listener.listening
    finally:
        await listener.stop()
        await db.dispose()
