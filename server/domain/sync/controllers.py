"""POST /api/sync/push and GET /api/sync/pull."""

from __future__ import annotations

import json
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import Parameter

import sync
from server.auth import admin_only
from server.deps import Context
from server.domain.lists.services import current
from server.domain.records.services import attendance_csv, list_complaints, list_reviews, make_appliers
from server.errors import DomainError


class SyncController(Controller):
    path = "/api/sync"
    tags = ["sync"]

    @post("/push", operation_id="syncPush", status_code=200)
    async def push(self, data: sync.PushRequest, ctx: Context) -> sync.PushResponse:
        """Store a batch of offline records, each once; answer a receipt per record."""
        now = ctx.now()
        async with ctx.db.transaction() as session:
            appliers = make_appliers(await ctx.lists.get(session))
            receipts, seq = await sync.push(session, data.device_id, data.records, appliers, now=now)
        return sync.PushResponse(receipts=receipts, device_seq=seq, server_time=now)

    @get("/pull", operation_id="syncPull")
    async def pull(
        self,
        ctx: Context,
        device_id: Annotated[str, Parameter(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
        cursor: Annotated[int, Parameter(ge=0)] = 0,
        serial: Annotated[int | None, Parameter(ge=0)] = None,
        outlet_id: Annotated[int | None, Parameter(ge=1)] = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 500,
    ) -> sync.PullResponse:
        """What this device should hold after `cursor`: its records with receipts, reviews, sessions, the lists."""
        async with ctx.db.transaction() as session:
            new, more, records, reviews, sessions = await sync.pull(
                session, device_id, cursor, serial=serial, outlet_id=outlet_id, limit=limit
            )
            trust = json.loads((await current(session, "trust")).envelope)
            status = json.loads((await current(session, "status")).envelope)
        return sync.PullResponse(cursor=new, more=more, records=records, reviews=reviews, sessions=sessions,
                                 trust=trust, status=status, server_time=ctx.now())


class RecordsAdminController(Controller):
    path = "/api/admin"
    guards = [admin_only]
    tags = ["admin"]

    @get("/complaints", operation_id="listComplaints")
    async def complaints(
        self, ctx: Context, agency_id: Annotated[int | None, Parameter(ge=1)] = None,
        serial: Annotated[int | None, Parameter(ge=0)] = None,
    ) -> list[dict]:
        """Complaints from households (newest first), for the agency answerable and the regulator."""
        async with ctx.db.transaction() as session:
            return await list_complaints(session, agency_id=agency_id, serial=serial)

    @get("/passes/{serial:int}/reviews", operation_id="listReviews")
    async def reviews(self, serial: int, ctx: Context) -> list[dict]:
        """Reviews of one pass's visits (newest first)."""
        async with ctx.db.transaction() as session:
            return await list_reviews(session, serial)


class TrainingController(Controller):
    path = "/api/admin/training"
    guards = [admin_only]
    tags = ["admin"]

    @get("/sessions/{session_id:str}/attendance.csv", operation_id="attendanceCsv")
    async def attendance(self, session_id: str, ctx: Context) -> Response:
        """A training session's attendance as CSV."""
        if len(session_id) > 36:
            raise DomainError("编号不对", "Invalid id")
        async with ctx.db.transaction() as session:
            text = await attendance_csv(session, session_id)
        return Response(content=text.encode(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="attendance-{session_id}.csv"'})
