"""Push throughput at 1, 2 and 4 server processes on one PostgreSQL (`serve --workers N`), several outlet phones
pushing at once over HTTP: does push grow with processes now that pushes no longer serialize on one lock?

Each phone is tied to the demo outlet by its staff account and sends batches of 100 records (a training session and
nine attendance marks by trainee number, repeated), each batch a signed `POST /api/sync/push`, one after another;
the phones push side by side from threads. The figure is records applied per second of wall time, all phones
together. Baseline: the same load on one process (the ratio says how it grows).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.sync_push import _pg_answers, _pg_db, _pg_drop
from tests.records import VERSIONS, Device, uuid7
from tests.served import Served

PROCESSES = (1, 2, 4)
PHONES = 8
BATCHES = 6
BATCH = 100
OUTLET_STAFF = "demo-o1-staff"


def _tie(served: Served, staff: dict[str, str], device: Device, client: httpx.Client) -> int:
    """Register `device` and tie it to the outlet of the demo outlet staff account (docs/devices.md)."""
    device.register(served.base)
    body = json.dumps({"device_id": device.id}).encode()
    headers = {"content-type": "application/json", **staff, **device.signed("POST", "/api/sync/devices/outlet", body)}
    r = client.post("/api/sync/devices/outlet", content=body, headers=headers)
    assert r.status_code == 200, r.text
    return int(r.json()["outlet_id"])


def _batches(device: Device, outlet_id: int, day: str) -> list[list[dict]]:
    out = []
    for _ in range(BATCHES):
        records: list[dict] = []
        while len(records) < BATCH:
            sid = uuid7()
            records.append(device.record("session", session_id=sid, outlet_id=outlet_id, course="家居保洁", day=day))
            records += [device.record("attendance", session_id=sid, trainee_number=f"T-{i}") for i in range(9)]
        out.append(records)
    return out


def _one(processes: int, url: str, tmp: Path) -> dict:
    served = Served(tmp, url, workers=processes)
    try:
        with httpx.Client(base_url=served.base, timeout=60) as client:
            staff = served.staff(OUTLET_STAFF)
            phones = [Device() for _ in range(PHONES)]
            outlet_id = [_tie(served, staff, d, client) for d in phones][0]
        day = time.strftime("%Y-%m-%d")
        # Envelopes are signed on the phone when a record is made: before the clock starts. The request signature
        # covers the time, so each push request is signed just before it is sent.
        work = [(d, [{"device_id": d.id, "records": [d.envelope(r) for r in b], **VERSIONS} for b in _batches(d, outlet_id, day)])
                for d in phones]
        applied = [0] * PHONES
        errors: list[str] = []

        def phone(i: int) -> None:
            device, bodies = work[i]
            with httpx.Client(base_url=served.base, timeout=120) as c:
                for body in bodies:
                    data = json.dumps(body, ensure_ascii=False).encode()
                    headers = {"content-type": "application/json", **device.signed("POST", "/api/sync/push", data)}
                    r = c.post("/api/sync/push", content=data, headers=headers)
                    if r.status_code != 200:
                        errors.append(f"{r.status_code} {r.text[:200]}")
                        return
                    applied[i] += sum(1 for rc in r.json()["receipts"] if rc["status"] == "applied")

        threads = [threading.Thread(target=phone, args=(i,)) for i in range(PHONES)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - t0
        if errors:
            raise RuntimeError(f"{len(errors)} pushes failed at {processes} processes: {errors[0]}")
        assert sum(applied) == PHONES * BATCHES * BATCH, applied
        return {"records": sum(applied), "seconds": round(seconds, 2), "records_per_s": round(sum(applied) / seconds)}
    finally:
        served.stop()


def run() -> dict:
    if not _pg_answers():
        msg = "skipped: push at several processes needs PostgreSQL on 127.0.0.1:5432 (SQLite has one writer)"
        print(msg)
        return {"status": msg}
    out: dict[int, dict] = {}
    for n in PROCESSES:
        name, url = asyncio.run(_pg_db())
        try:
            with tempfile.TemporaryDirectory() as d:
                out[n] = _one(n, url, Path(d))
        finally:
            asyncio.run(_pg_drop(name))
    one = out[1]["records_per_s"]
    goals = [
        {"name": f"push at {n} server processes (PostgreSQL, {PHONES} phones)", "value": out[n]["records_per_s"], "unit": "rec/s",
         "baseline": "the same load on 1 process", "baseline_value": one, "ratio": round(out[n]["records_per_s"] / one, 2),
         "goal": "grows with processes (no single push lock)", "met": None}
        for n in PROCESSES
    ]
    return {
        "processes": {str(n): r for n, r in out.items()},
        "goals": goals,
        "plots": [{"file": "push_processes.png", "title": f"Sync push, {PHONES} phones, batches of {BATCH} (PostgreSQL)",
                   "x": "server processes", "y": "records/s",
                   "series": {"push": [[n, out[n]["records_per_s"]] for n in PROCESSES]}}],
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
