"""The bulk appliers (a run of one group in a few statements) answer and store exactly what the one-by-one appliers
do: the same mixed batches, pushed once through `make_appliers` and once through a plain dict of the same appliers
(every record one at a time), from the same database state, give the same receipts and the same rows."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import select

import sync
from server.db.engine import Database
from server.db.models import Attendance, Complaint, Review, TrainingSession, Visit
from server.domain.records.services import LOCAL, local_day, make_appliers
from server.domain.verify.services import ListCache
from sync.models import Device as DeviceRow
from sync.models import SyncRecord
from tests.integration.conftest import ADMIN, Admin, Phone, checkin
from tests.records import Device, uuid7

DAY = 86400
TABLES = (Visit, Review, Complaint, TrainingSession, Attendance, SyncRecord, DeviceRow)


def review(device: Device, frame: str, at: int, **fields: object) -> dict:
    return {**device.record("review", frame=frame, **{"stars": 4, "tags": [], **fields}), "at": at}


def complaint(device: Device, frame: str, at: int, **fields: object) -> dict:
    return {**device.record("complaint", frame=frame, category="conduct", **{"text": "迟到", **fields}), "at": at}


def checkout(phone: Phone, visit_id: str, at: int, serial: int | None = None) -> dict:
    return {**phone.device.record("checkout", visit_id=visit_id, serial=phone.serial if serial is None else serial), "at": at}


def _batches(a: Phone, b: Phone, lost: Phone, outlet: Device, outlet_id: int, now: int, revoked_at: int) -> list[tuple[Device, list[dict]]]:
    """Batches of every kind, with a refusal of every sort, duplicates, and visits confirmed both ways."""
    h1, h2, worker = Device(), Device(), a.device
    v1, v2, v3, v4, v5 = (uuid7() for _ in range(5))
    seen = review(h1, a.live(now - 60), now - 60, visit_id=v1)  # reviewed before the check-in arrives: confirmed later
    households = [seen, seen,  # the same record twice in one batch: a duplicate receipt
                  complaint(h1, a.live(now - 60), now - 60, visit_id=v1),
                  review(h1, a.live(now - 30), now - 30, visit_id=v1),  # a second review of the visit: refused
                  review(h1, b.live(now), now),  # no visit named
                  review(h1, b.live(now), now, comment="again"),  # the same shown code reviewed twice: refused
                  review(h1, a.live(now - 3 * 365 * DAY), now),  # an old frame: refused
                  review(h1, a.card(), now),  # a printed card is no proof
                  complaint(h1, b.live(now), now, photo="not base64!"),
                  complaint(h1, b.live(now), now, photo=base64.b64encode(b"\xff" * (512 * 1024 + 1)).decode()),
                  complaint(h1, b.live(now), now, photo=base64.b64encode(b"\x89PNG tiny").decode()),
                  review(h1, a.live(now), now, visit_id=v3)]  # a visit never checked in
    morning = [checkin(a, h1, at=now - 50, code_at=now - 60, visit_id=v1),  # confirms h1's review and complaint
               checkout(a, v1, now - 40),  # the check-in earlier in the same run
               checkout(a, v1, now - 35),  # checked out already
               {**checkin(a, h1, at=now - 30, visit_id=v1), "id": uuid7()},  # the visit is recorded already
               checkin(a, h2, at=now - 20, visit_id=v2),  # h2 reviews it later: confirmed then
               checkout(a, v2, now - 10_000),  # before its check-in
               checkin(a, h2, at=now - 20, visit_id=v3, code_at=now - 2 * 3600),  # long after the household's verification
               {**checkin(a, h2, at=now), "visit_code": "DPV2:nonsense"},
               checkin(b, h2, at=now),  # another worker's pass, on this phone
               checkout(a, uuid7(), now),  # no check-in
               checkin(a, h2, at=now - 15, visit_id=v4)]
    mixed = [checkout(a, v4, now - 5),  # a visit stored by an earlier batch
             review(worker, b.live(now), now),  # a worker reviewing another worker: fine
             review(worker, a.live(now), now),  # her own pass: refused
             {**worker.record("session", session_id=uuid7(), outlet_id=outlet_id, course="保洁", day="2026-01-01"), "at": now},
             {**worker.record("attendance", session_id=uuid7(), trainee_number="T-9"), "at": now},
             checkin(a, h2, at=now - 5, visit_id=v5),
             complaint(worker, b.live(now), now),
             checkout(a, v5, now - 1),
             checkout(a, v5, now)]
    later = [review(h2, a.live(now - 30), now - 30, visit_id=v2),  # the check-in came first: confirmed now
             complaint(h2, a.live(now - 30), now - 30, visit_id=v2),
             review(h2, a.live(now - 60), now - 60, visit_id=v1)]  # h1 showed that visit's code, not h2
    lost_phone = [checkin(lost, h2, at=revoked_at - 600), checkout(lost, uuid7(), revoked_at + 1),
                  checkin(lost, h2, at=revoked_at + 1, code_at=revoked_at)]
    session, day = uuid7(), local_day(now, LOCAL).isoformat()
    first = outlet.record("attendance", session_id=session, trainee_number="T-1")
    training = [outlet.record("attendance", session_id=session, trainee_number="T-0"),  # before its session
                outlet.record("session", session_id=session, outlet_id=outlet_id, course="养老护理", day=day),
                first, outlet.record("attendance", session_id=session, trainee_number="T-1"),  # duplicate_of the first
                {**outlet.record("attendance", session_id=session, frame=a.live(now)), "at": now},
                outlet.record("attendance", session_id=session, frame=b.live(now), trainee_number="T-2"),  # both
                outlet.record("session", session_id=session, outlet_id=outlet_id, course="again", day=day),
                outlet.record("session", session_id=uuid7(), outlet_id=outlet_id, course="x", day="2026-02-31"),
                outlet.record("session", session_id=uuid7(), outlet_id=outlet_id + 999, course="x", day=day)]
    return [(h1, households), (worker, morning), (worker, mixed), (h2, later), (lost.device, lost_phone), (outlet, training)]


def _ranks(values: list[int | None]) -> dict[int | None, int | None]:
    """Cursors come from a sequence a rolled-back run does not give back: compare their order, not their values."""
    return {None: None} | {c: i for i, c in enumerate(sorted(v for v in set(values) if v is not None))}


async def _run(db: Database, batches: list[tuple[Device, list[dict]]], now: int, *, bulk: bool) -> tuple[list, dict]:
    """Push the batches in one transaction (rolled back afterwards) and answer the receipts and every row written."""
    async with db.sessions() as s:
        await s.begin()
        lists = await ListCache().get(s)
        receipts: list[dict[str, Any]] = []
        for device, records in batches:
            appliers = make_appliers(lists, offline_lag_days=7)
            got, _ = await sync.push(s, device.id, [device.envelope(r) for r in records],
                                     appliers if bulk else dict(appliers), now=now)
            receipts += [{f: getattr(r, f) for f in r.__struct_fields__} for r in got]
        s.expunge_all()
        rows: dict[str, list[dict]] = {}
        for model in TABLES:
            found = (await s.execute(select(model))).scalars().all()
            rows[model.__tablename__] = sorted(({c.key: getattr(o, c.key) for c in model.__mapper__.column_attrs} for o in found),
                                               key=lambda row: str(row.get("id")))
        await s.rollback()
    ranks = _ranks([r["cursor"] for r in receipts] + [row["cursor"] for row in rows["sync_records"]])
    for row in receipts + rows["sync_records"]:
        row["cursor"] = ranks[row["cursor"]]
    return receipts, rows


async def test_bulk_and_one_by_one_appliers_answer_and_store_the_same(client, admin: Admin, clock, settings) -> None:  # type: ignore[no-untyped-def]
    a = await admin.enrolled_phone("王阿姨")
    b = await admin.enrolled_phone("李阿姨")
    lost = await admin.enrolled_phone("张阿姨")
    outlet_id = await admin.outlet()
    outlet = await admin.outlet_phone(outlet_id)
    clock.offset += 1
    r = await client.post(f"/api/admin/passes/{lost.serial}/unbind", json={"reason": "手机丢失"}, headers=ADMIN)
    assert r.status_code in (200, 201), r.text
    revoked_at = clock.now()
    clock.offset += 60
    now = clock.now()
    batches = _batches(a, b, lost, outlet, outlet_id, now, revoked_at)
    db = Database(settings.database_url)
    try:
        async with db.transaction() as s:
            for device, _ in batches:
                await sync.register(s, device.pub, now=now)
        bulk_receipts, bulk_rows = await _run(db, batches, now, bulk=True)
        one_receipts, one_rows = await _run(db, batches, now, bulk=False)
    finally:
        await db.dispose()
    statuses = [r["status"] for r in bulk_receipts]
    assert {"applied", "rejected", "duplicate"} <= set(statuses), statuses
    assert any(r["duplicate_of"] for r in bulk_receipts)  # the trainee marked twice
    assert sum(1 for v in bulk_rows["visits"] if v["household_device"]) == 2  # confirmed both ways
    assert sum(1 for row in bulk_rows["reviews"] + bulk_rows["complaints"] if row["confirmed"]) == 4
    assert any(v["ended_at"] for v in bulk_rows["visits"])
    for mine, theirs in zip(bulk_receipts, one_receipts, strict=True):
        assert mine == theirs
    for table, rows in one_rows.items():
        assert bulk_rows[table] == rows, table
