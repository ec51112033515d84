"""`make soak` (`python -m bench.soak [--seconds N]`): a bounded soak of two server processes on one PostgreSQL.

On loopback only, and it stops by itself: two server processes (`python -m server serve`, as `make run` starts it)
share a scratch PostgreSQL database, its var/ and master key. Simulated phones work against both at once:

- households verify live frames (`POST /api/verify`) and push reviews of the passes they saw;
- workers' phones push check-ins (each with a household's signed visit code) and check-outs, and pull their records;
- an agency's staff account registers new workers and issues passes, and each new phone enrolls (`POST /api/enroll`)
  and joins the workers;
- now and then a phone resends a batch it already has receipts for (it must answer `duplicate`, never a second copy).

A push that fails (no connection, a 5xx, a 401) is sent again, byte for byte, to either process after a pause, as
the PWA's outbox does. Meanwhile the soak kills one process with SIGKILL and restarts it, later the other, and twice
ends every database connection of the servers (`pg_terminate_backend`).

At the end every phone sends what it still holds, and the soak checks:

- no 5xx answer, except requests in flight on a process at the moment it was killed, and a 503 "unavailable" (with
  Retry-After) for a request whose database connection was ended under it (a refused connection or a reset is not
  an answer: those are counted apart; a phone retries all of them). A 500 is never excused;
- no 4xx but the expected ones (none is expected: no rate limits, valid requests);
- every record a phone made is acknowledged, and the database holds it exactly once with the same content
  (SHA-256 of its body); a record answered `applied` (or `duplicate` of an applied one) is held as applied;
- every receipt a phone got matches the database (first answer = stored status; a duplicate names it), and a full
  pull of each phone gives back exactly its records with the same statuses.

It prints a summary (JSON) and exits 1 when a check fails, 2 when PostgreSQL does not answer.
tests/integration/test_soak.py runs a short one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

import crypto
from tests.dbquery import rows
from tests.records import VERSIONS, Device, uuid7
from tests.served import Phone, Served, ServerProcess, free_port
from tests.sync_client import body_hash

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN = {"host": PG_HOST, "port": PG_PORT, "user": "postgres", "database": "test"}
AGENCY_STAFF = "demo-a1-staff"
"""The seeded agency staff account that registers workers and issues their passes during the soak."""
BATCH = 40
PUSH_TRIES = 6


def pg_answers() -> bool:
    import socket

    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


async def _admin(sql: str) -> Any:
    import asyncpg

    conn = await asyncpg.connect(**PG_ADMIN)
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


def create_database() -> tuple[str, str]:
    name = f"doorpass_soak_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return name, f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}"


def drop_database(name: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def drop_connections(name: str) -> int:
    """End every connection the servers hold to database `name` (as a failover or a restarted PostgreSQL would)."""
    found = asyncio.run(_admin(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"))
    return len(found)


# ---- the server processes ----------------------------------------------------------------------------------------

def second(first: Served, log: Path) -> ServerProcess:
    """A second server process on the first one's database, var/ and master key, on a port of its own, started."""
    port = free_port()
    master = (Path(first.env["DOORPASS_VAR"]) / "master.key").read_text().strip()
    proc = ServerProcess({**first.env, "DOORPASS_PORT": str(port), "DOORPASS_MASTER_KEY": master},
                         f"http://127.0.0.1:{port}", log)
    proc.start()
    return proc


# ---- what happened -----------------------------------------------------------------------------------------------

@dataclass
class Call:
    base: str
    method: str
    path: str
    t0: float
    t1: float
    status: int | None
    """None: no answer (connection refused or reset, timeout)."""
    error: str = ""


@dataclass
class Journal:
    """Every request and every fault, with monotonic times, shared by all threads."""

    calls: list[Call] = field(default_factory=list)
    kills: list[tuple[str, float, float]] = field(default_factory=list)
    """(base, killed at, answering again at)"""
    drops: list[tuple[float, float, int]] = field(default_factory=list)
    """(from, to, connections ended)"""
    counts: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def count(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] += n


