"""The sync protocol through the API: receipts, idempotency, conflicts, bad input, pull."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import msgspec

import crypto
from server.domain.records import visitcode
from server.domain.records.services import LOCAL
from tests.integration.conftest import ADMIN, Admin, checkin
from tests.records import Device, uuid7


async def push(client, device: Device, records: list) -> list[dict]:  # type: ignore[no-untyped-def]
    r = await device.push(client, records)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["receipts"]) == len(records)
    return body["receipts"]


async def outlet(admin: Admin) -> int:
    return await admin.outlet()


async def test_applied_then_duplicate_then_conflict(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    worker, household = phone.device, Device()  # a check-in is the pass's own phone's
    visit = uuid7()
    rec = checkin(phone, household, at=clock.now(), visit_id=visit, place="某小区 3 号楼")
    first = await push(client, worker, [rec])
    assert first[0]["status"] == "applied" and first[0]["cursor"]
    again = await push(client, worker, [rec])
    assert again[0]["status"] == "duplicate" and again[0]["original"] == "applied" and again[0]["cursor"] == first[0]["cursor"]
    changed = await push(client, worker, [{**rec, "place": "别处"}])
    assert changed[0]["status"] == "conflict" and changed[0]["reason"]
    out = {**worker.record("checkout", visit_id=visit, serial=phone.serial), "at": rec["at"] + 600}
    assert (await push(client, worker, [out]))[0]["status"] == "applied"


async def test_bad_records_are_rejected_and_the_rest_lands(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    worker, household = phone.device, Device()
    now = clock.now()
    good = checkin(phone, household, at=now, service="cooking")
    bad = [
        "not an object",
        {"kind": "checkin"},
        checkin(phone, household, at=now, service="flying"),
        {**worker.record("review", frame=phone.live(0), stars=9)},
        {**worker.record("teleport")},
        checkin(phone, household, at=now, serial=1),
        {**worker.record("review", frame="DP1:garbage", stars=5)},
    ]
    receipts = await push(client, worker, [bad[0], good, *bad[1:]])
    assert receipts[1]["status"] == "applied"
    for r in receipts[:1] + receipts[2:]:
        assert r["status"] == "rejected" and r["reason"] and r["reason_en"], r
    assert "找不到" in receipts[6]["reason"]
    assert "无法识别" in receipts[7]["reason"]


def widened(frame: str) -> str:
    """The same live frame with its step re-encoded as a uint64: another QR text, the same signed content."""
    p = crypto.parse_qr(frame)
    enc = msgspec.msgpack.encode
    raw = b"\x95" + enc(p.cred_bytes) + enc(p.issuer_sig) + b"\xcf" + p.step.to_bytes(8, "big") + enc(p.code) + enc(p.device_sig)
    text = "DP1:" + crypto.b45encode(raw)
    assert text != frame and crypto.parse_qr(text).step == p.step
    return text


async def test_one_review_per_verified_visit(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    household = Device()
    frame = phone.live(clock.now())
    r1 = household.record("review", frame=frame, stars=5, tags=["punctual", "clean"], comment="很好")
    r2 = household.record("review", frame=frame, stars=1)
    # The same shown code written another way (its step as a 64-bit MessagePack integer) is the same visit.
    r3 = household.record("review", frame=widened(frame), stars=1)
    card = household.record("review", frame=phone.card(), stars=5)
    no_frame = household.record("review", stars=5)
    receipts = await push(client, household, [r1, r2, r3, card, no_frame])
    assert [r["status"] for r in receipts] == ["applied", "rejected", "rejected", "rejected", "rejected"], receipts
    assert "已经评价过" in receipts[1]["reason"] and "已经评价过" in receipts[2]["reason"]
    assert "纸质证卡" in receipts[3]["reason"]
    # One review per (visit, household phone): another household's review of the same frame is its own review,
    # and the worker's own phone may not review her pass.
    neighbour = Device()
    theirs = neighbour.record("review", frame=widened(frame), stars=4, comment="还行")
    assert [r["status"] for r in await push(client, neighbour, [theirs])] == ["applied"]
    own = await push(client, phone.device, [phone.device.record("review", frame=frame, stars=5)])
    assert own[0]["status"] == "rejected" and "自己的手机" in own[0]["reason"], own
    listed = (await client.get(f"/api/admin/passes/{phone.serial}/reviews", headers=ADMIN)).json()
    assert sorted((v["stars"], v["comment"]) for v in listed) == [(4, "还行"), (5, "很好")]
    # the reviews of a pass are pulled by the pass's own phone only
    assert (await Device().pull(client, serial=phone.serial)).status_code == 403
    r = await phone.device.pull(client, serial=phone.serial)
    assert r.status_code == 200, r.text
    reviews = r.json()["reviews"]
    assert sorted((v["stars"], v["tags"], v["comment"]) for v in reviews) == [(4, [], "还行"), (5, ["punctual", "clean"], "很好")]


async def test_complaint_needs_a_verified_visit(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    household = Device()
    ok = household.record("complaint", frame=phone.live(clock.now()), category="conduct", text="服务态度差")
    forged = household.record("complaint", frame=phone.live(clock.now())[:-3] + "AAA", category="conduct", text="x")
    receipts = await push(client, household, [ok, forged])
    assert [r["status"] for r in receipts] == ["applied", "rejected"]
    view = (await client.get(f"/api/admin/passes/{phone.serial}", headers=ADMIN)).json()
    listed = (await client.get("/api/admin/complaints", params={"agency_id": view["agency_id"]}, headers=ADMIN)).json()
    assert [(c["serial"], c["category"], c["text"]) for c in listed] == [(phone.serial, "conduct", "服务态度差")]
    assert (await client.get("/api/admin/complaints")).status_code == 401


async def test_attendance_once_per_trainee_and_csv(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone("赵学员")
    oid = await outlet(admin)
    staff = await admin.outlet_phone(oid)  # session and attendance records come from a phone tied to the outlet
    sid = uuid7()
    today = datetime.fromtimestamp(clock.now(), LOCAL).date().isoformat()  # a scanned pass counts on the session's day
    session = staff.record("session", session_id=sid, outlet_id=oid, course="养老护理", day=today)
    a1 = staff.record("attendance", session_id=sid, frame=phone.live(clock.now()))
    a2 = staff.record("attendance", session_id=sid, frame=phone.live(clock.now() + 30))  # the same trainee again
    a3 = staff.record("attendance", session_id=sid, trainee_number="T-0042")
    a4 = staff.record("attendance", session_id=sid, trainee_number="T-0042")
    neither = staff.record("attendance", session_id=sid)
    receipts = await push(client, staff, [session, a1, a2, a3, a4, neither])
    assert [r["status"] for r in receipts] == ["applied"] * 5 + ["rejected"]
    assert receipts[2]["duplicate_of"] == a1["id"] and receipts[4]["duplicate_of"] == a3["id"]
    r = await client.get(f"/api/admin/training/sessions/{sid}/attendance.csv", headers=await admin.staff("outlet_staff", outlet_id=oid))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    # one column each: trainee number (typed), pass number and name (scanned)
    assert rows[0][2:5] == ["学员编号 trainee number", "证号 pass", "姓名 name"], rows[0]
    assert [row[2:5] for row in rows[1:]] == [["", str(phone.serial), "赵学员"], ["T-0042", "", ""]]
    assert rows[1][0] == "养老护理" and rows[1][1] == today
    pulled = (await staff.pull(client, outlet_id=oid)).json()
    assert pulled["sessions"] == [{"session_id": sid, "course": "养老护理", "day": today}]
    # an outlet's sessions are pulled only by a phone tied to it
    untied = await Device().pull(client, outlet_id=oid)
    assert untied.status_code == 403 and untied.json()["error"] == "outlet_not_bound", untied.text


async def test_checkout_before_its_checkin_is_rejected(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    """Protocol 2: a check-out needs its check-in (one outbox sends in order). Sent first it is refused; sent after
    its check-in, the visit is whole."""
    phone = await admin.enrolled_phone()
    worker, household = phone.device, Device()
    visit = uuid7()
    cin = checkin(phone, household, at=clock.now(), visit_id=visit, service="elderly")
    early = {**worker.record("checkout", visit_id=visit, serial=phone.serial), "at": cin["at"] + 3600}
    first = await push(client, worker, [early])
    assert first[0]["status"] == "rejected" and "须先送达签到" in first[0]["reason"] and first[0]["reason_en"], first
    assert [r["status"] for r in await push(client, worker, [cin])] == ["applied"]
    # the refused check-out stays refused (a replay is its duplicate); the phone's check-out made after it lands
    assert [(r["status"], r["original"]) for r in await push(client, worker, [early])] == [("duplicate", "rejected")]
    cout = {**worker.record("checkout", visit_id=visit, serial=phone.serial), "at": cin["at"] + 3600}
    assert [r["status"] for r in await push(client, worker, [cout])] == ["applied"]
    from sqlalchemy import select

    from server.db.engine import Database
    from server.db.models import Visit

    db = Database(client.app.state.settings.database_url)
    try:
        async with db.transaction() as s:
            visits = (await s.execute(select(Visit))).scalars().all()
    finally:
        await db.dispose()
    assert len(visits) == 1
    v = visits[0]
    code = visitcode.parse(cin["visit_code"])
    assert code is not None
    assert (v.id, v.serial, v.service, v.device_id, v.household_pseudonym, v.code_at, v.ended_at - v.started_at) == (
        visit, phone.serial, "elderly", worker.id, code.pseudonym, code.at, 3600)
    assert v.household_device is None  # the visit names no household device until that household's review confirms it


async def test_pull_pages_own_records_with_receipts(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    worker, household = phone.device, Device()
    recs = [checkin(phone, household, at=clock.now()) for _ in range(7)]
    recs.append(checkin(phone, household, at=clock.now(), serial=1))
    await push(client, worker, recs)
    seen, cursor, more = [], 0, True
    while more:
        page = (await worker.pull(client, cursor=cursor, limit=3)).json()
        assert page["cursor"] >= cursor and page["trust"]["payload"] and page["status"]["payload"]
        seen += page["records"]
        cursor, more = page["cursor"], page["more"]
    assert [r["id"] for r in seen] == [r["id"] for r in recs]
    assert [r["status"] for r in seen] == ["applied"] * 7 + ["rejected"]
    assert [r["seq"] for r in seen] == list(range(1, 9))
    bad = await client.get("/api/sync/pull", params={"device_id": "x"})
    assert bad.status_code == 400 and bad.json()["message"]
