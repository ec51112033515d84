"""Online verification: the DP1 checks with the TOTP row, plus what a household needs to see.

The lists come from the process's memory (`server.domain.lists.services.ListCache`). The scanned pass (its sealed
TOTP secret, the holder's records and the agency's name) is read in one query, and kept for `PASS_MAX_AGE` seconds in
a small per-process cache (`PassCache`) that a re-signed list also empties, so a pass scanned again and again (a
door with a queue, a training session, a benchmark) costs no database round trip. What the cache may make stale is
bounded and never a "yes" that should be a "no" for long:

- the status colour comes from the status list, never from the cached row;
- a cached row answers only a frame of the very credential it holds (a new device or a re-issued pass is a new
  credential: a miss, read afresh); a frame that does not read valid, caution or red from a cached row is checked
  again against a fresh row before it is answered;
- the holder's details (reason text, health check, training) are at most `PASS_MAX_AGE` seconds old.

The TOTP secret stays sealed in the cache (as in its column); it is opened for one check and dropped with it.
Each verification's record goes to the journal, which writes in batches.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from datetime import date, timedelta
from weakref import WeakKeyDictionary

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer, joinedload

import crypto
from crypto import Keyring
from server.db.engine import Database
from server.db.models import Agency, Pass, Worker
from server.domain.lists.services import ListCache, Snapshot
from server.domain.passes.services import totp_secret
from server.domain.registry.services import training_in_date
from server.domain.verify import schemas as s
from server.domain.verify.journal import Entry, Journal
from server.domain.verify.texts import RESULT_TEXT, WRONG_CODE_TEXT
from server.schemas import SERVICE_LABELS, mask_to_services

EPOCH = date(1970, 1, 1)

__all__ = ["ListCache", "PassCache", "load_pass", "verify_code", "verify_qr", "wrong_code_answer"]

PASS_MAX_AGE = 2.0
"""Seconds a looked-up pass row may answer verifications in this process (the lists' own bound, `MAX_AGE`)."""
PASS_CACHE_SIZE = 4096
"""Passes kept at most (the least recently used go first)."""
FIRM = (crypto.Result.VALID, crypto.Result.CAUTION, crypto.Result.RED)
"""Results a cached row may give on its own; any other is checked again against a fresh row."""

Found = tuple[Pass, str] | None
"""A pass (its worker and training records loaded, detached) and its agency's name; None: no such pass."""


async def load_pass(session: AsyncSession, serial: int) -> tuple[Pass, str] | None:
    """The pass with its worker's records and its agency's name, in one query; None for an unknown serial."""
    row = (
        await session.execute(
            select(Pass, Agency.name)
            .outerjoin(Agency, Agency.id == Pass.agency_id)
            .options(joinedload(Pass.worker).options(defer(Worker.photo), joinedload(Worker.trainings)))
            .where(Pass.serial == serial)
        )
    ).unique().first()
    return None if row is None else (row[0], row[1] or "")


class PassCache:
    """Recently looked-up passes of one process, each for `max_age` seconds and only under the lists it was read with
    (a re-signed list, made here or seen from another process, empties it). See the module's docstring."""

    def __init__(self, max_age: float = PASS_MAX_AGE, size: int = PASS_CACHE_SIZE) -> None:
        self.max_age, self.size = max_age, size
        self._rows: OrderedDict[int, tuple[float, Found]] = OrderedDict()
        self._under: tuple[str, str] | None = None
        self.reading: dict[int, asyncio.Future[tuple[float, Found]]] = {}
        """Reads under way, by serial: a request for a pass being read waits for that read."""

    def get(self, serial: int, lists: Snapshot) -> tuple[bool, Found]:
        """(True, row) when a fresh enough row is held, (False, None) otherwise."""
        if self._under != lists.key:
            self._rows.clear()
            self._under = lists.key
            return False, None
        held = self._rows.get(serial)
        if held is None or time.monotonic() - held[0] >= self.max_age:
            return False, None
        self._rows.move_to_end(serial)
        return True, held[1]

    def put(self, serial: int, lists: Snapshot, found: Found, read_at: float) -> None:
        if self._under != lists.key:
            self._rows.clear()
            self._under = lists.key
        self._rows[serial] = (read_at, found)
        self._rows.move_to_end(serial)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)


