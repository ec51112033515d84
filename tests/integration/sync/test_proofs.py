"""Issue 10's attacks, each refused: every record proved by the device that made it (docs/devices.md)."""

from __future__ import annotations

import json

from sqlalchemy import select, update

import crypto
import sync
from server.db.engine import Database
from server.db.models import Account, Complaint, Review, TrainingSession, Visit
from sync.models import SyncRecord
from tests.integration.conftest import ADMIN, Admin, checkin
from tests.records import Device, uuid7


async def push(client, device: Device, records: list[dict], **kw: object) -> list[dict]:  # type: ignore[no-untyped-def]
    r = await device.push(client, records, **kw)
    assert r.status_code == 200, r.text
    assert len(r.json()["receipts"]) == len(records)
    return r.json()["receipts"]  # type: ignore[no-any-return]


async def rows(client, stmt) -> list:  # type: ignore[no-untyped-def]
    db = Database(client.app.state.settings.database_url)
    try:
        async with db.transaction() as s:
            return list((await s.execute(stmt)).scalars().all())
    finally:
        await db.dispose()


def review(device: Device, frame: str, at: int, **fields: object) -> dict:
    return {**device.record("review", frame=frame, **{"stars": 5, **fields}), "at": at}


def complaint(device: Device, frame: str, at: int, **fields: object) -> dict:
    return {**device.record("complaint", frame=frame, category="conduct", **{"text": "态度不好", **fields}), "at": at}


