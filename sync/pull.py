"""Cursor pull: what a device should hold, from a server-assigned monotonic cursor."""

from __future__ import annotations

import json

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Review, SyncRecord
from sync.wire import PulledRecord


async def pull(
    session: AsyncSession, device_id: str, cursor: int, *, serial: int | None, outlet_id: int | None, limit: int
) -> tuple[int, bool, list[PulledRecord], list[dict], list[dict]]:
    """This device's records (with their receipts), reviews about `serial`, sessions of `outlet_id`, after `cursor`."""
    conds = [SyncRecord.device_id == device_id]
    if serial is not None:
        conds.append((SyncRecord.kind == "review") & (SyncRecord.serial == serial) & (SyncRecord.status == "applied"))
    if outlet_id is not None:
        conds.append(SyncRecord.kind == "session")
    rows = (
        await session.execute(
            select(SyncRecord).where(SyncRecord.cursor > cursor, or_(*conds)).order_by(SyncRecord.cursor).limit(limit + 1)
        )
    ).scalars().all()
    more = len(rows) > limit
    rows = rows[:limit]
    own, reviews, sessions = [], [], []
    review_ids = [r.id for r in rows if r.kind == "review" and r.device_id != device_id]
    review_rows = {r.id: r for r in (await session.execute(select(Review).where(Review.id.in_(review_ids)))).scalars()} if review_ids else {}
    for r in rows:
        if r.device_id == device_id:
            own.append(PulledRecord(id=r.id, kind=r.kind, seq=r.device_seq, status=r.status, reason=r.reason,
                                    reason_en=r.reason_en, cursor=r.cursor, received_at=r.received_at))
        if r.kind == "review" and r.id in review_rows:
            rv = review_rows[r.id]
            reviews.append({"id": rv.id, "serial": rv.serial, "stars": rv.stars, "tags": [t for t in rv.tags.split(",") if t],
                            "comment": rv.comment, "at": rv.at})
        if r.kind == "session" and outlet_id is not None:
            body = json.loads(r.body)
            if body.get("outlet_id") == outlet_id:
                sessions.append({"session_id": body["session_id"], "course": body["course"], "day": body["day"]})
    new_cursor = rows[-1].cursor if rows else cursor
    return new_cursor, more, own, reviews, sessions