_pass_caches: WeakKeyDictionary[ListCache, PassCache] = WeakKeyDictionary()


def passes_of(lists: ListCache) -> PassCache:
    """The pass cache that goes with a process's lists (one per app)."""
    found = _pass_caches.get(lists)
    if found is None:
        found = _pass_caches[lists] = PassCache(lists.max_age)
    return found


async def _read(db: Database, serial: int) -> tuple[float, Found]:
    read_at = time.monotonic()
    async with db.read() as session:
        return read_at, await load_pass(session, serial)


async def _lookup(db: Database, serial: int, lists: Snapshot, cache: PassCache | None, *, fresh: bool = False) -> Found:
    """The pass, from the cache when it holds a fresh enough row; else read, once for all the requests that want the
    same pass at the same moment (when a busy pass's row expires, sixteen requests wait for one query, not sixteen)."""
    if cache is None:
        return (await _read(db, serial))[1]
    if not fresh:
        held, found = cache.get(serial, lists)
        if held:
            return found
    reading = cache.reading.get(serial)
    if reading is None:
        reading = cache.reading[serial] = asyncio.ensure_future(_read(db, serial))
        reading.add_done_callback(lambda _: cache.reading.pop(serial, None))
    read_at, found = await asyncio.shield(reading)
    cache.put(serial, lists, found, read_at)
    return found


def day_to_date(d: int) -> date:
    return EPOCH + timedelta(days=d)


def _holder(p: Pass, cred: crypto.Credential, agency_name: str, today: date) -> s.Holder:
    w = p.worker
    hc = w.health_check_until
    return s.Holder(
        serial=cred.serial,
        name=cred.name,
        photo_url=f"/api/passes/{cred.serial}/photo",
        agency=s.AgencyRef(id=cred.agency_id, name=agency_name),
        services=[s.Service(key=k, zh=SERVICE_LABELS[k][0], en=SERVICE_LABELS[k][1]) for k in mask_to_services(cred.services)],
        issued_on=day_to_date(cred.issued_day).isoformat(),
        valid_until=day_to_date(cred.expires_day).isoformat(),
        health_check=s.HealthCheck(valid_until=hc.isoformat() if hc else None, in_date=bool(hc and hc >= today)),
        training=s.Training(
            in_date=training_in_date(w, today),
            records=[
                s.TrainingRecord(course=t.course, day=t.day.isoformat(), hours=t.hours, certificate=t.certificate)
                for t in w.trainings
            ],
        ),
    )