async def test_1_a_worker_cannot_review_or_complain_about_her_own_pass(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    now = clock.now()
    own = [review(phone.device, phone.live(now + 30 * k), now + 30 * k, comment="好评") for k in range(3)]
    own.append(complaint(phone.device, phone.live(now), now))
    clock.offset += 90  # the last frame's step has come
    receipts = await push(client, phone.device, own)
    assert [r["status"] for r in receipts] == ["rejected"] * 4, receipts
    assert all("自己的手机" in r["reason"] and "own phone" in r["reason_en"] for r in receipts)
    assert await rows(client, select(Review)) == [] and await rows(client, select(Complaint)) == []


async def test_2_pre_posted_reviews_do_not_block_the_households(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    now = clock.now()
    frame = phone.live(now)
    # The worker's accomplice (a second phone) reviews the very frame the household will scan, and the steps around it.
    accomplice = Device()
    pre = [review(accomplice, phone.live(now + 30 * k), now + 30 * k, comment="自己刷的") for k in (0, 1)]
    clock.offset += 30
    assert [r["status"] for r in await push(client, accomplice, pre)] == ["applied", "applied"]
    household = Device()
    genuine = review(household, frame, now, comment="真实评价", stars=2)
    assert [r["status"] for r in await push(client, household, [genuine])] == ["applied"]
    [stored] = await rows(client, select(Review).where(Review.id == genuine["id"]))
    assert (stored.device_id, stored.stars, stored.comment) == (household.id, 2, "真实评价")


async def test_3_one_review_and_one_complaint_per_visit_and_device(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    now = clock.now()
    frame, household = phone.live(now), Device()
    ten = [complaint(household, frame, now, text=f"第 {k} 条") for k in range(10)]
    receipts = await push(client, household, ten)
    assert [r["status"] for r in receipts] == ["applied"] + ["rejected"] * 9, receipts
    assert all("已经投诉过" in r["reason"] and "already complained" in r["reason_en"] for r in receipts[1:])
    # One visit (its visit id) scanned twice: still one review from this phone.
    visit = uuid7()
    twice = [review(household, phone.live(now), now, visit_id=visit), review(household, phone.live(now + 30), now + 30, visit_id=visit)]
    assert [r["status"] for r in await push(client, household, twice)] == ["applied", "rejected"]
    assert len(await rows(client, select(Complaint))) == 1 and len(await rows(client, select(Review))) == 1


async def test_4_checkins_need_the_pass_phone_and_the_households_signed_code(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone, other = await admin.enrolled_phone(), await admin.enrolled_phone("李阿姨")
    household, now = Device(), clock.now()
    # Someone else's pass, with a household of the attacker's choosing: refused.
    stolen = checkin(phone, household, at=now)
    r = await push(client, other.device, [stolen])
    assert r[0]["status"] == "rejected" and "绑定的服务员手机" in r[0]["reason"], r
    visit = uuid7()
    code_of_other_visit = household.visit_code(uuid7(), phone.serial, now)
    code_of_other_pass = household.visit_code(visit, other.serial, now)
    cases = {
        "garbage": {**checkin(phone, household, at=now, visit_id=visit), "visit_code": "DPV1:" + visit + ".household-0001.1"},
        "other visit": {**checkin(phone, household, at=now, visit_id=visit), "visit_code": code_of_other_visit},
        "other pass": {**checkin(phone, household, at=now, visit_id=visit), "visit_code": code_of_other_pass},
        "two hours late": checkin(phone, household, at=now, code_at=now - 7200, visit_id=visit),
        "code from the future": checkin(phone, household, at=now + 3600, code_at=now + 3600, visit_id=visit),
    }
    receipts = await push(client, phone.device, list(cases.values()))
    assert [r["status"] for r in receipts] == ["rejected"] * len(cases), receipts
    assert all(r["reason"] and r["reason_en"] for r in receipts)
    assert await rows(client, select(Visit)) == []
    good = checkin(phone, household, at=now + 60, code_at=now, visit_id=visit)
    assert [r["status"] for r in await push(client, phone.device, [good])] == ["applied"]
    [v] = await rows(client, select(Visit))
    assert (v.device_id, v.household_device, len(v.household_pseudonym)) == (phone.device.id, None, 22)
    assert household.id not in good["visit_code"]  # the worker never learns the household's device


async def test_a_visit_is_confirmed_by_the_household_that_showed_the_code(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    now = clock.now()
    # Check-in first, the household's review later: confirmed by its signature over the visit code.
    household, visit = Device(), uuid7()
    assert [r["status"] for r in await push(client, phone.device, [checkin(phone, household, at=now, visit_id=visit)])] == ["applied"]
    assert [r["status"] for r in await push(client, household, [review(household, phone.live(now), now, visit_id=visit)])] == ["applied"]
    # Review first, the check-in later: confirmed when the check-in arrives.
    late_household, late_visit = Device(), uuid7()
    early = review(late_household, phone.live(now + 30), now + 30, visit_id=late_visit)
    assert [r["status"] for r in await push(client, late_household, [early])] == ["applied"]
    cin = checkin(phone, late_household, at=now + 60, code_at=now + 30, visit_id=late_visit)
    assert [r["status"] for r in await push(client, phone.device, [cin])] == ["applied"]
    # A third phone naming a visit whose code it did not sign: refused.
    squatter = Device()
    r = await push(client, squatter, [review(squatter, phone.live(now), now, visit_id=visit)])
    assert r[0]["status"] == "rejected" and "不是这台手机出示的" in r[0]["reason"], r
    confirmed = {rv.device_id: rv.confirmed for rv in await rows(client, select(Review))}
    assert confirmed == {household.id: True, late_household.id: True}
    visits = {v.id: v.household_device for v in await rows(client, select(Visit))}
    assert visits == {visit: household.id, late_visit: late_household.id}


async def test_5_outlet_records_need_a_phone_tied_to_that_outlet(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    o, p = await admin.outlet("甲网点"), await admin.outlet("乙网点")
    stranger, theirs = Device(), await admin.outlet_phone(p)
    day = "2026-11-24"
    for device in (stranger, theirs):
        sid = uuid7()
        r = await push(client, device, [device.record("session", session_id=sid, outlet_id=o, course="育婴", day=day)])
        assert r[0]["status"] == "rejected" and "服务网点的工作人员账号" in r[0]["reason"] and r[0]["reason_en"], r
    assert await rows(client, select(TrainingSession)) == []
    ours = await admin.outlet_phone(o)
    sid = uuid7()
    opened = ours.record("session", session_id=sid, outlet_id=o, course="育婴", day=day)
    assert [r["status"] for r in await push(client, ours, [opened])] == ["applied"]
    # Attendance in O's session from a phone of P, or of no outlet: refused.
    for device in (stranger, theirs):
        r = await push(client, device, [device.record("attendance", session_id=sid, trainee_number="T-9")])
        assert r[0]["status"] == "rejected" and "服务网点的工作人员账号" in r[0]["reason"], r
    # Reading O's sessions: only a phone tied to O.
    for device in (stranger, theirs):
        r = await device.pull(client, outlet_id=o)
        assert r.status_code == 403 and r.json()["error"] == "outlet_not_bound", r.text
    got = await ours.pull(client, outlet_id=o)
    assert got.status_code == 200 and [x["session_id"] for x in got.json()["sessions"]] == [sid]
    # Untied (sign-out), or its account disabled: its records no longer count.
    body = json.dumps({"device_id": ours.id}).encode()
    path = "/api/sync/devices/outlet/unbind"
    r = await client.post(path, content=body, headers={"content-type": "application/json", **ours.signed("POST", path, body, at=clock.now())})
    assert r.status_code == 200 and r.json()["untied"] is True, r.text
    r = await push(client, ours, [ours.record("attendance", session_id=sid, trainee_number="T-1")])
    assert r[0]["status"] == "rejected"
    again = await admin.outlet_phone(o, ours)
    db = Database(client.app.state.settings.database_url)
    try:
        async with db.transaction() as s:
            await s.execute(update(Account).where(Account.outlet_id == o).values(disabled=True))
    finally:
        await db.dispose()
    r = await push(client, again, [again.record("attendance", session_id=sid, trainee_number="T-2")])
    assert r[0]["status"] == "rejected"


async def test_only_the_pass_phone_reads_its_reviews(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    household = Device()
    assert [r["status"] for r in await push(client, household, [review(household, phone.live(clock.now()), clock.now())])] == ["applied"]
    r = await household.pull(client, serial=phone.serial)
    assert r.status_code == 403 and r.json()["error"] == "not_your_pass", r.text
    mine = await phone.device.pull(client, serial=phone.serial)
    assert mine.status_code == 200 and [x["stars"] for x in mine.json()["reviews"]] == [5]


async def test_records_must_carry_the_pushing_phones_signature(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    household, forger = Device(), Device()
    now = clock.now()
    rec = review(household, phone.live(now), now)
    envelope = household.envelope(rec)
    tampered = {"body": envelope["body"].replace('"stars": 5', '"stars": 1'), "sig": envelope["sig"]}
    assert tampered["body"] != envelope["body"]
    bare = review(household, phone.live(now), now)
    # The forger relays the household's signed record in its own signed request: not its signature, refused.
    relayed = await push(client, forger, [envelope], sign=False)
    assert relayed[0]["status"] == "rejected" and relayed[0]["cursor"] is None and "签名" in relayed[0]["reason"], relayed
    receipts = await push(client, household, [tampered, bare], sign=False)
    assert [(r["status"], r["cursor"]) for r in receipts] == [("rejected", None), ("rejected", None)], receipts
    assert await rows(client, select(SyncRecord)) == []  # stored nowhere: the ids stay free
    assert [r["status"] for r in await push(client, household, [rec])] == ["applied"]
    [stored] = await rows(client, select(SyncRecord))
    assert (stored.device_id, stored.body, crypto.b64u_encode(stored.sig)) == (household.id, envelope["body"], envelope["sig"])


async def test_the_regulator_checks_a_records_proof(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    household = Device()
    rec = review(household, phone.live(clock.now()), clock.now())
    assert [r["status"] for r in await push(client, household, [rec])] == ["applied"]
    r = await client.get(f"/api/admin/records/{rec['id']}/proof", headers=await admin.as_regulator())
    assert r.status_code == 200, r.text
    proof = r.json()
    assert (proof["device_id"], proof["kind"], proof["valid"]) == (household.id, "review", True)
    # Anyone can repeat the check from what the proof gives.
    pub, sig = crypto.b64u_decode(proof["device_pub"]), crypto.b64u_decode(proof["sig"])
    assert sync.device_id_of(pub) == proof["device_id"]
    assert crypto.verify_sig(pub, sig, sync.RECORD_DOMAIN + proof["body"].encode())
    assert json.loads(proof["body"]) == rec
    # A body changed in the database no longer verifies.
    db = Database(client.app.state.settings.database_url)
    try:
        async with db.transaction() as s:
            await s.execute(update(SyncRecord).where(SyncRecord.id == rec["id"]).values(body=proof["body"].replace('"stars": 5', '"stars": 1')))
    finally:
        await db.dispose()
    r = await client.get(f"/api/admin/records/{rec['id']}/proof", headers=await admin.as_regulator())
    assert r.json()["valid"] is False
    missing = await client.get(f"/api/admin/records/{uuid7()}/proof", headers=await admin.as_regulator())
    assert missing.status_code == 404 and missing.json()["message"]


async def test_a_lost_phone_checks_in_no_more_after_its_unbinding(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    household, now = Device(), clock.now()
    before = checkin(phone, household, at=now - 600)  # made offline before the phone was lost: still counts
    clock.offset += 1
    r = await client.post(f"/api/admin/passes/{phone.serial}/unbind", json={"reason": "手机丢失"}, headers=ADMIN)
    assert r.status_code in (200, 201), r.text
    clock.offset += 1
    after = checkin(phone, household, at=clock.now())
    receipts = await push(client, phone.device, [before, after])
    assert [x["status"] for x in receipts] == ["applied", "rejected"], receipts
    assert "吊销" in receipts[1]["reason"] and "revoked" in receipts[1]["reason_en"]


async def test_the_pass_phone_learns_why_its_code_is_not_green(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    r = await client.post(f"/api/admin/passes/{phone.serial}/status", headers=ADMIN,
                          json={"status": "red", "reason": "投诉调查中", "reason_en": "Complaint under investigation"})
    assert r.status_code in (200, 201), r.text
    mine = (await phone.device.pull(client, serial=phone.serial)).json()
    assert {k: mine["pass_status"][k] for k in ("state", "colour", "reason", "reason_en")} == {
        "state": "active", "colour": "red", "reason": "投诉调查中", "reason_en": "Complaint under investigation"}
    assert (await Device().pull(client)).json()["pass_status"] is None  # a pull without its pass says nothing of any pass
