"""Sync push throughput against a plain bulk insert of the same rows, on SQLite and PostgreSQL (same run),
and pull time for a device holding 10,000 records against reading those rows straight from the table.

Records with frames (attendance marked by scanning passes: each record costs three Ed25519 checks, its envelope,
the frame's credential and the frame's device signature) are measured against the raw Ed25519 verify rate of the
same run; the floor for them is that rate / 3.

A plain bulk insert checks nothing, while every record carries its phone's signature: so each case is also measured
against a second baseline of the same run, "the least a correct push does": the same bulk insert plus the real
`verify_sig` calls the records need (one a record, three with a frame), timed single-threaded in this process.
A worker phone's check-ins and check-outs (the visits bulk applier) are a third case beside session/attendance."""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert, select

import crypto
import sync
from crypto.dp1 import TAG_CRED
from server.auth import Role
from server.db.engine import Database
from server.db.migrate import upgrade
from server.db.models import Account, Outlet, OutletDevice
from server.domain.lists.services import ensure_platform_keys
from server.domain.records.services import make_appliers
from server.domain.verify.services import ListCache
from sync.models import SyncRecord
from tests.records import Device, uuid7

N = 10_000
BATCH = 100
N_FRAMES = 2_000
N_VISITS = 1_000
PASSES = 10
VERIFIES_PER_FRAMED_RECORD = 3


def _records(device: Device, n: int) -> list[dict]:
    out, sessions = [], [uuid7()]
    for i in range(n):
        if i % 10 == 0:
            sessions.append(uuid7())
            out.append(device.record("session", session_id=sessions[-1], outlet_id=1, course="家居保洁", day="2026-11-24"))
        else:
            out.append(device.record("attendance", session_id=sessions[-1], trainee_number=f"T-{i}"))
    return in_order_made(out)


def in_order_made(recs: list[dict]) -> list[dict]:
    """The records with UUIDv7 ids a millisecond apart, in the order made, as a phone's are (a person makes records
    seconds apart; a loop makes dozens in one millisecond, whose random bits would then order them at random)."""
    start = int(time.time() * 1000) - len(recs)
    return [{**r, "id": uuid7(start + i)} for i, r in enumerate(recs)]


async def _prepare(url: str, device: Device) -> Database:
    """A migrated database with its platform keys and outlet 1, `device` registered and tied to outlet 1 by an
    outlet staff account (docs/devices.md: session and attendance records come from such a phone)."""
    upgrade(url)
    db = Database(url)
    now = int(time.time())
    async with db.transaction() as s:
        await ensure_platform_keys(s, crypto.Keyring(b"\0" * 32), now=now, status_size=131072)
        s.add(Outlet(id=1, name="网点", created_at=0))
        await s.flush()
        staff = Account(username="bench-outlet-staff", display_name="网点工作人员", role=Role.OUTLET_STAFF.value, outlet_id=1,
                        password_hash="", must_change_password=False, created_at=now)
        s.add(staff)
        await s.flush()
        await sync.register(s, device.pub, now=now)
        s.add(OutletDevice(device_id=device.id, outlet_id=1, account_id=staff.id, bound_at=now))
    return db


async def _bulk_insert_s(db: Database, recs: list[dict], envelopes: list[dict]) -> float:
    """Seconds to insert the same rows (each record's signed body and signature) in bulk batches of 100, with no
    checks at all: the baseline of a push."""
    rows = [dict(id=str(uuid.uuid4()), device_id="bulk", device_seq=r["seq"], kind=r["kind"], body=e["body"],
                 body_hash="0" * 64, body_size=len(e["body"].encode()), status="applied", reason="", reason_en="",
                 received_at=0, sig=crypto.b64u_decode(e["sig"]))
            for r, e in zip(recs, envelopes, strict=True)]
    t0 = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        async with db.transaction() as s:
            await s.execute(insert(SyncRecord), rows[i:i + BATCH])
    return time.perf_counter() - t0


