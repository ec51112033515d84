"""Public, read-only: the agency directory and a pass's rating from confirmed visits."""

from __future__ import annotations

from litestar import Controller, get

from server.deps import Context
from server.domain.directory import schemas as s
from server.domain.directory import services as svc
from server.schemas import Serial


class DirectoryController(Controller):
    path = "/api"
    tags = ["directory"]

    @get("/directory", operation_id="getDirectory")
    async def directory(self, ctx: Context) -> s.Directory:
        """Every agency's id, name and public phone, and the hotline: the household's phone keeps a copy for offline verdicts."""
        async with ctx.db.read() as session:
            return await svc.directory(session, ctx.settings.hotline, ctx.now())

    @get("/passes/{serial:int}/rating", operation_id="getPassRating")
    async def rating(self, serial: Serial, ctx: Context) -> s.Rating:
        """The worker's rating from confirmed visits only: how many, and the mean stars (no texts, no devices)."""
        async with ctx.db.read() as session:
            return await svc.rating(session, serial)