def request(client: httpx.Client, journal: Journal, base: str, method: str, path: str, **kw: Any) -> httpx.Response | None:
    """One request, journaled; None when no answer came (the caller decides whether to retry)."""
    t0 = time.monotonic()
    try:
        r = client.request(method, base + path, **kw)
    except httpx.HTTPError as e:
        journal.add(Call(base, method, path.split("?")[0], t0, time.monotonic(), None, type(e).__name__))
        return None
    journal.add(Call(base, method, path.split("?")[0], t0, time.monotonic(), r.status_code,
                     r.text[:300] if r.status_code >= 400 else ""))
    return r


# ---- the phones --------------------------------------------------------------------------------------------------

class Box:
    """A phone's outbox: records signed once when made; a record leaves only on its receipt."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.records: dict[str, dict] = {}
        self.envelopes: dict[str, dict] = {}
        self.state: dict[str, str] = {}
        self.receipts: dict[str, list[dict]] = {}
        self.cursor = 0

    def add(self, record: dict) -> None:
        self.records[record["id"]] = record
        self.envelopes[record["id"]] = self.device.envelope(record)
        self.state[record["id"]] = "saved"
        self.receipts[record["id"]] = []

    def pending(self) -> list[str]:
        return [i for i, s in self.state.items() if s == "saved"]

    def done(self) -> list[str]:
        return [i for i, s in self.state.items() if s != "saved"]

    def take(self, ids: list[str], receipts: list[dict]) -> None:
        for rid, receipt in zip(ids, receipts, strict=True):
            assert receipt["id"] == rid, (rid, receipt)
            self.receipts[rid].append(receipt)
            status = receipt["status"]
            first = receipt.get("original") if status == "duplicate" else status
            self.state[rid] = "delivered" if first == "applied" else "attention"


@dataclass
class Worker:
    phone: Phone
    box: Box
    visits: list[str] = field(default_factory=list)


@dataclass
class Household:
    device: Device
    box: Box


class Soak:
    def __init__(self, seconds: float, *, households: int = 16, threads: int = 4, seed: int = 2026, workdir: Path,
                 database: tuple[str, str]) -> None:
        self.seconds, self.threads, self.rng = seconds, threads, random.Random(seed)
        self.db_name, self.url = database
        self.journal = Journal()
        self.failures: list[str] = []
        self.a = Served(workdir / "a", self.url)
        try:
            self.b = second(self.a, workdir / "b.log")
        except Exception:
            self.a.stop()
            raise
        self.bases = [self.a.base, self.b.base]
        self.workers = [self._worker(self.a.phone(code=c)) for c in self.a.codes("valid", 4)]
        # after the last seed-demo run (each one ends the demo accounts' sessions)
        self.staff = self.a.staff(AGENCY_STAFF)
        self.agency_id = next(a["agency_id"] for a in self.a.seeds[-1]["accounts"] if a["username"] == AGENCY_STAFF)
        self.households = [Household(d, Box(d)) for d in (Device() for _ in range(households))]
        for h in self.households:
            h.device.register(self.rng.choice(self.bases))
        self.lock = threading.Lock()
        self.enrolled = 0

    def _worker(self, phone: Phone) -> Worker:
        phone.device.register(self.rng.choice(self.bases))
        return Worker(phone, Box(phone.device))

    # -- operations: each takes a thread's client and rng --

    def verify(self, client: httpx.Client, rng: random.Random) -> None:
        h = rng.choice(self.households)
        with self.lock:
            w = rng.choice(self.workers)
        r = request(client, self.journal, rng.choice(self.bases), "POST", "/api/verify",
                    json={"qr": w.phone.live(), "device_id": h.device.id})
        if r is not None and r.status_code == 200:
            self.journal.count(f"verify {r.json()['result']}")

    def push(self, client: httpx.Client, rng: random.Random, box: Box, replay: bool = False) -> None:
        """Send up to BATCH pending records (with `replay`, some already acknowledged ones too); a failed send is
        retried with the same bytes, to either process, after a growing pause."""
        ids = box.pending()[:BATCH]
        if replay and box.done():
            ids += rng.sample(box.done(), min(len(box.done()), 8))
            self.journal.count("records replayed", min(len(box.done()), 8))
        if not ids:
            return
        body, headers = box.device.push_request(
            {"device_id": box.device.id, "records": [box.envelopes[i] for i in ids], **VERSIONS}, sign=False)
        for attempt in range(PUSH_TRIES):
            if attempt:
                self.journal.count("push retries")
                time.sleep(min(2.0, 0.1 * 2**attempt))
                # a later send is signed afresh (its headers carry the time), the body is the same bytes
                body, headers = box.device.push_request(
                    {"device_id": box.device.id, "records": [box.envelopes[i] for i in ids], **VERSIONS}, sign=False)
            r = request(client, self.journal, rng.choice(self.bases), "POST", "/api/sync/push", content=body, headers=headers)
            if r is None or r.status_code >= 500:
                continue
            if r.status_code != 200:
                return  # an unexpected refusal: the journal has it, the check at the end reports it
            box.take(ids, r.json()["receipts"])
            self.journal.count("push batches answered")
            return

    def worker_records(self, rng: random.Random, w: Worker) -> None:
        household = rng.choice(self.households).device
        for _ in range(rng.randint(1, 6)):
            if w.visits and rng.random() < 0.4:
                w.box.add(w.phone.device.record("checkout", visit_id=w.visits.pop(0), serial=w.phone.serial))
            else:
                visit = uuid7()
                rec = w.phone.device.record("checkin", visit_id=visit, serial=w.phone.serial, visit_code="",
                                            service=rng.choice(["cleaning", "cooking", "elderly"]), place=f"楼 {rng.randrange(99)}")
                rec["visit_code"] = household.visit_code(visit, w.phone.serial, rec["at"])
                w.box.add(rec)
                w.visits.append(visit)

    def household_review(self, rng: random.Random, h: Household) -> None:
        with self.lock:
            w = rng.choice(self.workers)
        now = int(time.time())
        h.box.add({**h.device.record("review", frame=w.phone.live(now), stars=rng.randint(1, 5), comment="好"), "at": now})

    def pull(self, client: httpx.Client, rng: random.Random, w: Worker) -> None:
        target = w.phone.device.pull_target({"cursor": w.box.cursor, "serial": w.phone.serial, "limit": 200})
        r = request(client, self.journal, rng.choice(self.bases), "GET", target, headers=w.phone.device.signed("GET", target))
        if r is not None and r.status_code == 200:
            w.box.cursor = r.json()["cursor"]
            self.journal.count("pulls answered")

    def lists(self, client: httpx.Client, rng: random.Random) -> None:
        request(client, self.journal, rng.choice(self.bases), "GET", rng.choice(["/api/trust", "/api/status"]))

    def enroll(self, client: httpx.Client, rng: random.Random) -> Worker | None:
        """An agency registers a worker and issues a pass; the worker's new phone enrolls with the code. (Not
        retried: a lost answer leaves a worker without a phone, as a person would ask again.)"""
        base = rng.choice(self.bases)
        with self.lock:
            self.enrolled += 1
            n = self.enrolled
        r = request(client, self.journal, base, "POST", "/api/admin/workers", headers=self.staff,
                    json={"agency_id": self.agency_id, "name": f"浸泡测试{n}", "services": ["cleaning"]})
        if r is None or r.status_code != 200 and r.status_code != 201:
            return None
        r = request(client, self.journal, base, "POST", f"/api/admin/workers/{r.json()['id']}/passes", headers=self.staff, json={})
        if r is None or r.status_code not in (200, 201):
            return None
        priv = crypto.new_signing_key()
        r = request(client, self.journal, rng.choice(self.bases), "POST", "/api/enroll",
                    json={"code": r.json()["code"], "device_pub": crypto.b64u_encode(crypto.public_key(priv))})
        if r is None or r.status_code != 200:
            return None
        body = r.json()
        phone = Phone(priv, body["serial"], crypto.b64u_decode(body["cred"]), crypto.b64u_decode(body["issuer_sig"]), body["secret"])
        reg = request(client, self.journal, rng.choice(self.bases), "POST", "/api/sync/devices",
                      json={"device_pub": crypto.b64u_encode(phone.device.pub)})
        if reg is None or reg.status_code != 200:
            return None
        self.journal.count("phones enrolled")
        return Worker(phone, Box(phone.device))

    # -- the threads --

    def actor(self, index: int, deadline: float) -> None:
        """One thread: its own workers' and households' phones (a phone is driven by one thread at a time)."""
        rng = random.Random(self.rng.random() + index)
        mine_w = [w for i, w in enumerate(self.workers) if i % self.threads == index]
        mine_h = [h for i, h in enumerate(self.households) if i % self.threads == index]
        with httpx.Client(timeout=60) as client:
            while time.monotonic() < deadline:
                op = rng.random()
                if op < 0.40:
                    self.verify(client, rng)
                elif op < 0.62 and mine_w:
                    w = rng.choice(mine_w)
                    self.worker_records(rng, w)
                    self.push(client, rng, w.box, replay=rng.random() < 0.1)
                elif op < 0.72 and mine_h:
                    h = rng.choice(mine_h)
                    self.household_review(rng, h)
                    self.push(client, rng, h.box, replay=rng.random() < 0.1)
                elif op < 0.84 and mine_w:
                    self.pull(client, rng, rng.choice(mine_w))
                elif op < 0.98:
                    self.lists(client, rng)
                else:
                    new = self.enroll(client, rng)
                    if new is not None:
                        mine_w.append(new)
                        with self.lock:
                            self.workers.append(new)
                time.sleep(rng.uniform(0.005, 0.03))
            # the end: send what is still held (the outbox keeps trying until the soak's hard stop)
            for box in [w.box for w in mine_w] + [h.box for h in mine_h]:
                stop = time.monotonic() + 60
                while box.pending() and time.monotonic() < stop:
                    self.push(client, rng, box)

    def faults(self, start: float) -> None:
        """Kill the second process and restart it, drop the database connections, kill the first, drop again."""
        plan = [(0.30, "kill b"), (0.50, "drop"), (0.65, "kill a"), (0.80, "drop")]
        for share, what in plan:
            time.sleep(max(0.0, start + share * self.seconds - time.monotonic()))
            if what == "drop":
                t0 = time.monotonic()
                n = drop_connections(self.db_name)
                self.journal.drops.append((t0, time.monotonic(), n))
                continue
            if what == "kill b":
                base, proc, restart = self.b.base, self.b.proc, self.b.start
            else:
                base, proc, restart = self.a.base, self.a.proc, self.a.start
            killed = time.monotonic()
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            time.sleep(1.0)  # a second with one process down: phones retry against the other
            restart()
            self.journal.kills.append((base, killed, time.monotonic()))

    def run(self) -> dict:
        start = time.monotonic()
        deadline = start + self.seconds
        threads = [threading.Thread(target=self.actor, args=(i, deadline), daemon=True) for i in range(self.threads)]
        threads.append(threading.Thread(target=self.faults, args=(start,), daemon=True))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(1.0, deadline + 180 - time.monotonic()))
            if t.is_alive():
                self.failures.append("a soak thread did not stop within 3 minutes of the end")
        return self.check(time.monotonic() - start)

    # -- the checks --

    def _in_flight_at_kill(self, c: Call) -> bool:
        return any(c.base == base and c.t0 <= killed <= c.t1 for base, killed, _ in self.journal.kills)

    def _retry_at_drop(self, c: Call) -> bool:
        """A 503 "unavailable" (retry) for a request whose database connection was ended under it: in flight while
        the connections were dropped. (A 500 is never excused.)"""
        return c.status == 503 and '"unavailable"' in c.error and any(c.t0 <= t1 and t0 <= c.t1 for t0, t1, _ in self.journal.drops)

    def check(self, elapsed: float) -> dict:
        j = self.journal
        fails = self.failures
        if len(j.kills) < 2 or len(j.drops) < 2:
            fails.append(f"faults not all injected: {len(j.kills)} kills, {len(j.drops)} connection drops")
        answered = [c for c in j.calls if c.status is not None]
        five = [c for c in answered if (c.status or 0) >= 500]
        at_kill = [c for c in five if self._in_flight_at_kill(c)]
        at_drop = [c for c in five if not self._in_flight_at_kill(c) and self._retry_at_drop(c)]
        unexcused = [c for c in five if not self._in_flight_at_kill(c) and not self._retry_at_drop(c)]
        for c in unexcused[:10]:
            during = " (in flight at a connection drop)" if any(c.t0 <= t1 and t0 <= c.t1 for t0, t1, _ in j.drops) else ""
            fails.append(f"{c.status} on {c.method} {c.path} at {c.base}{during}: {c.error}")
        if len(unexcused) > 10:
            fails.append(f"... {len(unexcused)} 5xx answers in all")
        unexpected = [c for c in answered if 400 <= (c.status or 0) < 500]
        for c in unexpected[:10]:
            fails.append(f"unexpected {c.status} on {c.method} {c.path}: {c.error}")
        boxes = [w.box for w in self.workers] + [h.box for h in self.households]
        made = sum(len(b.records) for b in boxes)
        if made == 0:
            fails.append("no record was made")
        statuses: Counter = Counter()
        for box in boxes:
            self._check_box(box, statuses)
        for w in self.workers:
            self._check_pull(w)
        no_answer = [c for c in j.calls if c.status is None]
        return {
            "seconds": round(elapsed, 1),
            "processes": self.bases,
            "requests": len(j.calls),
            "by_path": dict(Counter(f"{c.method} {c.path.split('/api/')[-1].split('/')[0] if '/admin/' not in c.path else 'admin'}"
                                    for c in j.calls)),
            "answers": dict(Counter(str(c.status) for c in answered)),
            "no_answer": len(no_answer),
            "no_answer_kinds": dict(Counter(c.error for c in no_answer)),
            "5xx": len(five),
            "5xx_in_flight_at_kill": len(at_kill),
            "503_in_flight_at_connection_drop": len(at_drop),
            "kills": [{"process": base, "down_s": round(up - killed, 1)} for base, killed, up in j.kills],
            "connection_drops": [n for _, _, n in j.drops],
            "phones": {"workers": len(self.workers), "households": len(self.households)},
            "records_made": made,
            "records_by_receipt": dict(statuses),
            "counts": dict(j.counts),
            "failures": fails,
            "ok": not fails,
        }

    def _check_box(self, box: Box, statuses: Counter) -> None:
        fails = self.failures
        held = {r[0]: (r[1], r[2]) for r in rows(self.url, "SELECT id, body_hash, status FROM sync_records WHERE device_id = ?",
                                                  box.device.id)}
        pending = box.pending()
        if pending:
            fails.append(f"device {box.device.id}: {len(pending)} records never acknowledged")
        for rid, record in box.records.items():
            receipts = box.receipts[rid]
            if rid not in held:
                if receipts:
                    fails.append(f"record {rid} ({record['kind']}): receipt {receipts[0]['status']} but not in the database")
                continue
            digest, status = held[rid]
            if digest != body_hash(record):
                fails.append(f"record {rid}: the database holds other content")
            firsts = [r for r in receipts if r["status"] != "duplicate"]
            if len(firsts) > 1:
                fails.append(f"record {rid}: applied or refused {len(firsts)} times: {[r['status'] for r in firsts]}")
            for r in receipts:
                said = r.get("original") if r["status"] == "duplicate" else r["status"]
                if said != status:
                    fails.append(f"record {rid}: receipt says {r['status']}/{r.get('original')}, the database {status}")
            if receipts:
                statuses[receipts[0]["status"] + ("" if receipts[0]["status"] != "duplicate" else f" of {receipts[0].get('original')}")] += 1
        extra = set(held) - set(box.records)
        if extra:
            fails.append(f"device {box.device.id}: the database holds {len(extra)} records the phone never made")

    def _check_pull(self, w: Worker) -> None:
        """A full pull of the phone gives back exactly its records, with the statuses the database holds."""
        got: dict[str, str] = {}
        cursor = 0
        with httpx.Client(timeout=60) as client:
            for _ in range(1000):
                target = w.phone.device.pull_target({"cursor": cursor, "limit": 500})
                r = client.get(self.a.base + target, headers=w.phone.device.signed("GET", target))
                if r.status_code != 200:
                    self.failures.append(f"final pull of {w.phone.device.id}: {r.status_code} {r.text[:200]}")
                    return
                page = r.json()
                for rec in page["records"]:
                    if rec["id"] in got:
                        self.failures.append(f"pull of {w.phone.device.id}: record {rec['id']} twice")
                    got[rec["id"]] = rec["status"]
                cursor = page["cursor"]
                if not page["more"]:
                    break
        held = dict(rows(self.url, "SELECT id, status FROM sync_records WHERE device_id = ?", w.phone.device.id))
        if got != held:
            missing, extra = set(held) - set(got), set(got) - set(held)
            differ = [i for i in set(got) & set(held) if got[i] != held[i]]
            self.failures.append(f"pull of {w.phone.device.id}: {len(missing)} missing, {len(extra)} extra, {len(differ)} differ")

    def stop(self) -> None:
        for s in (self.b, self.a):
            try:
                s.stop()
            except Exception as e:
                print(f"stopping a server: {type(e).__name__}: {e}", file=sys.stderr)


def soak(seconds: float, *, households: int = 16, threads: int = 4, keep: bool = False) -> dict:
    """Run one soak on a scratch PostgreSQL database (dropped afterwards unless `keep`); answers the summary."""
    name, url = create_database()
    workdir = Path(tempfile.mkdtemp(prefix="doorpass-soak-"))
    try:
        s = Soak(seconds, households=households, threads=threads, workdir=workdir, database=(name, url))
        try:
            summary = s.run()
        finally:
            s.stop()
        summary["logs"] = [str(workdir / "a" / "server.log"), str(workdir / "b.log")]
        if summary["ok"] and not keep:
            shutil.rmtree(workdir, ignore_errors=True)
            del summary["logs"]
        return summary
    finally:
        if keep:
            print(f"kept: database {name}, folder {workdir}", file=sys.stderr)
        else:
            drop_database(name)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 180)),
                   help="how long the phones work (default 180; setup and the final checks add about a minute)")
    p.add_argument("--households", type=int, default=16)
    p.add_argument("--threads", type=int, default=4, help="client threads, each driving its own phones")
    p.add_argument("--keep", action="store_true", help="keep the scratch database and the servers' logs")
    args = p.parse_args(argv)
    if not pg_answers():
        print(f"the soak needs PostgreSQL on {PG_HOST}:{PG_PORT} (trust auth, database `test`)", file=sys.stderr)
        return 2
    summary = soak(args.seconds, households=args.households, threads=args.threads, keep=args.keep)
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    print("soak: " + ("passed" if summary["ok"] else f"FAILED ({len(summary['failures'])} findings)"), file=sys.stderr)
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
