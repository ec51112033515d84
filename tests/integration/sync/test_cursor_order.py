"""Pull never skips a record that commits late: cursors become visible in cursor order.

Without that, on PostgreSQL a push that took cursor N and commits after a push that took N+1 would be
missed by a worker whose pull had already passed N+1 (their reviews would never reach their phone).
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

import sync
from server.db.engine import Database
from server.db.models import Review, Visit
from server.domain.records.feeds import pull_feeds
from server.domain.records.services import make_appliers
from server.domain.verify.services import ListCache
from server.settings import Settings
from sync.push import LAST_CURSOR
from tests.integration.conftest import Admin, checkin
from tests.records import Device, uuid7


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
            assert receipt.status == "applied", receipt.reason_en

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


def _pg_only(settings: Settings) -> None:
    if settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one writer at a time (BEGIN IMMEDIATE): pushes never overlap")


async def test_pushes_of_two_devices_run_side_by_side_and_the_pull_still_skips_nothing(  # type: ignore[no-untyped-def]
        client, admin: Admin, clock, settings: Settings) -> None:
    """A push still being checked does not hold back another device's push (no lock is shared until the short
    commit-time step), and the record it commits afterwards gets a later cursor: a pull that saw the second push
    finds the first on its next page."""
    _pg_only(settings)
    phone = await admin.enrolled_phone()
    first, second, worker = Device(), Device(), Device()
    r1 = first.record("review", frame=phone.live(clock.now()), stars=5, comment="first")
    r2 = second.record("review", frame=phone.live(clock.now() + 30), stars=4, comment="second")
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
        checking, go_on = asyncio.Event(), asyncio.Event()

        async def held_review(session, rec, device_id, now) -> None:  # type: ignore[no-untyped-def]
            checking.set()
            await go_on.wait()  # the first push is in the middle of its checks
            await appliers["review"](session, rec, device_id, now)

        # every bulk group but the household one, so the held review goes one at a time through `held_review`
        held = sync.Appliers({**appliers, "review": held_review}, prepare=appliers.prepare,
                             bulks=tuple((kinds, bulk) for kinds, bulk in appliers.bulks if "review" not in kinds))

        async def slow() -> list[int | None]:
            async with db.transaction() as s:
                receipts, _ = await sync.push(s, first.id, [first.envelope(r1)], held, now=clock.now())
            return [r.cursor for r in receipts]

        task = asyncio.create_task(slow())
        await checking.wait()
        async with db.transaction() as s:  # the second device's push runs and commits meanwhile
            (fast,), _ = await asyncio.wait_for(sync.push(s, second.id, [second.envelope(r2)], appliers, now=clock.now()), 10)
        assert fast.status == "applied" and not task.done()
        cursor, seen = await pull_reviews(0)
        assert seen == ["second"]
        go_on.set()
        [slow_cursor] = await task
        assert slow_cursor is not None and fast.cursor is not None and slow_cursor > fast.cursor  # given at commit
        cursor, got = await pull_reviews(cursor)
        assert got == ["first"]
    finally:
        await db.dispose()


async def test_a_review_and_the_check_in_it_confirms_pushed_at_once_still_meet(  # type: ignore[no-untyped-def]
        client, admin: Admin, clock, settings: Settings) -> None:
    """docs/devices.md: the household's review and the worker's check-in of one visit, pushed by two processes at
    the same moment: the second waits for the first's commit (the visit's lock), so the visit is confirmed."""
    _pg_only(settings)
    phone = await admin.enrolled_phone()
    household, visit = Device(), uuid7()
    now = clock.now()
    cin = checkin(phone, household, at=now, visit_id=visit)
    rv = {**household.record("review", frame=phone.live(now), stars=5, visit_id=visit), "at": now}
    db = Database(settings.database_url)
    try:
        async with db.transaction() as s:
            appliers = make_appliers(await ListCache().get(s), offline_lag_days=7)
            for d in (household, phone.device):
                await sync.register(s, d.pub, now=now)
        async with db.transaction() as slow:  # the check-in, not yet committed
            (receipt,), _ = await sync.push(slow, phone.device.id, [phone.device.envelope(cin)], appliers, now=now)
            assert receipt.status == "applied", receipt.reason_en

            async def review() -> str:
                async with db.transaction() as s:
                    (rc,), _ = await sync.push(s, household.id, [household.envelope(rv)], appliers, now=now)
                return rc.status

            other = asyncio.create_task(review())
            await asyncio.sleep(1.0)  # time enough for the review's checks to run, were they not held back
        assert await other == "applied"
        async with db.read() as s:
            [row] = (await s.execute(select(Review))).scalars().all()
            v = await s.get(Visit, visit)
        assert row.confirmed and v is not None and v.household_device == household.id
    finally:
        await db.dispose()


async def test_a_push_alone_keeps_the_cursors_it_drew(client, admin: Admin, clock, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """With no other push drawing cursors meanwhile, the cursors a push's rows drew at insert stand as their final ones
    (sync.push._cursors_stand): one cursor a record, each row written once, not rewritten at commit."""
    _pg_only(settings)
    phone = await admin.enrolled_phone()
    devices = [Device() for _ in range(2)]
    db = Database(settings.database_url)
    try:
        async with db.transaction() as s:
            appliers = make_appliers(await ListCache().get(s), offline_lag_days=7)
            for d in devices:
                await sync.register(s, d.pub, now=clock.now())
        for k, d in enumerate(devices):
            envelopes = [d.envelope(d.record("review", frame=phone.live(clock.now() + 30 * k), stars=5, comment=f"r{k}"))]
            async with db.transaction() as s:
                before = (await s.execute(LAST_CURSOR)).scalar_one() or 0  # NULL: none drawn yet
                (receipt,), _ = await sync.push(s, d.id, envelopes, appliers, now=clock.now())
                after = (await s.execute(LAST_CURSOR)).scalar_one()
            assert receipt.status == "applied", receipt.reason_en
            assert after == before + 1 and receipt.cursor == after  # drawn once, kept (a rewrite would draw again)
    finally:
        await db.dispose()
