"""Fault injection against real server processes: nothing lost, nothing doubled.

10,000 random records reach the server through a proxy that drops a fifth of
the responses after the commit, in shuffled batches with replays, while the
server is killed once mid-batch and restarted; on PostgreSQL the same batches
also go to two server processes at once, and two "tabs" send concurrently.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import PG
from tests.dbquery import rows
from tests.records import Device, uuid7
from tests.served import ROOT, Phone, Served, free_port, wait_healthy
from tests.sync_client import DroppingProxy, Outbox, body_hash

KINDS = ["checkin", "checkin", "checkout", "attendance", "attendance", "review", "session", "complaint"]
OUTLET_STAFF = "demo-o1-staff"
"""The seeded outlet staff account that ties the phone to its outlet."""

# Why a record of each kind may end up refused (besides the malformed ones) when batches are shuffled and replayed.
REFUSED = {
    "review": "already reviewed",  # the one frame: the phone's first review of it lands, the others are refused
    "complaint": "already complained about",  # likewise: one complaint per visit and phone (protocol 2)
    "attendance": "No such training session",  # sent before its session
    "checkout": "No check-in for this visit",  # sent before its check-in
}


def tie_to_outlet(served: Served, base: str, device: Device) -> int:
    """Tie `device` to the outlet of the seeded outlet staff account, signed in on it (docs/devices.md): its outlet id."""
    body = json.dumps({"device_id": device.id}).encode()
    headers = {"content-type": "application/json", **served.staff(OUTLET_STAFF),
               **device.signed("POST", "/api/sync/devices/outlet", body)}
    r = httpx.post(f"{base}/api/sync/devices/outlet", content=body, headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["outlet_id"]


def worker_phones(served: Served, base: str) -> tuple[Phone, Phone, int]:
    """Two enrolled workers' phones of one seed run: the first one's phone makes the records (registered, and tied to
    the seeded outlet so it may record training too), the second one's pass is the one it reviews."""
    phone, other = (served.phone(code=c) for c in served.codes("valid", 2))
    phone.device.register(base)
    return phone, other, tie_to_outlet(served, base, phone.device)


def make_records(phone: Phone, reviewed: Phone, outlet_id: int, n: int, rng: random.Random) -> list[dict]:
    """n random records of every kind, all made on `phone` (the pass's own phone, tied to the outlet), a few of them
    bad on purpose (they must come back rejected, not vanish).

    Check-ins carry a household's signed visit code; each visit is checked out at most once, after its check-in
    (shuffled batches may still send the check-out first). Reviews and complaints carry one fresh frame of
    `reviewed`'s pass (made when it was shown): the phone's first review and first complaint of it land, the others
    are refused as already reviewed / complained about. Attendance follows its session; shuffled batches may still
    send it first.
    """
    device, household = phone.device, Device()
    out: list[dict] = []
    visits: list[str] = []
    sessions: list[str] = []
    base = int(time.time())
    frame = reviewed.live(base)
    for i in range(n):
        kind = rng.choice(KINDS)
        if kind == "checkin" or (kind == "checkout" and not visits):
            v = uuid7()
            visits.append(v)
            rec = device.record("checkin", visit_id=v, serial=phone.serial, visit_code="",
                                service=rng.choice(["cleaning", "cooking", "elderly"]), place=f"楼 {i}")
            rec["visit_code"] = household.visit_code(v, phone.serial, rec["at"])  # scanned just now
            out.append(rec)
        elif kind == "checkout":
            out.append(device.record("checkout", visit_id=visits.pop(rng.randrange(len(visits))), serial=phone.serial))
        elif kind == "session" or (kind == "attendance" and not sessions):
            sessions.append(uuid7())
            out.append(device.record("session", session_id=sessions[-1], outlet_id=outlet_id, course="家居保洁", day="2026-11-24"))
        elif kind == "attendance":
            out.append(device.record("attendance", session_id=rng.choice(sessions), trainee_number=f"T-{rng.randrange(400)}"))
        elif kind == "review":
            out.append({**device.record("review", frame=frame, stars=rng.randint(1, 5), comment="好" * rng.randrange(5)), "at": base})
        else:
            out.append({**device.record("complaint", frame=frame, category="other", text="测试投诉"), "at": base})
        if rng.random() < 0.01:  # a malformed record
            out[-1]["stars" if out[-1]["kind"] == "review" else "at"] = -1
    return out


def server_set(database_url: str, device_id: str) -> dict[str, str]:
    """What the server stores for this device: {record id: content hash}."""
    return dict(rows(database_url, "SELECT id, body_hash FROM sync_records WHERE device_id = ?", device_id))


