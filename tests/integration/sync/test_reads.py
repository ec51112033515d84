"""Reads never wait for writes: while a push holds its transaction open, pull, the lists and verify still answer.

On SQLite every write transaction takes the write lock at BEGIN (IMMEDIATE). Were reads to take it too, each
read below would wait for the open push, which waits for the reads: "database is locked" after the busy
timeout. Reads run in a deferred (SQLite) or READ ONLY (PostgreSQL) transaction instead, and see the last commit.
"""

from __future__ import annotations

import sync
from server.db.engine import Database
from server.domain.records.services import make_appliers
from server.domain.verify.services import ListCache
from server.settings import Settings
from tests.integration.conftest import ADMIN, Admin
from tests.records import Device, uuid7


async def test_reads_answer_while_a_push_holds_the_write_lock(client, admin: Admin, clock, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    outlet = await admin.outlet("网点")
    staff = await admin.outlet_phone(outlet)  # registered and tied to the outlet online beforehand, as a phone is
    regulator, agency = await admin.as_regulator(), dict(ADMIN)  # signed in just now: no session touch is due
    household = Device()
    sid = uuid7()
    opened = staff.record("session", session_id=sid, outlet_id=outlet, course="家居保洁", day="2026-11-24")
    review = household.record("review", frame=phone.live(clock.now()), stars=5, comment="好")
    worker = phone.device  # a pass's reviews are pulled by its own phone
    for device in (household, worker):  # registered online beforehand, as a phone does: a pull itself writes nothing
        await device.register(client)
    db = Database(settings.database_url)
    try:
        async with db.transaction() as s:
            appliers = make_appliers(await ListCache().get(s), offline_lag_days=7)
        async with db.transaction() as writer:  # a push, not committed yet: it holds the write lock
            receipts, _ = await sync.push(writer, staff.id, [staff.envelope(opened)], appliers, now=clock.now())
            receipts += (await sync.push(writer, household.id, [household.envelope(review)], appliers, now=clock.now()))[0]
            assert [r.status for r in receipts] == ["applied", "applied"]

            mine = await staff.pull(client, outlet_id=outlet)
            theirs = await worker.pull(client, serial=phone.serial)
            assert mine.status_code == 200 and theirs.status_code == 200, (mine.text, theirs.text)
            # the push is not committed: nothing of it is seen yet
            assert (mine.json()["records"], mine.json()["sessions"], theirs.json()["reviews"]) == ([], [], [])
            for path in ("/api/trust", "/api/status", "/api/root", f"/api/passes/{phone.serial}/photo"):
                r = await client.get(path)
                assert r.status_code == 200, (path, r.text)
            # online verification reads; its record waits in the journal, written after the push commits
            r = await client.post("/api/verify", json={"qr": phone.live(clock.now())})
            assert r.status_code == 200 and r.json()["result"] == "valid", r.text
            code = f"{__import__('crypto').totp_code(phone.secret, clock.now() // 30):06d}"
            r = await client.post("/api/verify/code", json={"serial": phone.serial, "code": code})
            assert r.status_code == 200 and r.json()["result"] == "valid", r.text
            assert (await client.get("/api/auth/me", headers=regulator)).status_code == 200
            for path, headers in ((f"/api/admin/passes/{phone.serial}/reviews", agency), (f"/api/admin/passes/{phone.serial}", agency),
                                  ("/api/admin/outlets", regulator), ("/api/admin/agencies", regulator),
                                  ("/api/admin/complaints", regulator)):
                r = await client.get(path, headers=headers)
                assert r.status_code == 200, (path, r.text)
        mine = (await staff.pull(client, outlet_id=outlet)).json()
        theirs = (await worker.pull(client, serial=phone.serial)).json()
        assert [r["id"] for r in mine["records"]] == [opened["id"]]
        assert mine["sessions"] == [{"session_id": sid, "course": "家居保洁", "day": "2026-11-24"}]
        assert [(r["id"], r["stars"]) for r in theirs["reviews"]] == [(review["id"], 5)]
    finally:
        await db.dispose()
