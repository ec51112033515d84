"""Pull against records: how long a phone's whole pull takes as the records it holds grow, on SQLite and PostgreSQL,
against reading the same rows straight from the table (same run, same database).

A phone that was offline for weeks, or a new phone of an outlet, pulls everything after its cursor in pages of
`PAGE` (the API's default page). The table also holds records of other phones (`OTHERS` at the largest size), so the pull has to
find the phone's own among them, as on a real server. Rows are written straight into `sync_records` (pull reads rows;
how they got there is bench/sync_push.py's business). For each size: the median of `ROUNDS` whole pulls (pages of
`PAGE`, each in its own read transaction as the API does), and the median of `ROUNDS` plain reads of the same rows
(one SELECT of the phone's rows in cursor order).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from pathlib import Path

from sqlalchemy import insert, select

import sync
from bench.sync_push import on_each_database
from server.db.engine import Database
from server.db.migrate import upgrade
from sync.models import SyncRecord

SIZES = (1_000, 2_000, 5_000, 10_000, 20_000)
OTHERS = 20_000
PAGE = 500
"""The API's default page (the phones ask for no other; 1,000 is the most it gives)."""
ROUNDS = 3
BODY = json.dumps({"kind": "checkin", "note": "x" * 200})  # about the size of a signed check-in's body


def _rows(device_id: str, first_seq: int, n: int) -> list[dict]:
    return [dict(id=str(uuid.uuid4()), device_id=device_id, device_seq=first_seq + i, kind="checkin", body=BODY,
                 body_hash="0" * 64, body_size=len(BODY), status="applied", reason="", reason_en="", received_at=0,
                 sig=b"\0" * 64) for i in range(n)]


async def _add(db: Database, device_id: str, first_seq: int, n: int) -> None:
    rows = _rows(device_id, first_seq, n)
    for i in range(0, n, 1_000):
        async with db.transaction() as s:
            await s.execute(insert(SyncRecord), rows[i:i + 1_000])


async def _pull_all(db: Database, device_id: str) -> int:
    cursor, more, got = 0, True, 0
    while more:
        async with db.read() as s:
            page = await sync.pull(s, device_id, cursor, limit=PAGE)
        cursor, more, got = page.cursor, page.more, got + len(page.records)
    return got


async def _read_all(db: Database, device_id: str) -> int:
    async with db.read() as s:
        return len((await s.execute(select(SyncRecord).where(SyncRecord.device_id == device_id)
                                    .order_by(SyncRecord.cursor))).scalars().all())


async def _bench(url: str) -> dict:
    upgrade(url)
    db = Database(url)
    phone = "bench-phone"
    try:
        held, out = 0, []
        for size in SIZES:
            # other phones' records and the phone's, one batch after the other (interleaved in cursor order); the
            # others reach OTHERS at the last size
            await _add(db, f"other-{size}", 0, OTHERS * size // SIZES[-1] - OTHERS * held // SIZES[-1])
            await _add(db, phone, held, size - held)
            held = size
            pulls, reads = [], []
            for _ in range(ROUNDS):
                t0 = time.perf_counter()
                assert await _pull_all(db, phone) == size
                pulls.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                assert await _read_all(db, phone) == size
                reads.append(time.perf_counter() - t0)
            pull_ms, read_ms = statistics.median(pulls) * 1000, statistics.median(reads) * 1000
            out.append({"records": size, "pull_ms": round(pull_ms, 1), "read_ms": round(read_ms, 1),
                        "pull_vs_read": round(pull_ms / read_ms, 2)})
        return {"sizes": out}
    finally:
        await db.dispose()


def _one(tmp: Path, url: str | None) -> dict:
    return asyncio.run(_bench(url or f"sqlite+aiosqlite:///{tmp / 'pull.db'}"))


def run() -> dict:
    out = on_each_database(_one)
    series_pull = {f"pull ({name})": [[p["records"], p["pull_ms"]] for p in res["sizes"]]
                   for name, res in out.items() if isinstance(res, dict)}
    series_read = {f"plain read ({name})": [[p["records"], p["read_ms"]] for p in res["sizes"]]
                   for name, res in out.items() if isinstance(res, dict)}
    goals = []
    for name, res in out.items():
        if isinstance(res, dict):
            last = res["sizes"][-1]
            goals.append({"name": f"whole pull of {last['records']:,} records ({name})", "value": last["pull_ms"], "unit": "ms",
                          "baseline": "plain read of the same rows", "baseline_value": last["read_ms"],
                          "ratio": last["pull_vs_read"], "goal": f"reported (pages of {PAGE}; no goal in the issue)",
                          "met": None})
    return {**out, "goals": goals, "plots": [{
        "file": "pull_records.png", "title": f"Whole pull against records held (pages of {PAGE:,}; {OTHERS:,} other phones' records)",
        "x": "records the phone holds", "y": "ms", "series": {**series_pull, **series_read},
    }]}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