def _checks(pub: bytes, envelopes: list[dict], trust: crypto.TrustList | None) -> list[tuple[bytes, bytes, bytes]]:
    """Every Ed25519 check a correct push makes for these envelopes, as (key, signature, message): the envelope's
    signature by the pushing phone, and for a record carrying a scanned frame its credential's issuer signature and
    its device signature."""
    out = []
    for e in envelopes:
        body = e["body"].encode()
        out.append((pub, crypto.b64u_decode(e["sig"]), sync.RECORD_DOMAIN + body))
        frame = json.loads(body).get("frame")
        if frame:
            assert trust is not None
            p = crypto.parse_qr(frame)
            issuer = trust.issuer(p.cred.kid)
            assert issuer is not None and p.step is not None and p.code is not None and p.device_sig is not None
            out.append((issuer.pub, p.issuer_sig, TAG_CRED + p.cred_bytes))
            out.append((p.cred.device_pub, p.device_sig, crypto.live_message(p.cred_bytes, p.step, p.code)))
    return out


def _verify_s(checks: list[tuple[bytes, bytes, bytes]]) -> float:
    """Seconds for the real `verify_sig` calls, one after another in this thread."""
    t0 = time.perf_counter()
    for key, sig, msg in checks:
        assert crypto.verify_sig(key, sig, msg)
    return time.perf_counter() - t0


def _least(n: int, push_s: float, least_s: float) -> dict:
    """The second baseline's figures: the least a correct push does (bulk insert + the signature checks)."""
    return {"baseline_least_push_records_per_s": round(n / least_s), "push_vs_least_push": round(least_s / push_s, 3)}


async def _bench(url: str) -> dict:
    dev = Device()
    db = await _prepare(url, dev)
    try:
        cache = ListCache()
        recs = _records(dev, N)
        envelopes = [dev.envelope(r) for r in recs]  # signed on the phone when made: not the server's work
        t0 = time.perf_counter()
        for i in range(0, N, BATCH):
            async with db.transaction() as s:
                receipts, _ = await sync.push(s, dev.id, envelopes[i:i + BATCH], make_appliers(await cache.get(s), offline_lag_days=7),
                                              now=int(time.time()))
                assert all(r.status == "applied" for r in receipts), [r for r in receipts if r.status != "applied"][:1]
        push_s = time.perf_counter() - t0
        bulk_s = await _bulk_insert_s(db, recs, envelopes)
        least_s = bulk_s + _verify_s(_checks(dev.pub, envelopes, None))
        # pull: the device's 10,000 records, in pages of 1,000; baseline: the same rows read from the table
        pulls, reads = [], []
        for _ in range(3):
            t0 = time.perf_counter()
            cursor, more, got = 0, True, 0
            while more:
                async with db.read() as s:
                    page = await sync.pull(s, dev.id, cursor, limit=1000)
                cursor, more, got = page.cursor, page.more, got + len(page.records)
            pulls.append(time.perf_counter() - t0)
            assert got == N
            t0 = time.perf_counter()
            async with db.read() as s:
                n = len((await s.execute(select(SyncRecord).where(SyncRecord.device_id == dev.id))).scalars().all())
            reads.append(time.perf_counter() - t0)
            assert n == N
        return {
            "push_records_per_s": round(N / push_s),
            "baseline_bulk_insert_rows_per_s": round(N / bulk_s),
            "push_vs_bulk": round(bulk_s / push_s, 3),
            **_least(len(recs), push_s, least_s),
            "pull_10k_ms": round(statistics.median(pulls) * 1000),
            "baseline_read_10k_rows_ms": round(statistics.median(reads) * 1000),
            "pull_vs_read": round(statistics.median(pulls) / statistics.median(reads), 2),
        }
    finally:
        await db.dispose()


def ed25519_rate(n: int = 3000) -> float:
    """Raw Ed25519 verifications per second in this process (crypto.verify_sig on a 300-byte message)."""
    priv = crypto.new_signing_key()
    pub, msg = crypto.public_key(priv), b"x" * 300
    sig = crypto.sign(priv, msg)
    t0 = time.perf_counter()
    for _ in range(n):
        assert crypto.verify_sig(pub, sig, msg)
    return n / (time.perf_counter() - t0)


