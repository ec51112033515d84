"""What each record needs (docs/sync.md): fresh frames, visits inserted once, a check-out's pass, attendance's session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from server.db.engine import Database
from server.db.models import Attendance, Visit
from server.domain.records.services import LOCAL
from tests.integration.conftest import Admin, checkin
from tests.records import Device, uuid7

DAY = 86400


async def push(client, device: Device, records: list[dict]) -> list[dict]:  # type: ignore[no-untyped-def]
    r = await device.push(client, records)
    assert r.status_code == 200, r.text
    assert len(r.json()["receipts"]) == len(records)
    return r.json()["receipts"]  # type: ignore[no-any-return]


async def stored(client, model, **where) -> list:  # type: ignore[no-untyped-def]
    db = Database(client.app.state.settings.database_url)
    try:
        async with db.transaction() as s:
            stmt = select(model).filter_by(**where)
            return list((await s.execute(stmt)).scalars().all())
    finally:
        await db.dispose()


def review(household: Device, frame: str, at: int) -> dict:
    return {**household.record("review", frame=frame, stars=5), "at": at}


async def test_frames_out_of_time_are_refused(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    household = Device()
    now = clock.now()
    years_back, ahead = now - 3 * 365 * DAY, now + 30 * DAY
    records = [
        review(household, phone.live(years_back), years_back),  # made then, received years later
        review(household, phone.live(years_back), now),  # made now with an old frame
        review(household, phone.live(ahead), ahead),  # a frame minted for a step a month ahead
        review(household, phone.live(now), now - 3600),  # recorded an hour away from the frame it carries
        {**household.record("complaint", frame=phone.live(ahead), category="conduct", text="提前做的投诉"), "at": ahead},
    ]
    receipts = await push(client, household, records)
    assert [r["status"] for r in receipts] == ["rejected"] * 5, receipts
    assert "超过 7 天" in receipts[0]["reason"] and "more than 7 days" in receipts[0]["reason_en"]
    assert "不符" in receipts[1]["reason"] and "does not match" in receipts[1]["reason_en"]
    assert "晚于服务器时间" in receipts[2]["reason"] and "later than the server" in receipts[2]["reason_en"]
    assert "不符" in receipts[3]["reason"]
    assert "晚于服务器时间" in receipts[4]["reason"]


async def test_a_frame_counts_for_a_bounded_offline_lag(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    household = Device()
    made = clock.now()
    day_late = review(household, phone.live(made), made)  # reviewed at the door, pushed the next morning
    week_late = review(household, phone.live(made + 60), made + 60)
    clock.offset += 20 * 3600
    assert [r["status"] for r in await push(client, household, [day_late])] == ["applied"]
    clock.offset += 7 * DAY
    late = await push(client, household, [week_late])
    assert late[0]["status"] == "rejected" and "超过 7 天" in late[0]["reason"], late


async def test_a_visit_is_inserted_never_rewritten(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    worker, household = phone.device, Device()
    visit, now = uuid7(), clock.now()
    first = checkin(phone, household, at=now, visit_id=visit, place="某小区 3 号楼")
    assert [r["status"] for r in await push(client, worker, [first])] == ["applied"]
    rewrite = checkin(phone, household, at=now, visit_id=visit, service="repair", place="别处")
    again = {**first, "id": uuid7(), "seq": first["seq"] + 10}  # the same content under a new record id
    receipts = await push(client, worker, [rewrite, again])
    for r in receipts:
        assert r["status"] == "rejected" and r["reason"] == "这次上门已经登记过" and r["reason_en"] == "This visit is already recorded"
    changed = await push(client, worker, [{**first, "place": "别处"}])  # the stored record id with other content
    assert changed[0]["status"] == "conflict", changed
    [v] = await stored(client, Visit, id=visit)
    assert (v.service, v.place, v.started_at, v.device_id) == ("cleaning", "某小区 3 号楼", now, worker.id)


async def test_a_checkout_needs_its_checkin_on_the_same_phone(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    worker, now = phone.device, clock.now()
    nowhere = worker.record("checkout", visit_id=uuid7(), serial=999_999_999)
    r = await push(client, worker, [nowhere])
    assert r[0]["status"] == "rejected" and "找不到" in r[0]["reason"] and r[0]["reason_en"]
    assert await stored(client, Visit, id=nowhere["visit_id"]) == []
    # A check-out that comes before its check-in is refused (one outbox sends in order, so this is no phone's
    # doing) and creates nothing; in order, the pair makes one whole visit; a second check-out is refused.
    visit = uuid7()
    out = {**worker.record("checkout", visit_id=visit, serial=phone.serial), "at": now}
    r = await push(client, worker, [out])
    assert r[0]["status"] == "rejected" and "签到" in r[0]["reason"] and "check-in" in r[0]["reason_en"]
    assert await stored(client, Visit, id=visit) == []
    cin = checkin(phone, Device(), at=now - 1800, code_at=now - 1900, visit_id=visit)
    out2 = {**worker.record("checkout", visit_id=visit, serial=phone.serial), "at": now}
    assert [r["status"] for r in await push(client, worker, [cin, out2])] == ["applied", "applied"]
    twice = {**worker.record("checkout", visit_id=visit, serial=phone.serial), "at": now + 60}
    stranger_out = {**Device().record("checkout", visit_id=visit, serial=phone.serial), "at": now + 60}
    r = await push(client, worker, [twice])
    assert r[0]["status"] == "rejected" and "已经签退" in r[0]["reason"]
    stranger = Device()
    r = await push(client, stranger, [stranger_out])
    assert r[0]["status"] == "rejected" and "绑定的服务员手机" in r[0]["reason"], r
    [v] = await stored(client, Visit, id=visit)
    assert (v.started_at, v.ended_at) == (cin["at"], now)


async def test_attendance_needs_its_session_and_its_day(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone("赵学员")
    oid = await admin.outlet()
    staff = await admin.outlet_phone(oid)
    today = datetime.fromtimestamp(clock.now(), LOCAL).date()
    sid, tomorrow_sid, refused_sid = uuid7(), uuid7(), uuid7()
    records = [
        staff.record("attendance", session_id=uuid7(), trainee_number="T-0001"),  # no such session
        staff.record("session", session_id=refused_sid, outlet_id=99_999, course="养老护理", day=today.isoformat()),  # no such outlet
        staff.record("attendance", session_id=refused_sid, trainee_number="T-0001"),  # its session was refused
        staff.record("session", session_id=sid, outlet_id=oid, course="养老护理", day=today.isoformat()),
        staff.record("session", session_id=tomorrow_sid, outlet_id=oid, course="家居保洁",
                     day=(today + timedelta(days=1)).isoformat()),
        staff.record("attendance", session_id=sid, frame=phone.live(clock.now())),
        # one frame must not mark the trainee in a session on another day
        staff.record("attendance", session_id=tomorrow_sid, frame=phone.live(clock.now())),
    ]
    receipts = await push(client, staff, records)
    assert [r["status"] for r in receipts] == ["rejected", "rejected", "rejected", "applied", "applied", "applied", "rejected"]
    assert "培训场次" in receipts[0]["reason"] and "session" in receipts[0]["reason_en"]
    assert "培训场次" in receipts[2]["reason"]
    assert "培训当天" in receipts[6]["reason"] and "day of the training" in receipts[6]["reason_en"]
    assert [a.trainee for a in await stored(client, Attendance)] == [f"pass:{phone.serial}"]


async def test_a_session_day_is_the_local_day_where_it_happens(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    """A training at 07:00 Beijing time is on that day, though it is still the day before in UTC."""
    import time

    phone = await admin.enrolled_phone("钱学员")
    oid = await admin.outlet()
    local_now = datetime.fromtimestamp(clock.now(), LOCAL)
    seven = int(local_now.replace(hour=7, minute=0, second=0, microsecond=0).timestamp())
    if seven <= clock.now():
        seven += DAY  # the next 07:00 local: after the pass and its issuer key were made
    clock.offset = seven - int(time.time())  # the server's clock, and the frame, at 07:00 local
    local_day = datetime.fromtimestamp(seven, LOCAL).date()
    assert local_day != datetime.fromtimestamp(seven, UTC).date()
    staff, sid = await admin.outlet_phone(oid), uuid7()
    records = [staff.record("session", session_id=sid, outlet_id=oid, course="早班培训", day=local_day.isoformat()),
               {**staff.record("attendance", session_id=sid, frame=phone.live(seven)), "at": seven}]
    receipts = await push(client, staff, records)
    assert [r["status"] for r in receipts] == ["applied", "applied"], receipts
