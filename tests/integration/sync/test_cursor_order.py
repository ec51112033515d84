"""Pull never skips a record that commits late: cursors become visible in cursor order.

Without that, on PostgreSQL a push that took cursor N and commits after a push that took N+1 would be
missed by a worker whose pull had already passed N+1 (their reviews would never reach their phone).
"""

from __future__ import annotations

import asyncio

import pytest

import sync
from server.db.engine import Database
from server.domain.records.feeds import pull_feeds
from server.domain.records.services import make_appliers
from server.domain.verify.services import ListCache
from server.settings import Settings
from tests.integration.conftest import Admin
from tests.records import Device


async def test_a_push_that_commits_late_is_still_pulled(client, admin: Admin, clock, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    if settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one writer at a time (BEGIN IMMEDIATE): no push can commit out of cursor order")
    phone = await admin.enrolled_phone()
    first, second = Device(), Device()
    r1 = first.record("review", frame=phone.live(clock.now()), stars=5, comment="first")
    r2 = second.record("review", frame=phone.live(clock.now() + 30), stars=4, comment="second")
    worker = Device()
    db = Database(settings.database_url)

    async def pull_reviews(cursor: int) -> tuple[int, list[str]]:
        async with db.read() as s:
            page = await sync.pull(s, worker.id, cursor, feeds=pull_feeds(worker.id, serial=phone.serial, outlet_id=None), limit=100)
        return page.cursor, [r["comment"] for r in page.feeds["reviews"]]

    try:
        async with db.transaction() as s:
            appliers = make_appliers(await ListCache().get(s), offline_lag_days=7)
            for d in (first, second):
                await sync.register(s, d.pub, now=clock.now())
        seen: list[str] = []
        async with db.transaction() as slow:  # takes the lower cursor, commits last
            (receipt,), _ = await sync.push(slow, first.id, [first.envelope(r1)], appliers, now=clock.now())
            assert receipt.status == "applied"

            async def fast() -> str:
                async with db.transaction() as s:
                    (rc,), _ = await sync.push(s, second.id, [second.envelope(r2)], appliers, now=clock.now())
                return rc.status

            other = asyncio.create_task(fast())
            await asyncio.sleep(1.0)  # time enough for the second push to commit, were it allowed to
            cursor, got = await pull_reviews(0)  # a worker pulls while the first push is still open
            seen += got
        assert await other == "applied"
        cursor, got = await pull_reviews(cursor)
        seen += got
        assert sorted(seen) == ["first", "second"], seen
    finally:
        await db.dispose()
