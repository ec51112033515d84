"""Reading the agency directory and a pass's rating (read-only)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Agency, Pass, Review
from server.domain.directory import schemas as s
from server.domain.passes.services import get_pass


async def directory(session: AsyncSession, hotline: str, now: int) -> s.Directory:
    rows = (await session.execute(select(Agency.id, Agency.name, Agency.phone).order_by(Agency.id))).all()
    return s.Directory(
        agencies=[s.DirectoryAgency(id=i, name=n, phone=p or "") for i, n, p in rows], hotline=hotline, issued_at=now,
    )


async def rating(session: AsyncSession, serial: int) -> s.Rating:
    """Over the confirmed reviews of every pass of this pass's worker (a new pass after a lost phone keeps them).
    An unknown pass answers 404, like its photo."""
    p = await get_pass(session, serial)
    passes = select(Pass.serial).where(Pass.worker_id == p.worker_id)
    count, mean = (await session.execute(
        select(func.count(Review.id), func.avg(Review.stars)).where(Review.serial.in_(passes), Review.confirmed.is_(True))
    )).one()
    return s.Rating(serial=serial, confirmed_count=int(count or 0), average=round(float(mean), 1) if count else None)
