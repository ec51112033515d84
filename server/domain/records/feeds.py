"""What the pull carries besides a device's own records: the feeds of the records domain (`sync.Feed`).

- reviews: applied reviews about the worker's pass (`serial`), made on other phones; the pass screen shows the
  rating. Sent as the `reviews` table holds them.
- sessions: training sessions opened on any staff phone, sent to the phones of their outlet, so a second staff
  phone can join a session another opened.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import sync
from server.db.models import Review
from sync.models import SyncRecord


def reviews_feed(serial: int, device_id: str) -> sync.Feed:
    """Applied reviews about `serial` from devices other than `device_id`, as {id, serial, stars, tags, comment, at}."""

    async def render(session: AsyncSession, rows: list[SyncRecord]) -> list[dict]:
        found = {r.id: r for r in (await session.execute(select(Review).where(Review.id.in_([x.id for x in rows])))).scalars()}
        return [
            {"id": rv.id, "serial": rv.serial, "stars": rv.stars, "tags": [t for t in rv.tags.split(",") if t],
             "comment": rv.comment, "at": rv.at}
            for rv in (found[x.id] for x in rows if x.id in found)
        ]

    where = (
        (SyncRecord.kind == "review") & (SyncRecord.serial == serial) & (SyncRecord.status == "applied")
        & (SyncRecord.device_id != device_id)
    )
    return sync.Feed(name="reviews", where=where, render=render)


def sessions_feed(outlet_id: int) -> sync.Feed:
    """Applied training sessions of `outlet_id`, as {session_id, course, day}.

    Sessions carry their outlet only in the record body, so the feed asks for every applied session record and
    keeps its outlet's: the cursor moves past the others' as it always has.
    """

    async def render(session: AsyncSession, rows: list[SyncRecord]) -> list[dict]:
        out = []
        for row in rows:
            body = json.loads(row.body)  # applied: the whole body, as pushed
            if body.get("outlet_id") == outlet_id:
                out.append({"session_id": body["session_id"], "course": body["course"], "day": body["day"]})
        return out

    return sync.Feed(name="sessions", where=(SyncRecord.kind == "session") & (SyncRecord.status == "applied"), render=render)


def pull_feeds(device_id: str, *, serial: int | None, outlet_id: int | None) -> list[sync.Feed]:
    """The feeds a pull asked for: reviews when it names a pass, sessions when it names an outlet."""
    feeds = []
    if serial is not None:
        feeds.append(reviews_feed(serial, device_id))
    if outlet_id is not None:
        feeds.append(sessions_feed(outlet_id))
    return feeds
