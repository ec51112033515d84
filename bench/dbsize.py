"""What PostgreSQL holds per million passes and per million sync records (informational: no goal).

Into a scratch database (migrated, with its platform keys and one agency) go PASSES enrolled passes as issue and
enroll leave them — the worker (placeholder photo, sealed ID number), the pass (its signed credential, phone key,
sealed TOTP secret), its spent activation code and its three history events — and RECORDS sync records as a push
stores them: signed check-ins with a household's visit code, from one phone per 50 records, each row with its body,
SHA-256 and signature. Each table's size with its TOAST (`pg_table_size`) and each index's (`pg_relation_size`), after
VACUUM ANALYZE, is measured before and after, and the growth scaled to a million. Not counted: worker photos (a JPEG of up
to 512 KB each is stored as it is; add its size per pass) and the domain rows a record makes when applied (a
check-in's visit row).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from datetime import date, timedelta

from sqlalchemy import insert, select, text

import crypto
from bench.sync_push import _pg_answers, _pg_db, _pg_drop
from server.auth import Actor, system_principal
from server.db.engine import Database
from server.db.migrate import upgrade
from server.db.models import ActivationCode, Pass, PassEvent, SigningKey, Worker
from server.domain.lists.services import ensure_platform_keys, unseal_key
from server.domain.passes.services import code_hash
from server.domain.registry import schemas as rs
from server.domain.registry import services as registry
from server.domain.registry.services import mask_id_number, photo_digest, placeholder_photo
from server.schemas import services_to_mask
from server.secrets import seal_id_number, seal_totp
from sync.models import Device as DeviceRow
from sync.models import SyncRecord
from tests.records import Device
from tests.sync_client import body_hash

PASSES = int(os.environ.get("DBSIZE_PASSES", 20_000))
RECORDS = int(os.environ.get("DBSIZE_RECORDS", 50_000))
CHUNK = 1000
MILLION = 1_000_000

SIZES = """
SELECT c.relname, c.relkind, pg_total_relation_size(c.oid) AS total,
       CASE WHEN c.relkind = 'r' THEN pg_table_size(c.oid) ELSE pg_relation_size(c.oid) END AS own,
       coalesce(i.tablename, c.relname) AS of_table
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_indexes i ON i.indexname = c.relname AND i.schemaname = n.nspname
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')
"""


async def _sizes(db: Database) -> dict[str, dict]:
    async with db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))
        rows = (await conn.execute(text(SIZES))).all()
    return {r.relname: {"kind": "table" if r.relkind == "r" else "index", "total": r.total, "own": r.own, "table": r.of_table}
            for r in rows}


async def _passes(db: Database, master: crypto.Keyring, n: int) -> None:
    now = int(time.time())
    today = date(1970, 1, 1) + timedelta(days=now // 86400)
    async with db.transaction() as s:
        agency = await registry.create_agency(Actor(system_principal("dbsize"), s, now), master, rs.AgencyCreate(name="测量家政"),
                                              key_days=3650)
        key_row = (await s.execute(select(SigningKey).where(SigningKey.kid == agency.kid))).scalar_one()
    issuer, kid = unseal_key(master, key_row), key_row.kid
    day = now // 86400
    for start in range(0, n, CHUNK):
        workers, passes, codes, events = [], [], [], []
        for i in range(start, min(n, start + CHUNK)):
            wid, serial, name = 1000 + i, 100_000_000 + i, f"测量员{i:05d}"
            photo = placeholder_photo(name)
            number = f"3101{i:014d}"
            workers.append(dict(id=wid, agency_id=agency.id, name=name, phone=f"138{i:08d}", id_number_sealed=seal_id_number(master, wid, number),
                                id_number_masked=mask_id_number(number), services=services_to_mask(["cleaning", "cooking"]),
                                health_check_until=today + timedelta(days=180), photo=photo, photo_type="image/svg+xml",
                                photo_digest=photo_digest(photo), created_at=now))
            phone = crypto.public_key(crypto.new_signing_key())
            cred = crypto.encode_cred(crypto.Credential(kid=kid, serial=serial, status_index=i, issued_day=day, expires_day=day + 364,
                                                        name=name, agency_id=agency.id, photo_digest=photo_digest(photo),
                                                        device_pub=phone, services=services_to_mask(["cleaning", "cooking"])))
            passes.append(dict(serial=serial, worker_id=wid, agency_id=agency.id, kid=kid, status_index=i, issued_day=day,
                               expires_day=day + 364, state="active", colour=0, reason="", reason_en="", device_pub=phone,
                               totp_sealed=seal_totp(master, serial, crypto.new_totp_secret()), cred=cred,
                               issuer_sig=crypto.sign_cred(issuer, cred), enrolled_at=now, created_at=now, updated_at=now))
            codes.append(dict(serial=serial, code_hash=code_hash(uuid.uuid4().hex[:12].upper()), expires_at=now + 259200, used_at=now,
                              created_at=now))
            events += [dict(serial=serial, at=now, kind="issued", actor="agency-staff:12",
                            detail=json.dumps({"kid": agency.kid, "issued_day": day, "expires_day": day + 364})),
                       dict(serial=serial, at=now, kind="activation", actor="agency-staff:12", detail=json.dumps({"expires_at": now + 259200})),
                       dict(serial=serial, at=now, kind="enrolled", actor="phone",
                            detail=json.dumps({"device_pub": crypto.b64u_encode(phone)}))]
        async with db.transaction() as s:
            await s.execute(insert(Worker), workers)
            await s.execute(insert(Pass), passes)
            await s.execute(insert(ActivationCode), codes)
            await s.execute(insert(PassEvent), events)


async def _records(db: Database, n: int) -> None:
    now = int(time.time())
    per_phone = 50
    for start in range(0, n, CHUNK):
        rows, devices = [], []
        for i in range(start, min(n, start + CHUNK), per_phone):
            phone, household = Device(), Device()
            devices.append(dict(id=phone.id, seq=per_phone, first_seen=now, last_seen=now, pub=phone.pub, registered_at=now))
            serial = 100_000_000 + (i // per_phone)
            for _ in range(min(per_phone, n - i)):
                visit = str(uuid.uuid4())
                rec = phone.record("checkin", visit_id=visit, serial=serial, visit_code="", service="cleaning", place="浦东新区某小区 3 号楼")
                rec["visit_code"] = household.visit_code(visit, serial, rec["at"])
                env = phone.envelope(rec)
                rows.append(dict(id=rec["id"], device_id=phone.id, device_seq=rec["seq"], kind="checkin", body=env["body"],
                                 body_hash=body_hash(rec), body_size=len(env["body"].encode()), status="applied", reason="",
                                 reason_en="", serial=serial, received_at=now, sig=crypto.b64u_decode(env["sig"])))
        async with db.transaction() as s:
            await s.execute(insert(DeviceRow), devices)
            await s.execute(insert(SyncRecord), rows)


def _grown(before: dict, after: dict, names: set[str]) -> dict[str, int]:
    return {k: after[k]["own"] - before.get(k, {"own": 0})["own"] for k in after
            if after[k]["table"] in names and after[k]["own"] - before.get(k, {"own": 0})["own"] > 0}


async def _bench(url: str) -> dict:
    upgrade(url)
    db = Database(url)
    master = crypto.Keyring(os.urandom(32))
    try:
        async with db.transaction() as s:
            await ensure_platform_keys(s, master, now=int(time.time()), status_size=max(131072, PASSES))
        empty = await _sizes(db)
        t0 = time.perf_counter()
        await _passes(db, master, PASSES)
        with_passes = await _sizes(db)
        await _records(db, RECORDS)
        with_records = await _sizes(db)
        seconds = time.perf_counter() - t0
    finally:
        await db.dispose()
    pass_tables = {"workers", "passes", "activation_codes", "pass_events"}
    record_tables = {"sync_records", "devices"}
    per_pass = _grown(empty, with_passes, pass_tables)
    per_record = _grown(with_passes, with_records, record_tables)

    def per_million(grown: dict[str, int], count: int) -> dict[str, float]:
        return {k: round(v / count * MILLION / 2**20, 1) for k, v in sorted(grown.items(), key=lambda kv: -kv[1])}

    pass_mb = sum(per_pass.values()) / PASSES * MILLION / 2**20
    record_mb = sum(per_record.values()) / RECORDS * MILLION / 2**20
    goals = [
        {"name": "PostgreSQL per million enrolled passes (tables and indexes, photos apart)", "value": round(pass_mb), "unit": "MiB",
         "baseline": "", "baseline_value": None, "ratio": None, "goal": f"none: {PASSES:,} measured, scaled", "met": None},
        {"name": "PostgreSQL per million sync records (signed check-ins)", "value": round(record_mb), "unit": "MiB",
         "baseline": "", "baseline_value": None, "ratio": None, "goal": f"none: {RECORDS:,} measured, scaled", "met": None},
        {"name": "bytes per pass", "value": round(pass_mb * 2**20 / MILLION), "unit": "B", "baseline": "", "baseline_value": None,
         "ratio": None, "goal": "none", "met": None},
        {"name": "bytes per sync record", "value": round(record_mb * 2**20 / MILLION), "unit": "B", "baseline": "",
         "baseline_value": None, "ratio": None, "goal": "none", "met": None},
    ]
    return {"goals": goals, "passes": PASSES, "records": RECORDS, "fill_seconds": round(seconds, 1),
            "per_million_passes_mib": per_million(per_pass, PASSES),
            "per_million_records_mib": per_million(per_record, RECORDS),
            "not_counted": "worker photos (stored as sent, up to 512 KB each); domain rows an applied record makes (a visit)"}


def run() -> dict:
    if not _pg_answers():
        return {"skipped": "no PostgreSQL on 127.0.0.1:5432"}
    name, url = asyncio.run(_pg_db())
    try:
        return asyncio.run(_bench(url))
    finally:
        asyncio.run(_pg_drop(name))


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, ensure_ascii=False))