def _answer(
    journal: Journal, result: crypto.Result, found: tuple[Pass, str] | None, cred: crypto.Credential | None,
    status: crypto.StatusList, *, now: int, printed: bool, channel: str, verifier: str, device_id: str | None,
    serial: int | None,
) -> s.VerifyResponse:
    colour, head, head_en, expl, expl_en = RESULT_TEXT[result]
    p, agency_name = found if found is not None else (None, "")
    reasons: list[str] = []
    reasons_en: list[str] = []
    if result in crypto.STATUS_RESULTS and result != crypto.Result.VALID and p is not None and p.reason:
        reasons, reasons_en = [p.reason], [p.reason_en or p.reason]
    holder = None
    if cred is not None and p is not None and result in crypto.IDENTITY_RESULTS:
        holder = _holder(p, cred, agency_name, day_to_date(now // 86400))
    journal.add(Entry(serial=serial, at=now, result=str(result), channel=channel, verifier=verifier, device_id=device_id))
    return s.VerifyResponse(
        result=result, colour=colour, headline=head, headline_en=head_en, explanation=expl, explanation_en=expl_en,
        reasons=reasons, reasons_en=reasons_en, printed_card=printed, holder=holder, status_as_of=status.issued_at,
        server_time=now,
    )


async def verify_code(
    db: Database, master: Keyring, lists: Snapshot, journal: Journal, body: s.CodeVerifyRequest, *, now: int,
    verifier: str, cache: PassCache | None = None,
) -> s.VerifyResponse:
    """Verify a pass number and its current six-digit code (docs/spec/dp1.md §9.6).

    Only a right code tells anything about the pass: a wrong code, an unknown number and a pass not yet
    activated get one and the same answer (`wrong_code_answer`), so pass numbers cannot be enumerated.
    """
    trust, status = lists.trust, lists.status
    code = int(body.code)
    for fresh in (False, True):
        found = await _lookup(db, body.serial, lists, cache, fresh=fresh)
        p = found[0] if found is not None else None
        secret = totp_secret(master, p) if p is not None and p.cred is not None and p.issuer_sig is not None else None
        right = secret is not None and crypto.check_code_now(secret, code, now)
        if right or fresh or cache is None:
            break
    if p is None or p.cred is None or p.issuer_sig is None or secret is None or not right:
        journal.add(Entry(serial=body.serial, at=now, result=str(crypto.Result.BAD_CODE), channel="code",
                          verifier=verifier, device_id=body.device_id))
        return wrong_code_answer(status, now)
    verdict = crypto.verify_code(p.cred, p.issuer_sig, code, now, trust, status, secret=secret)
    secret = None
    return _answer(journal, verdict.result, found, verdict.cred, status, now=now, printed=False, channel="code",
                   verifier=verifier, device_id=body.device_id, serial=body.serial)


def wrong_code_answer(status: crypto.StatusList, now: int) -> s.VerifyResponse:
    """`bad_code` and nothing about the pass: no holder, no reasons."""
    colour, head, head_en, expl, expl_en = WRONG_CODE_TEXT
    return s.VerifyResponse(
        result=crypto.Result.BAD_CODE, colour=colour, headline=head, headline_en=head_en, explanation=expl,
        explanation_en=expl_en, reasons=[], reasons_en=[], printed_card=False, holder=None,
        status_as_of=status.issued_at, server_time=now,
    )


async def verify_qr(
    db: Database, master: Keyring, lists: Snapshot, journal: Journal, body: s.VerifyRequest, *, now: int, verifier: str,
    cache: PassCache | None = None,
) -> s.VerifyResponse:
    """Verify a scanned code as the server, record the check (in the journal), and say what it means."""
    try:
        parsed = crypto.parse_qr(body.qr)
    except crypto.CryptoError:
        parsed = None
    found: Found = None
    result = crypto.Result.MALFORMED
    for fresh in (False, True):
        if parsed is not None:
            found = await _lookup(db, parsed.cred.serial, lists, cache, fresh=fresh)
            if found is not None and found[0].cred != parsed.cred_bytes:
                found = None  # the server never signed this credential for that serial (or a cached row is older)
        result = _check(master, lists, body.qr, parsed, found, now)
        if result in FIRM or fresh or cache is None or parsed is None:
            break
    return _answer(
        journal, result, found, parsed.cred if parsed is not None else None, lists.status, now=now,
        printed=parsed is not None and parsed.kind == "card", channel="qr", verifier=verifier, device_id=body.device_id,
        serial=parsed.cred.serial if parsed is not None else None,
    )


def _check(master: Keyring, lists: Snapshot, qr: str, parsed: crypto.Parsed | None, found: Found, now: int) -> crypto.Result:
    """The DP1 verdict with the TOTP row; the TOTP secret is opened for this one check and dropped with it.

    The frame is parsed once (`parsed`), and a credential the server holds as issued (`found`: the row's credential
    and issuer signature, which the caller has matched to the frame's) costs no second issuer-signature check: one
    Ed25519 check a verification (the device's), not two (`crypto.verify`, `issued`)."""
    secret = totp_secret(master, found[0]) if found is not None and parsed is not None and parsed.kind == "live" else None
    p = found[0] if found is not None else None
    issued = (p.cred, p.issuer_sig) if p is not None and p.cred is not None and p.issuer_sig is not None else None
    result = crypto.verify(qr, now, lists.trust, lists.status, secret=secret, parsed=parsed, issued=issued).result
    if parsed is not None and parsed.kind == "live" and secret is None and result in crypto.STATUS_RESULTS:
        return crypto.Result.BAD_CODE  # online, and the server holds no secret for this pass: the code cannot be right
    return result
