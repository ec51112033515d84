"""Cursor pull: what a device should hold, from a server-assigned monotonic cursor.

A page holds the device's own records (with their receipts) and whatever the caller's feeds ask for: each
`Feed` names the records of other devices it wants (a condition on `SyncRecord`) and renders the ones in
the page. What a review or a training session means belongs to the server's domains, not here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from sync.models import SyncRecord
from sync.wire import PulledRecord

Render = Callable[[AsyncSession, list[SyncRecord]], Awaitable[list[dict]]]
"""(session, the page's records this feed asked for, in cursor order) -> what the device gets for them."""


@dataclass(frozen=True)
class Feed:
    """Records of other devices a puller should see: which ones (`where`), and what it gets for them (`render`)."""

    name: str
    where: ColumnElement[bool]
    render: Render


@dataclass
class Page:
    """One pull: the cursor to ask from next, whether more waits, own records, and each feed's items by name."""

    cursor: int
    more: bool
    records: list[PulledRecord]
    feeds: dict[str, list[dict]] = field(default_factory=dict)


async def pull(session: AsyncSession, device_id: str, cursor: int, *, feeds: Sequence[Feed] = (), limit: int) -> Page:
    """This device's records (with their receipts) and the records `feeds` ask for, after `cursor`, in cursor order.

    One query pages them all by one cursor; each feed's condition is also selected as a column, so a row
    goes to every feed that asked for it.
    """
    mine = SyncRecord.device_id == device_id
    flags = [f.where.label(f"feed_{i}") for i, f in enumerate(feeds)]
    rows = (
        await session.execute(
            select(SyncRecord, *flags)
            .where(SyncRecord.cursor > cursor, or_(mine, *(f.where for f in feeds)))
            .order_by(SyncRecord.cursor)
            .limit(limit + 1)
        )
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    own = [
        PulledRecord(id=r.id, kind=r.kind, seq=r.device_seq, status=r.status, reason=r.reason, reason_en=r.reason_en,
                     cursor=r.cursor, received_at=r.received_at)
        for r, *_ in rows
        if r.device_id == device_id
    ]
    page = Page(cursor=rows[-1][0].cursor if rows else cursor, more=more, records=own)
    for i, f in enumerate(feeds):
        asked = [row[0] for row in rows if row[1 + i]]
        page.feeds[f.name] = await f.render(session, asked) if asked else []
    return page
