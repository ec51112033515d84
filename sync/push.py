"""Idempotent push: each record stored once, keyed by its id; a receipt for every record."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Device, SyncRecord
from sync.wire import AnyRecord, Receipt

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class _Stored(Exception):
    """The id turned out to be stored already."""


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


Applier = Callable[[AsyncSession, Any, str, int], Awaitable[int | None]]
"""(session, record, device_id, now) -> serial the record is about (or None); raises Rejected / DuplicateOf."""



def canonical(raw: object) -> bytes:
    return json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _insert(session: AsyncSession):  # type: ignore[no-untyped-def]
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


def _reason_of(e: msgspec.ValidationError) -> tuple[str, str]:
    text = str(e)
    return f"记录格式不对：{text}", f"The record is not valid: {text}"


async def _keep_rejected(
    session: AsyncSession, insert, device_id: str, raw: object, rid: str | None, index: int,  # type: ignore[no-untyped-def]
    reason: str, reason_en: str, now: int,
) -> Receipt:
    """A record that is not of any known shape is still kept (when it has a usable id), with why it was refused."""
    if rid is None or not UUID_RE.match(rid):
        return Receipt(index=index, id=rid, status="rejected", reason=reason, reason_en=reason_en, server_time=now)
    seq = raw.get("seq") if isinstance(raw, dict) else None
    kind = raw.get("kind") if isinstance(raw, dict) else None
    body = canonical(raw)
    digest = hashlib.sha256(body).hexdigest()
    cursor = (
        await session.execute(
            insert(SyncRecord)
            .values(id=rid, device_id=device_id, device_seq=seq if isinstance(seq, int) and 0 <= seq < 2**53 else 0,
                    kind=str(kind)[:20] if kind else "?", body=body.decode(), body_hash=digest, status="rejected",
                    reason=reason[:300], reason_en=reason_en[:300], received_at=now)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(SyncRecord.cursor)
        )
    ).scalar_one_or_none()
    if cursor is None:
        return await _existing(session, rid, digest, index)
    return Receipt(index=index, id=rid, status="rejected", reason=reason[:300], reason_en=reason_en[:300], cursor=cursor, server_time=now)


async def _existing(session: AsyncSession, rid: str, digest: str, index: int) -> Receipt:
    old = (await session.execute(select(SyncRecord).where(SyncRecord.id == rid))).scalar_one()
    same = old.body_hash == digest
    return Receipt(
        index=index, id=rid, status="duplicate" if same else "conflict",
        reason=old.reason if same else "同一编号的记录内容不同，未覆盖已保存的记录",
        reason_en=old.reason_en if same else "A record with this id but other content is already stored; it was not overwritten",
        original=old.status if same else None, cursor=old.cursor, server_time=old.received_at,
    )


async def push(
    session: AsyncSession, device_id: str, raws: list[Any], appliers: dict[str, Applier], *, now: int
) -> tuple[list[Receipt], int]:
    """Apply a batch in the caller's transaction. Returns the receipts and the device's new sequence number."""
    insert = _insert(session)
    await session.execute(
        insert(Device).values(id=device_id, seq=0, first_seen=now, last_seen=now).on_conflict_do_nothing(index_elements=["id"])
    )
    device = (await session.execute(select(Device).where(Device.id == device_id).with_for_update())).scalar_one()
    receipts: list[Receipt] = []
    top = device.seq
    ids = [r["id"] for r in raws if isinstance(r, dict) and isinstance(r.get("id"), str)]
    known = set((await session.execute(select(SyncRecord.id).where(SyncRecord.id.in_(ids)))).scalars()) if ids else set()
    for index, raw in enumerate(raws):
        rid = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
        try:
            rec = msgspec.convert(raw, AnyRecord)
        except msgspec.ValidationError as e:
            reason, reason_en = _reason_of(e)
            receipts.append(await _keep_rejected(session, insert, device_id, raw, rid, index, reason, reason_en, now))
            continue
        digest = hashlib.sha256(canonical(raw)).hexdigest()
        if rec.id in known:
            receipts.append(await _existing(session, rec.id, digest, index))
            continue
        kind = type(rec).__struct_config__.tag
        status, reason, reason_en, serial, dup = "applied", "", "", None, None
        try:
            async with session.begin_nested():
                try:
                    serial = await appliers[kind](session, rec, device_id, now)
                except Rejected as r:
                    status, reason, reason_en = "rejected", r.reason[:300], r.reason_en[:300]
                except DuplicateOf as d:
                    dup = d.record_id
                cursor = (
                    await session.execute(
                        insert(SyncRecord)
                        .values(id=rec.id, device_id=device_id, device_seq=rec.seq, kind=kind, body=canonical(raw).decode(),
                                body_hash=digest, status=status, reason=reason, reason_en=reason_en, serial=serial,
                                received_at=now)
                        .on_conflict_do_nothing(index_elements=["id"])
                        .returning(SyncRecord.cursor)
                    )
                ).scalar_one_or_none()
                if cursor is None:
                    raise _Stored()
        except (_Stored, IntegrityError):
            # Another process stored this id first (its transaction committed while ours waited on the
            # unique key), or the domain write collided with its copy: answer with what is stored.
            if (await session.execute(select(SyncRecord.id).where(SyncRecord.id == rec.id))).first() is not None:
                receipts.append(await _existing(session, rec.id, digest, index))
                continue
            raise
        known.add(rec.id)
        top = max(top, rec.seq)
        receipts.append(Receipt(index=index, id=rec.id, status=status, reason=reason, reason_en=reason_en,
                                duplicate_of=dup, cursor=cursor, server_time=now))
    await session.execute(update(Device).where(Device.id == device_id).values(seq=top, last_seen=now))
    return receipts, top
