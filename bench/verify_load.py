"""Reads beside writes, against a real server process: `/api/verify` and `/api/sync/pull` latency idle and while
four clients push large batches at once, as a ratio (the goal: at most 2x idle), on SQLite and PostgreSQL.

Each large push is 400 check-ins (applied: real writes) and 25 refused records of 100 KB: about 2.6 MB, under
the 4 MiB push limit. A check-in is the pass's own phone's (docs/devices.md), so each pusher is an enrolled worker's
phone sending its own check-ins, each with a household's signed visit code (its 8 pushes, about 3,400 records, stay
under a device's daily quota). The bodies are encoded and their records signed before the clock starts, so the
client's own work does not count.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.sync_push import on_each_database
from tests.dbquery import rows
from tests.records import Device
from tests.served import Phone, Served
from tests.sync_client import VERSIONS

PUSHERS = 4
PUSHES_EACH = 8
SAMPLES = 40


Probe = tuple[str, str, Callable[[], dict]]
"""A request to time: method, path, and a function making its keyword arguments afresh (a new live frame each time)."""


def _push_body(phone: Phone) -> tuple[Device, bytes]:
    """A heavy push of a worker's own phone (registered): its records in their signed envelopes (the request is
    signed when it is sent)."""
    device, household = phone.device, Device()
    records = []
    for i in range(400):
        visit = str(uuid.uuid4())
        rec = device.record("checkin", visit_id=visit, serial=phone.serial, visit_code="", service="cleaning", place=f"楼 {i}")
        rec["visit_code"] = household.visit_code(visit, phone.serial, rec["at"])
        records.append(rec)
    records += [device.record("teleport", cargo="x" * 100_000) for _ in range(25)]
    body, _ = device.push_request({"device_id": device.id, "records": records, **VERSIONS})
    return device, body


def _timed(client: httpx.Client, method: str, path: str, **kw: object) -> float:
    t0 = time.perf_counter()
    r = client.request(method, path, **kw)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - t0
    assert r.status_code == 200, r.text
    return elapsed


def _sample(base: str, method: str, path: str, make: Callable[[], dict], until: threading.Event | None) -> list[float]:
    """SAMPLES requests one after another on one connection (stopping early once `until` is set)."""
    out: list[float] = []
    with httpx.Client(base_url=base, timeout=120) as client:
        for _ in range(SAMPLES):
            if until is not None and until.is_set():
                break
            out.append(_timed(client, method, path, **make()))
    return out


def _ms(xs: list[float]) -> float:
    return round(statistics.median(xs) * 1000, 1)


def _bench(tmp: Path, database_url: str | None) -> dict:
    served = Served(tmp, database_url)
    try:
        # one seed run's valid workers: the first shows her pass and pulls its reviews, one more per pusher
        phone, *pushers = (served.phone(code=c) for c in served.codes("valid", PUSHERS + 1))
        for p in (phone, *pushers):
            p.device.register(served.base)
        worker = phone.device  # a pass's reviews are pulled by its own phone
        target = worker.pull_target({"serial": phone.serial})
        bodies = [[_push_body(p) for _ in range(PUSHES_EACH)] for p in pushers]
        verify: Probe = ("POST", "/api/verify", lambda: {"json": {"qr": phone.live()}})
        pull: Probe = ("GET", target, lambda: {"headers": worker.signed("GET", target)})
        for probe in (verify, pull):
            _sample(served.base, *probe, None)  # warm up
        idle_verify, idle_pull = (_sample(served.base, *probe, None) for probe in (verify, pull))
        started, done = threading.Barrier(PUSHERS + 1), threading.Event()
        push_times: list[float] = []

        def pusher(mine: list[tuple[Device, bytes]]) -> None:
            with httpx.Client(base_url=served.base, timeout=300) as c:
                started.wait()
                for device, body in mine:
                    headers = {"content-type": "application/json", **device.signed("POST", "/api/sync/push", body)}
                    push_times.append(_timed(c, "POST", "/api/sync/push", content=body, headers=headers))
            done.set()  # the first pusher to run out ends the measurement: four pushes run throughout it

        under: dict[str, list[float]] = {}

        def probe_under_load(name: str, probe: Probe) -> None:
            time.sleep(0.2)  # the pushes are under way
            under[name] = _sample(served.base, *probe, done)

        threads = [threading.Thread(target=pusher, args=(b,)) for b in bodies]
        threads += [threading.Thread(target=probe_under_load, args=(n, p)) for n, p in (("verify", verify), ("pull", pull))]
        for t in threads:
            t.start()
        started.wait()
        for t in threads:
            t.join()
        load_verify, load_pull = under["verify"], under["pull"]
        visits = rows(served.database_url, "SELECT count(*) FROM visits")[0][0]
        assert visits == PUSHERS * PUSHES_EACH * 400, visits  # every check-in was applied: the pushes were real writes
        return {
            "verify_idle_ms": _ms(idle_verify),
            "verify_under_4_pushes_ms": _ms(load_verify),
            "verify_ratio": round(statistics.median(load_verify) / statistics.median(idle_verify), 2),
            "verify_under_load_max_ms": round(max(load_verify) * 1000, 1),
            "pull_idle_ms": _ms(idle_pull),
            "pull_under_4_pushes_ms": _ms(load_pull),
            "pull_ratio": round(statistics.median(load_pull) / statistics.median(idle_pull), 2),
            "samples_under_load": {"verify": len(load_verify), "pull": len(load_pull)},
            "push_mb": round(len(bodies[0][0][1]) / 1e6, 2),
            "push_median_s": round(statistics.median(push_times), 2),
        }
    finally:
        served.stop()


def run() -> dict:
    return on_each_database(_bench)

if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