async def _bench_frames(url: str, tmp: Path) -> dict:
    """Attendance marked by scanning `PASSES` real passes (enrolled through the API in process), a session every 10
    records, pushed in batches of 100: each record's frame is checked (issuer and device signatures) at its time.
    Every frame is a different one (a pass shown at another step), as at a real outlet: a frame repeated in a batch
    is checked once, which would flatter the push against its floor of three checks a record."""
    from litestar.testing import AsyncTestClient

    from server.app import create_app
    from server.clock import Clock
    from server.domain.records.services import LOCAL, STEP, local_day
    from server.settings import Settings
    from tests.integration.conftest import Admin, enroll, platform_keys

    upgrade(url)
    settings = Settings(database_url=url, var_dir=tmp, pwa_dist=tmp / "no-dist", rate_limits=False)
    await platform_keys(settings)
    async with AsyncTestClient(app=create_app(settings, clock=Clock()), raise_server_exceptions=False) as client:
        admin = Admin(client, settings)
        agency = await admin.agency()
        phones = []
        for i in range(PASSES):
            worker = await admin.worker(agency["id"], f"学员{i}")
            phones.append(await enroll(client, (await admin.issue(worker["id"]))["code"]))
        oid = await admin.outlet()
        staff = await admin.outlet_phone(oid)
    start = int(time.time()) // STEP * STEP + STEP  # after the issuer key was made: frames are checked at their own time
    recs: list[dict] = []
    at = start
    while len(recs) < N_FRAMES:  # each session's nine trainees scanned a step after the last's: no frame shown twice
        sid = uuid7()
        recs.append(staff.record("session", session_id=sid, outlet_id=oid, course="养老护理", day=local_day(at, LOCAL).isoformat()))
        recs += [{**staff.record("attendance", session_id=sid, frame=p.live(at)), "at": at} for p in phones[:9]]
        at += STEP
    now = at  # the server's time at the push: after the last frame
    recs = in_order_made(recs)
    envelopes = [staff.envelope(r) for r in recs]
    db = Database(url)
    try:
        cache = ListCache()
        push_s = await _push_all(db, cache, staff.id, envelopes, now + 30)
        async with db.read() as s:
            trust = (await cache.get(s))[0]
        least_s = await _bulk_insert_s(db, recs, envelopes) + _verify_s(_checks(staff.pub, envelopes, trust))
        visits = await _bench_visits(db, cache, phones[0], now + 30)
    finally:
        await db.dispose()
    framed = sum(1 for r in recs if r["kind"] == "attendance")
    return {"records": len(recs), "framed_records": framed, "push_records_per_s": round(len(recs) / push_s),
            **_least(len(recs), push_s, least_s), "visits": visits}


async def _push_all(db: Database, cache: ListCache, device_id: str, envelopes: list[dict], now: int) -> float:
    """Seconds to push `envelopes` in batches of `BATCH`, each in its own transaction, every record applied."""
    t0 = time.perf_counter()
    for i in range(0, len(envelopes), BATCH):
        async with db.transaction() as s:
            receipts, _ = await sync.push(s, device_id, envelopes[i:i + BATCH], make_appliers(await cache.get(s), offline_lag_days=7),
                                          now=now)
            assert all(r.status == "applied" for r in receipts), [r for r in receipts if r.status != "applied"][:1]
    return time.perf_counter() - t0


async def _bench_visits(db: Database, cache: ListCache, phone, now: int) -> dict:  # type: ignore[no-untyped-def]
    """A worker phone's morning: `N_VISITS` visits, each a check-in (carrying the household's signed visit code,
    made on the household's phone beforehand) and its check-out, pushed in batches of 100 (the visits bulk applier)."""
    worker, household = phone.device, Device()
    async with db.transaction() as s:
        await sync.register(s, worker.pub, now=now)
    recs: list[dict] = []
    for _ in range(N_VISITS):
        visit = uuid7()
        recs.append({**worker.record("checkin", visit_id=visit, serial=phone.serial, service="cleaning",
                                     visit_code=household.visit_code(visit, phone.serial, now - 60)), "at": now - 50})
        recs.append({**worker.record("checkout", visit_id=visit, serial=phone.serial), "at": now - 10})
    recs = in_order_made(recs)
    envelopes = [worker.envelope(r) for r in recs]
    push_s = await _push_all(db, cache, worker.id, envelopes, now)
    bulk_s = await _bulk_insert_s(db, recs, envelopes)
    least_s = bulk_s + _verify_s(_checks(worker.pub, envelopes, None))
    return {"records": len(recs), "push_records_per_s": round(len(recs) / push_s),
            "baseline_bulk_insert_rows_per_s": round(len(recs) / bulk_s), "push_vs_bulk": round(bulk_s / push_s, 3),
            **_least(len(recs), push_s, least_s)}


