"""Idempotent push: each record stored once, keyed by its id; a receipt for every record."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import anyio
import msgspec
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crypto import CryptoError, b64u_decode, parse_qr, verify_sig
from sync.models import Device, SyncRecord
from sync.wire import RECORD_DOMAIN, AnyRecord, Checkin, Checkout, Receipt

# On PostgreSQL a push does its work without any shared lock (pushes of different devices run side by side), then,
# as its last step, takes this transaction-level advisory lock and gives the rows it wrote their final cursors; the
# lock is held from there to the commit only. So cursors become visible in cursor order: a pull that has seen
# cursor N can never later find a record with a cursor below N (a transaction that took a lower cursor commits
# first). SQLite gets the same from BEGIN IMMEDIATE (one writer at a time).
CURSOR_LOCK = 0x44503153  # "DP1S"

RECURSOR = text(
    "UPDATE sync_records AS s SET cursor = n.c FROM ("
    " SELECT t.id, nextval(pg_get_serial_sequence('sync_records', 'cursor')) AS c"
    " FROM unnest(CAST(:ids AS varchar[])) WITH ORDINALITY AS t(id, o) ORDER BY t.o"
    ") AS n WHERE s.id = n.id RETURNING s.id, s.cursor"
)
"""The commit-time step: fresh cursors, in the order of `ids` (the batch's order), for the rows this push wrote."""

LAST_CURSOR = text("SELECT pg_sequence_last_value(CAST(pg_get_serial_sequence('sync_records', 'cursor') AS regclass))")


async def _cursors_stand(session: AsyncSession, cursors: list[int]) -> bool:
    """Whether the cursors this push's rows drew when they were inserted can stay as their final ones (no `RECURSOR`
    rewrite of every row): they rise in the batch's order, and nobody has drawn a cursor since the last of them.
    Called under `CURSOR_LOCK`. Then every committed row has a lower cursor (each committed push's final cursors were
    drawn before ours), and any push still open holds only cursors it will draw again, above ours, when it takes the
    lock after our commit (its last drawn value is below the sequence's, so it cannot stand). A push alone — the
    common case — so draws one cursor a record and writes each row once."""
    if any(b <= a for a, b in zip(cursors, cursors[1:], strict=False)):
        return False
    return (await session.execute(LAST_CURSOR)).scalar_one() == cursors[-1]


UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

PREFIX = 256
"""Bytes of its canonical body a rejected record keeps (with the hash of the whole body and its size): enough to
see what it was, too little to fill the database with refused records."""

DAY = 86400

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Quota:
    """What one device may store per UTC day. Once it has stored as much, its pushes are refused until the next
    day (`QuotaExceeded`); the batch that crosses the line is still stored whole, so nothing is half-answered."""

    records: int
    bytes: int


class QuotaExceeded(Exception):
    """The device has stored its quota for today; nothing of this batch was stored. Try again in `retry_after` s."""

    def __init__(self, quota: Quota, retry_after: int) -> None:
        super().__init__(f"device quota reached; retry in {retry_after} s")
        self.quota, self.retry_after = quota, retry_after


class Rejected(Exception):
    """An applier refuses a record; the reason is for the person who made it."""

    def __init__(self, reason: str, reason_en: str) -> None:
        super().__init__(reason_en)
        self.reason, self.reason_en = reason, reason_en


class DuplicateOf(Exception):
    """The content is already held under another record id (e.g. the same trainee scanned twice)."""

    def __init__(self, record_id: str) -> None:
        super().__init__(record_id)
        self.record_id = record_id


Applier = Callable[[AsyncSession, Any, str, int], Awaitable[None]]
"""(session, record, device_id, now): store the record, or raise Rejected / DuplicateOf. (The pass a record
is about is read from the record itself, by `_serial_hint`, when its id is claimed.)"""

Prepare = Callable[[AsyncSession, list[Any], str, int], Awaitable[None]]
"""(session, the batch's well-formed records in order, device_id, now): called once before any record is claimed —
set-based look-ups, CPU work in a worker thread, and the row or advisory locks the records need, in a fixed order."""

Bulk = Callable[[AsyncSession, list[Any], str, int], Awaitable[list["Rejected | DuplicateOf | None"]]]
"""(session, a run of claimed records in batch order, device_id, now): apply them all — each as its applier would,
in order, seeing the ones before it — with a few set-based statements; answer one outcome per record (None:
applied). Raise `Contended` when the database refused part of a write (another transaction got there first):
`push` then applies the run again one record at a time."""


class Contended(Exception):
    """A bulk write met rows another transaction stored meanwhile: redo its records one by one."""


class Appliers(dict[str, Applier]):
    """The appliers by record kind, and optionally what applies in bulk: a `prepare` step for the whole batch and
    bulk appliers, each for a group of kinds (`bulks`: (kinds, bulk) pairs; the groups do not overlap). `push` cuts
    the batch into runs of consecutive records of one group and gives each run to its group's bulk applier.
    `bulk` and `bulk_kinds` name one group (the spelling of callers with a single group), and read back as the
    first group. A plain dict of appliers works too: every record then applies one at a time."""

    def __init__(self, appliers: dict[str, Applier], *, prepare: Prepare | None = None, bulk: Bulk | None = None,
                 bulk_kinds: frozenset[str] = frozenset(), bulks: tuple[tuple[frozenset[str], Bulk], ...] = ()) -> None:
        super().__init__(appliers)
        self.prepare = prepare
        self.bulks = (((bulk_kinds, bulk),) if bulk is not None else ()) + bulks
        self.group_of: dict[str, int] = {}
        """Record kind → index of its group in `bulks`."""
        for group, (kinds, _) in enumerate(self.bulks):
            for kind in kinds:
                if kind in self.group_of:
                    raise ValueError(f"record kind {kind!r} is in two bulk groups")
                self.group_of[kind] = group

    @property
    def bulk(self) -> Bulk | None:
        return self.bulks[0][1] if self.bulks else None

    @property
    def bulk_kinds(self) -> frozenset[str]:
        return self.bulks[0][0] if self.bulks else frozenset()


def prefix(body: bytes) -> str:
    """What a rejected record keeps of its body: the first `PREFIX` bytes (a character cut in two is dropped)."""
    return body[:PREFIX].decode(errors="ignore")


def _insert(session: AsyncSession):
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _reason_of(e: msgspec.ValidationError) -> tuple[str, str]:
    text = str(e)
    return f"记录格式不对：{text}", f"The record is not valid: {text}"


async def _keep_rejected(
    session: AsyncSession, insert, device_id: str, raw: object, body: bytes, rid: str | None, index: int,
    reason: str, reason_en: str, now: int,
) -> tuple[Receipt, int]:
    """A signed record that is not of any known shape is still kept (when it has a usable id), with why it was
    refused: its hash, size and first bytes. Returns the receipt and the bytes stored (0: nothing new stored)."""
    if rid is None or not UUID_RE.match(rid):
        return Receipt(index=index, id=rid, status="rejected", reason=reason, reason_en=reason_en, server_time=now), 0
    seq = raw.get("seq") if isinstance(raw, dict) else None
    kind = raw.get("kind") if isinstance(raw, dict) else None
    digest = hashlib.sha256(body).hexdigest()
    kept = prefix(body)
    cursor = (
        await session.execute(
            insert(SyncRecord)
            .values(id=rid, device_id=device_id, device_seq=seq if isinstance(seq, int) and 0 <= seq < 2**53 else 0,
                    kind=str(kind)[:20] if kind else "?", body=kept, body_hash=digest, body_size=len(body),
                    status="rejected", reason=reason[:300], reason_en=reason_en[:300], received_at=now)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(SyncRecord.cursor)
        )
    ).scalar_one_or_none()
    if cursor is None:
        return await _existing(session, rid, digest, index), 0
    receipt = Receipt(index=index, id=rid, status="rejected", reason=reason[:300], reason_en=reason_en[:300], cursor=cursor,
                      server_time=now)
    return receipt, len(kept.encode())


async def _existing(session: AsyncSession, rid: str, digest: str, index: int) -> Receipt:
    old = (await session.execute(select(SyncRecord).where(SyncRecord.id == rid))).scalar_one()
    same = old.body_hash == digest
    return Receipt(
        index=index, id=rid, status="duplicate" if same else "conflict",
        reason=old.reason if same else "同一编号的记录内容不同，未覆盖已保存的记录",
        reason_en=old.reason_en if same else "A record with this id but other content is already stored; it was not overwritten",
        original=old.status if same else None, cursor=old.cursor, server_time=old.received_at,
    )


def _serial_hint(rec: Any) -> int | None:
    """The pass a record is about, read from the record itself (pull finds reviews by it)."""
    if isinstance(rec, (Checkin, Checkout)):
        return rec.serial
    frame = getattr(rec, "frame", None)
    if frame:
        try:
            return parse_qr(frame).cred.serial
        except CryptoError:
            return None
    return None


Outcome = tuple[str, str, str, str | None]
COLLISION = ("rejected", "与已保存的数据冲突（可能已由其他设备记录）",
             "Collides with data already stored (perhaps recorded by another device)", None)


def _outcome(result: Rejected | DuplicateOf | None) -> Outcome:
    if isinstance(result, Rejected):
        return "rejected", result.reason[:300], result.reason_en[:300], None
    if isinstance(result, DuplicateOf):
        return "applied", "", "", result.record_id
    return "applied", "", "", None


async def _apply(appliers: dict[str, Applier], session: AsyncSession, rec: Any, device_id: str, now: int) -> Outcome:
    try:
        await appliers[type(rec).__struct_config__.tag](session, rec, device_id, now)
    except (Rejected, DuplicateOf) as e:
        return _outcome(e)
    return _outcome(None)


def _runs(appliers: dict[str, Applier], recs: list[Any]) -> list[tuple[Bulk | None, list[Any]]]:
    """The claimed records in batch order, cut into runs: (bulk, records) for consecutive records of one bulk group,
    (None, [record]) for each record no group takes."""
    groups = appliers.group_of if isinstance(appliers, Appliers) else {}
    out: list[tuple[Bulk | None, list[Any]]] = []
    last: int | None = None
    for rec in recs:
        group = groups.get(type(rec).__struct_config__.tag)
        if group is None:
            out.append((None, [rec]))
        elif group == last:
            out[-1][1].append(rec)
        else:
            assert isinstance(appliers, Appliers)
            out.append((appliers.bulks[group][1], [rec]))
        last = group
    return out


async def _apply_all(appliers: dict[str, Applier], session: AsyncSession, recs: list[Any], device_id: str,
                     now: int) -> dict[str, Outcome]:
    """Apply the claimed records in batch order: runs of a bulk group in a few statements, the others one by one."""
    outcomes: dict[str, Outcome] = {}
    for bulk, run in _runs(appliers, recs):
        if bulk is not None:
            results = await bulk(session, run, device_id, now)
            outcomes.update((rec.id, _outcome(result)) for rec, result in zip(run, results, strict=True))
        else:
            outcomes[run[0].id] = await _apply(appliers, session, run[0], device_id, now)
    return outcomes


def _used(device: Device, day: int) -> tuple[int, int]:
    """Records and bytes the device stored on UTC `day`."""
    return (device.quota_records, device.quota_bytes) if device.quota_day == day else (0, 0)


def _check_quota(device: Device, quota: Quota | None, now: int) -> None:
    if quota is None:
        return
    records, size = _used(device, now // DAY)
    if records >= quota.records or size >= quota.bytes:
        raise QuotaExceeded(quota, (now // DAY + 1) * DAY - now)


UNSIGNED = ("记录没有这台手机的有效签名，未保存", "The record does not carry this phone's valid signature; it was not stored")
NOT_JSON = ("记录不是有效的 JSON 对象", "The record is not a valid JSON object")


@dataclass(frozen=True)
class Item:
    """One envelope of a push, opened: its record (typed, or why not), the exact body bytes and their signature."""

    index: int
    raw: Any
    """The decoded body (any JSON value), or the envelope itself when it could not be opened."""
    rid: str | None
    rec: Any = None
    error: tuple[str, str] | None = None
    body: bytes = b""
    sig: bytes | None = None
    signed: bool = False
    """False: not a well-formed envelope signed by the pushing device; answered `rejected` and stored nowhere."""


def _open(index: int, envelope: Any, pub: bytes) -> Item:
    """Check one envelope's signature against the device's key, then decode and type its body."""
    if not isinstance(envelope, dict) or set(envelope) != {"body", "sig"} or not isinstance(envelope["body"], str) \
            or not isinstance(envelope["sig"], str):
        rid = envelope.get("id") if isinstance(envelope, dict) and isinstance(envelope.get("id"), str) else None
        return Item(index, envelope, rid, error=UNSIGNED)
    try:
        body = envelope["body"].encode()
    except UnicodeEncodeError:  # a lone surrogate: no phone's JSON.stringify makes one, and no database stores it
        return Item(index, envelope, None, error=NOT_JSON)
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raw = None
    rid = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
    try:
        sig = b64u_decode(envelope["sig"])
    except (CryptoError, ValueError):
        sig = b""
    if len(sig) != 64 or not verify_sig(pub, sig, RECORD_DOMAIN + body):
        return Item(index, raw, rid, error=UNSIGNED)
    if not isinstance(raw, dict):
        return Item(index, raw, rid, error=NOT_JSON, body=body, sig=sig, signed=True)
    try:
        rec = msgspec.convert(raw, AnyRecord)
    except msgspec.ValidationError as e:
        return Item(index, raw, rid, error=_reason_of(e), body=body, sig=sig, signed=True)
    return Item(index, raw, rid, rec=rec, body=body, sig=sig, signed=True)


def _prepare(pub: bytes, envelopes: list[tuple[int, Any]]) -> list[Item]:
    return [_open(index, envelope, pub) for index, envelope in envelopes]


CHUNK = 16
"""The fewest records one worker thread checks: below that, handing work to another thread costs about what it saves."""


def chunks(items: list[T]) -> list[list[T]]:
    """`items` in order, cut into at most one part a core (`os.cpu_count()`) of about equal size, none under `CHUNK`
    items (fewer than 2 × `CHUNK` items: one part)."""
    parts = max(1, min(os.cpu_count() or 1, len(items) // CHUNK))
    size = max(1, -(-len(items) // parts))
    return [items[i:i + size] for i in range(0, len(items), size)]


async def in_threads(fn: Callable[[list[T]], list[R]], items: list[T]) -> list[R]:
    """`fn` over `items`, one worker thread per part of `chunks(items)`, the parts side by side; the results in the
    order of `items`, as `fn(items)` would give them. Ed25519 checks in `cryptography` release the GIL, so a big batch
    is checked on every core while the event loop keeps answering."""
    parts = chunks(items)
    if len(parts) <= 1:
        return await anyio.to_thread.run_sync(fn, items) if items else []
    results: list[list[R]] = [[] for _ in parts]

    async def part(k: int) -> None:
        results[k] = await anyio.to_thread.run_sync(fn, parts[k])

    async with anyio.create_task_group() as tg:
        for k in range(len(parts)):
            tg.start_soon(part, k)
    return [result for done in results for result in done]


async def push(
    session: AsyncSession, device_id: str, raws: list[Any], appliers: dict[str, Applier], *, now: int,
    quota: Quota | None = None,
) -> tuple[list[Receipt], int]:
    """Apply a batch of signed envelopes (docs/devices.md) from a registered device, in the caller's transaction.
    Returns the receipts and the device's new sequence number.

    0. Refuse the whole batch (`QuotaExceeded`, before any work) when the device has stored its `quota` today.
       Open each envelope: a record not signed by this device's key is answered `rejected` and stored nowhere.
    1. Claim the batch's new ids with one INSERT … ON CONFLICT DO NOTHING: the database decides who
       stores a record (a second process with the same batch waits for our commit, then claims none).
    2. Apply the claimed records in one savepoint; appliers refuse before they write. If a write
       collides anyway (another process, another id, the same fact), redo them one savepoint each.
    3. Note the refusals (a refused record keeps only a prefix of its body); answer a receipt per record, in order.

    4. On PostgreSQL, last: take `CURSOR_LOCK` and give the rows written their final cursors (held to the commit,
       which the caller makes right away), so cursors are committed in order and a pull never skips past a record
       that commits late; the cursors drawn at insert stand when nobody drew one since (`_cursors_stand`).
       Everything before runs beside other devices' pushes.
    """
    insert = _insert(session)
    postgres = session.get_bind().dialect.name == "postgresql"
    await session.execute(
        insert(Device).values(id=device_id, seq=0, first_seen=now, last_seen=now).on_conflict_do_nothing(index_elements=["id"])
    )
    device = (await session.execute(select(Device).where(Device.id == device_id).with_for_update())).scalar_one()
    _check_quota(device, quota, now)
    if device.pub is None:
        raise ValueError(f"device {device_id} has no registered key: prove the request first (sync.prove)")
    receipts: dict[int, Receipt] = {}
    stored, stored_bytes = 0, 0
    items: list[tuple[int, Any, str, bytes]] = []  # (index, record, content hash, signed body) of well-formed records
    # Signatures, decoding and hashing are CPU work: done in worker threads, a few side by side for a big batch
    # (`in_threads`); the event loop keeps answering (a verification at the door does not queue behind a morning's
    # backlog being checked).
    sigs: dict[str, bytes] = {}
    written: list[tuple[int, str]] = []  # (index, id) of every row this push inserted into sync_records
    for item in await in_threads(partial(_prepare, device.pub), list(enumerate(raws))):
        if item.error is not None:
            reason, reason_en = item.error
            if not item.signed:
                receipts[item.index] = Receipt(index=item.index, id=item.rid, status="rejected", reason=reason,
                                               reason_en=reason_en, server_time=now)
                continue
            receipts[item.index], size = await _keep_rejected(session, insert, device_id, item.raw, item.body, item.rid,
                                                              item.index, reason, reason_en, now)
            stored, stored_bytes = stored + (size > 0), stored_bytes + size
            if size > 0:
                written.append((item.index, item.rid))  # type: ignore[arg-type]  # kept: it has an id
            continue
        items.append((item.index, item.rec, hashlib.sha256(item.body).hexdigest(), item.body))
        sigs.setdefault(item.rec.id, item.sig)  # type: ignore[arg-type]

    firsts: dict[str, tuple[int, Any, str, bytes]] = {}
    for first in items:
        firsts.setdefault(first[1].id, first)
    if isinstance(appliers, Appliers) and appliers.prepare is not None and firsts:
        await appliers.prepare(session, [rec for _, rec, _, _ in firsts.values()], device_id, now)
    owned: dict[str, int] = {}
    if firsts:
        rows = [
            {"id": rec.id, "device_id": device_id, "device_seq": rec.seq, "kind": type(rec).__struct_config__.tag,
             "body": body.decode(), "body_hash": digest, "body_size": len(body), "status": "applied", "reason": "",
             "reason_en": "", "serial": _serial_hint(rec), "received_at": now, "sig": sigs[rec.id]}
            for _, rec, digest, body in firsts.values()
        ]
        if postgres:  # in id order: two pushes claiming some of the same ids wait on each other in one order (no
            rows.sort(key=lambda row: row["id"])  # deadlock); the final cursors follow the batch's order (RECURSOR)
        # One cached statement, sent as one executemany ("insertmanyvalues": multi-row INSERTs with RETURNING), not a
        # VALUES list of the batch's size compiled anew for every push (the profile in docs/sync.md: "Speed").
        conn = await session.connection()
        claimed = await conn.execute(
            insert(SyncRecord).on_conflict_do_nothing(index_elements=["id"]).returning(SyncRecord.id, SyncRecord.cursor), rows
        )
        owned = {rid: cursor for rid, cursor in claimed.all()}
    mine = [(index, rec) for index, rec, _, _ in sorted(firsts.values(), key=lambda item: item[0]) if rec.id in owned]
    written += [(index, rec.id) for index, rec in mine]

    outcomes: dict[str, Outcome] = {}
    try:
        async with session.begin_nested():
            outcomes = await _apply_all(appliers, session, [rec for _, rec in mine], device_id, now)
    except (IntegrityError, Contended):
        outcomes = {}
        for _, rec in mine:
            try:
                async with session.begin_nested():
                    outcomes[rec.id] = await _apply(appliers, session, rec, device_id, now)
            except IntegrityError:
                outcomes[rec.id] = COLLISION
    for rid, (status, reason, reason_en, _) in outcomes.items():
        size = len(firsts[rid][3])
        if status != "applied":
            kept = prefix(firsts[rid][3])
            size = len(kept.encode())
            await session.execute(
                update(SyncRecord).where(SyncRecord.id == rid).values(status=status, reason=reason, reason_en=reason_en, body=kept,
                                                                      sig=None)
            )
        stored, stored_bytes = stored + 1, stored_bytes + size

    top = max([device.seq, *(rec.seq for _, rec in mine)])
    records, size = _used(device, now // DAY)
    await session.execute(
        update(Device).where(Device.id == device_id).values(
            seq=top, last_seen=now, quota_day=now // DAY, quota_records=records + stored, quota_bytes=size + stored_bytes)
    )
    if postgres and written:
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CURSOR_LOCK})
        ordered = [rid for _, rid in sorted(written)]
        drawn = {**{r.id: r.cursor for r in receipts.values() if r.id is not None and r.cursor is not None}, **owned}
        final: dict[str, int] = {}
        if not await _cursors_stand(session, [drawn[rid] for rid in ordered]):
            final = dict((await session.execute(RECURSOR, {"ids": ordered})).all())
        owned = {rid: final.get(rid, cursor) for rid, cursor in owned.items()}
        for index, receipt in list(receipts.items()):
            if receipt.id in final and receipt.cursor is not None:
                receipts[index] = msgspec.structs.replace(receipt, cursor=final[receipt.id])
    for index, rec, digest, _ in items:
        if rec.id in outcomes and firsts[rec.id][0] == index:
            status, reason, reason_en, dup = outcomes[rec.id]
            receipts[index] = Receipt(index=index, id=rec.id, status=status, reason=reason, reason_en=reason_en,  # type: ignore[arg-type]
                                      duplicate_of=dup, cursor=owned[rec.id], server_time=now)
        else:  # stored before, by another process just now, or repeated within this batch
            receipts[index] = await _existing(session, rec.id, digest, index)
    return [receipts[i] for i in range(len(raws))], top
