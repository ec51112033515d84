"""Issue 10's five attacks, replayed against a real server process (uvicorn, as `make run` starts it).

Each used to work on `main` (a client on loopback with a device id of its own choosing); each is now refused with
a reason in zh-CN and English. The finer rules are tested in tests/integration/sync/test_proofs.py.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from tests.records import VERSIONS, Device, uuid7
from tests.served import Phone, Served

DAY = 86400


def _request(base: str, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, dict]:
    req = urllib.request.Request(base + path, data=body, method=method, headers={"content-type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def push(served: Served, device: Device, records: list[dict]) -> list[dict]:
    device.register(served.base)
    body, headers = device.push_request({"device_id": device.id, "records": records, **VERSIONS})
    status, answer = _request(served.base, "POST", "/api/sync/push", body, headers)
    assert status == 200, answer
    receipts = answer["receipts"]
    for r in receipts:
        if r["status"] == "rejected":
            assert r["reason"] and r["reason_en"], r
    return receipts  # type: ignore[no-any-return]


def pull(served: Served, device: Device, **params: object) -> tuple[int, dict]:
    device.register(served.base)
    target = "/api/sync/pull?" + urlencode({"device_id": device.id, **params})
    return _request(served.base, "GET", target, None, device.signed("GET", target))


def statuses(receipts: list[dict]) -> list[str]:
    return [r["status"] for r in receipts]


def review(device: Device, frame: str, at: int, **fields: object) -> dict:
    return {**device.record("review", frame=frame, **{"stars": 5, **fields}), "at": at}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    s = Served(tmp_path_factory.mktemp("attacks10"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def worker(served: Served) -> Phone:
    return served.phone("valid")


def test_1_her_own_phone_cannot_review_her_at_any_step(served: Served, worker: Phone) -> None:
    now = int(time.time())
    own = worker.device
    steps = [now - 400 * DAY, now - 30, now, now + 30 * DAY]  # years back, just now, now, a month ahead
    receipts = push(served, own, [review(own, worker.live(t), t) for t in steps])
    assert statuses(receipts) == ["rejected"] * 4, receipts
    assert "自己的手机" in receipts[2]["reason"] and "own phone" in receipts[2]["reason_en"]
    assert "晚于服务器时间" in receipts[3]["reason"]


def test_2_a_households_genuine_review_lands_after_pre_posted_ones(served: Served, worker: Phone) -> None:
    now = int(time.time())
    accomplice = Device()
    pre = [review(accomplice, worker.live(now - 30 * k), now - 30 * k, comment="刷的") for k in (0, 1)]
    push(served, accomplice, pre)  # whatever these get, they must not block the household's
    household = Device()
    assert statuses(push(served, household, [review(household, worker.live(now), now, stars=3)])) == ["applied"]


def test_3_ten_complaints_from_one_frame_and_phone_are_one(served: Served, worker: Phone) -> None:
    now, household = int(time.time()), Device()
    frame = worker.live(now)
    ten = [{**household.record("complaint", frame=frame, category="conduct", text=f"第 {k} 次"), "at": now} for k in range(10)]
    assert statuses(push(served, household, ten)) == ["applied"] + ["rejected"] * 9


def test_4_checkins_need_the_pass_phone_a_signed_code_and_never_rewrite(served: Served, worker: Phone) -> None:
    now, household, attacker = int(time.time()), Device(), Device()
    visit = uuid7()

    def checkin(device: Device, serial: int, **fields: object) -> dict:
        code = household.visit_code(visit, serial, now)
        return {**device.record("checkin", visit_id=visit, serial=serial, visit_code=code, service="cleaning"), "at": now, **fields}

    # Someone else's pass, from the attacker's phone, with a household of its choosing: refused.
    assert statuses(push(served, attacker, [checkin(attacker, worker.serial)])) == ["rejected"]
    # The worker's own check-in lands; a second device's (or her own second) check-in of the visit rewrites nothing.
    assert statuses(push(served, worker.device, [checkin(worker.device, worker.serial, place="3 号楼")])) == ["applied"]
    again = push(served, worker.device, [checkin(worker.device, worker.serial, service="repair", place="别处")])
    assert statuses(again) == ["rejected"] and again[0]["reason"] == "这次上门已经登记过"
    assert statuses(push(served, attacker, [checkin(attacker, worker.serial, place="别处")])) == ["rejected"]
    # A check-out for a pass that does not exist creates nothing.
    nowhere = attacker.record("checkout", visit_id=uuid7(), serial=987_654_321)
    assert statuses(push(served, attacker, [nowhere])) == ["rejected"]
    assert statuses(push(served, worker.device, [worker.device.record("checkout", visit_id=visit, serial=worker.serial)])) == ["applied"]


def test_5_outlets_and_other_phones_records_are_not_anyones(served: Served, worker: Phone) -> None:
    staff = served.staff("demo-o1-staff")
    outlet_id = _request(served.base, "GET", "/api/auth/me", None, staff)[1]["outlet_id"]
    stranger = Device()
    sid = uuid7()
    opened = stranger.record("session", session_id=sid, outlet_id=outlet_id, course="育婴", day="2026-11-24")
    r = push(served, stranger, [opened, stranger.record("attendance", session_id=sid, trainee_number="T-1")])
    assert statuses(r) == ["rejected", "rejected"], r
    status, body = pull(served, stranger, outlet_id=outlet_id)
    assert status == 403 and body["error"] == "outlet_not_bound"
    # Another phone's records by knowing its id: the signer decides, not the query.
    target = "/api/sync/pull?" + urlencode({"device_id": worker.device.id})
    status, body = _request(served.base, "GET", target, None, stranger.signed("GET", target))
    assert status == 403 and body["error"] == "device_mismatch"
    # The worker's phone cannot read who reviewed her: reviews come without any device, complaints not at all.
    household = Device()
    now = int(time.time())
    push(served, household, [review(household, worker.live(now), now, comment="好")])
    status, body = pull(served, worker.device, serial=worker.serial)
    assert status == 200 and body["reviews"], body
    assert all(household.id not in json.dumps(x) for x in body["reviews"])
    status, body = pull(served, household, serial=worker.serial)  # a household reading another pass's feed
    assert status == 403 and body["error"] == "not_your_pass"