def _goals(out: dict[str, object]) -> list[dict]:
    goals = []
    for name, res in out.items():
        if not isinstance(res, dict):
            continue
        plain = res["plain"]
        goals.append({"name": f"push, records without frames ({name})", "value": plain["push_records_per_s"], "unit": "rec/s",
                      "baseline": "bulk insert of the same rows", "baseline_value": plain["baseline_bulk_insert_rows_per_s"],
                      "ratio": plain["push_vs_bulk"], "goal": "ratio ≥ 0.5", "met": plain["push_vs_bulk"] >= 0.5})
        framed = res["frames"]
        goals.append({"name": f"push, records with frames ({name})", "value": framed["push_records_per_s"], "unit": "rec/s",
                      "baseline": "raw Ed25519 verify rate", "baseline_value": framed["baseline_ed25519_per_s"],
                      "ratio": framed["push_vs_ed25519"], "goal": "ratio ≥ 0.5", "met": framed["push_vs_ed25519"] >= 0.5})
        visits = res["visits"]
        goals.append({"name": f"push, a worker's check-ins and check-outs ({name})", "value": visits["push_records_per_s"],
                      "unit": "rec/s", "baseline": "bulk insert of the same rows",
                      "baseline_value": visits["baseline_bulk_insert_rows_per_s"], "ratio": visits["push_vs_bulk"],
                      "goal": "ratio ≥ 0.5", "met": visits["push_vs_bulk"] >= 0.5})
        for what, case in (("records without frames", plain), ("records with frames", framed),
                           ("a worker's check-ins and check-outs", visits)):
            goals.append({"name": f"push, {what} ({name}), against the least a correct push does", "unit": "rec/s",
                          "value": case["push_records_per_s"], "baseline_value": case["baseline_least_push_records_per_s"],
                          "baseline": "bulk insert of the same rows + their Ed25519 checks (1 a record, 3 with a frame), "
                                      "one thread, same run",
                          "ratio": case["push_vs_least_push"], "goal": "ratio ≥ 0.5", "met": case["push_vs_least_push"] >= 0.5})
    return goals


def _pg_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


async def _pg_db() -> tuple[str, str]:
    import asyncpg

    name = f"doorpass_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(host="127.0.0.1", user="postgres", database="test")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return name, f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def _pg_drop(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host="127.0.0.1", user="postgres", database="test")
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


def on_each_database(bench_one: Callable[[Path, str | None], object]) -> dict[str, object]:
    """`bench_one(tmp, url)` on SQLite (url None: a file of its own under tmp) and, when one answers, on a fresh
    PostgreSQL database, dropped afterwards."""
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as d:
        out["sqlite"] = bench_one(Path(d), None)
    if _pg_answers():
        name, url = asyncio.run(_pg_db())
        try:
            with tempfile.TemporaryDirectory() as d:
                out["postgresql"] = bench_one(Path(d), url)
        finally:
            asyncio.run(_pg_drop(name))
    else:
        out["postgresql"] = "skipped: no PostgreSQL on 127.0.0.1:5432"
    return out


def _one(tmp: Path, url: str | None) -> dict:
    plain = asyncio.run(_bench(url or f"sqlite+aiosqlite:///{tmp / 'bench.db'}"))
    (tmp / "frames").mkdir()
    framed = asyncio.run(_bench_frames(url or f"sqlite+aiosqlite:///{tmp / 'frames.db'}", tmp / "frames")) if url is None \
        else None
    if framed is None:  # PostgreSQL: a second fresh database of its own
        name, framed_url = asyncio.run(_pg_db())
        try:
            framed = asyncio.run(_bench_frames(framed_url, tmp / "frames"))
        finally:
            asyncio.run(_pg_drop(name))
    rate = ed25519_rate()
    framed["baseline_ed25519_per_s"] = round(rate)
    framed["push_vs_ed25519"] = round(framed["push_records_per_s"] / rate, 3)
    framed["floor_records_per_s"] = round(rate / VERIFIES_PER_FRAMED_RECORD)
    framed["push_vs_floor"] = round(framed["push_records_per_s"] * VERIFIES_PER_FRAMED_RECORD / rate, 3)
    visits = framed.pop("visits")  # measured on the same database as the frames (its passes are enrolled there)
    return {"plain": plain, "frames": framed, "visits": visits}


def run() -> dict:
    out = on_each_database(_one)
    return {**out, "goals": _goals(out)}

if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