def check_exactly_once(database_url: str, box: Outbox) -> None:
    held = server_set(database_url, box.device_id)
    want = {i: body_hash(r) for i, r in box.records.items()}
    assert len(held) == len(want), f"server holds {len(held)} records, the device made {len(want)}"
    assert held == want  # same ids, same content: none lost, none doubled, none altered
    states = set(box.state.values())
    assert states <= {"delivered", "attention"}, states
    for rid, receipts in box.receipts.items():
        firsts = [r for r in receipts if r["status"] in ("applied", "rejected")]
        assert len(firsts) <= 1, (rid, receipts)  # the server applied it at most once, whatever was replayed


def test_ten_thousand_records_through_dropped_responses_and_a_kill(database_url: str, tmp_path: Path) -> None:
    rng = random.Random(2026)
    served = Served(tmp_path, database_url)
    try:
        phone, reviewed, outlet_id = worker_phones(served, served.base)
        box = Outbox(phone.device, make_records(phone, reviewed, outlet_id, 10_000, rng))
        proxy = DroppingProxy(int(served.base.rsplit(":", 1)[1]), drop=0.2)
        via = f"http://127.0.0.1:{proxy.port}"
        # a first stretch, then the server is killed in the middle of a big batch
        for _ in range(15):
            box.send(via, box.pending()[:100])
        big = box.pending()[:400]
        t = threading.Thread(target=box.send, args=(served.base, big))
        t.start()
        time.sleep(0.05)
        served.proc.send_signal(signal.SIGKILL)
        t.join()
        served.proc.wait()
        served.start()
        box.sync([via], batch=100, rng=rng, replay=0.1, shuffle=True, rounds=800)
        proxy.close()
        assert proxy.dropped > 0 and box.errors > 0
        check_exactly_once(database_url, box)
        attention = [i for i, s in box.state.items() if s == "attention"]
        bad = {i for i, r in box.records.items() if -1 in (r["at"], r.get("stars"))}
        assert bad and bad <= set(attention)  # the bad ones, each with a reason
        # besides them only reviews and complaints of the one frame already reviewed / complained about (one each lands),
        # attendance shuffled before its session and check-outs shuffled before their check-in (protocol 2 refuses
        # a check-out with no check-in)
        assert {box.records[i]["kind"] for i in set(attention) - bad} <= set(REFUSED)
        for kind in ("review", "complaint"):
            assert sum(box.records[i]["kind"] == kind for i, st in box.state.items() if st == "delivered") == 1, kind
        for i in attention:
            last = box.receipts[i][-1]
            assert last["reason"] and last["reason_en"]
            if i not in bad:
                assert REFUSED[box.records[i]["kind"]] in last["reason_en"], (box.records[i], last)
    finally:
        served.stop()


@pytest.mark.skipif(not PG, reason="needs PostgreSQL on 127.0.0.1:5432")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_same_batches_to_two_processes_and_two_tabs(database_url: str, tmp_path: Path) -> None:
    rng = random.Random(7)
    a = Served(tmp_path / "a", database_url)
    try:
        # the second process shares the first one's database and master key
        env_b = {**a.env, "DOORPASS_PORT": str(free_port()),
                 "DOORPASS_MASTER_KEY": (tmp_path / "a" / "var" / "master.key").read_text().strip()}
        b_log = open(tmp_path / "b.log", "w")  # noqa: SIM115  # open while process b runs, closed at its end
        b_proc = subprocess.Popen([sys.executable, "-m", "server", "serve"], env=env_b, cwd=ROOT, stdout=b_log, stderr=subprocess.STDOUT)
        b_base = f"http://127.0.0.1:{env_b['DOORPASS_PORT']}"
        assert wait_healthy(b_base)
        phone, reviewed, outlet_id = worker_phones(a, a.base)
        box = Outbox(phone.device, make_records(phone, reviewed, outlet_id, 2_000, rng))
        # the same batch to both processes at the same moment
        for start in range(0, 1000, 100):
            batch = list(box.records.values())[start:start + 100]
            ts = [threading.Thread(target=box.send, args=(base, batch)) for base in (a.base, b_base)]
            [t.start() for t in ts]
            [t.join() for t in ts]
        # two tabs of one phone sending the rest concurrently, to either process
        tabs = [threading.Thread(target=box.sync, args=([a.base, b_base],), kwargs={"batch": 50, "rng": random.Random(s), "shuffle": True})
                for s in (1, 2)]
        [t.start() for t in tabs]
        [t.join() for t in tabs]
        check_exactly_once(database_url, box)
        both = [r for r in box.receipts.values() if len(r) >= 2]
        assert both and all({x["status"] for x in r} <= {"applied", "duplicate", "rejected"} for r in both)
        b_proc.terminate()
        b_proc.wait(timeout=10)
        b_log.close()
    finally:
        a.stop()
