"""POST /api/sync/push and GET /api/sync/pull."""

from __future__ import annotations

import json
import re
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get, post
from litestar.params import Parameter

import sync
from server import body_limits, limits
from server.deps import Context
from server.domain.lists.services import current
from server.domain.records.feeds import pull_feeds
from server.domain.records.services import attendance_csv, list_complaints, list_reviews, make_appliers
from server.domain.sync.guards import OUTLET, READERS
from server.errors import DomainError, TooManyRequests
from server.schemas import Cursor, MaybeRowId, MaybeSerial, Serial

SessionId = Annotated[str, Parameter(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
"""A training session's id: a UUID, as the outlet's phone made it."""


class SyncController(Controller):
    path = "/api/sync"
    tags = ["sync"]
    request_max_body_size = body_limits.PUSH

    @post("/push", operation_id="syncPush", status_code=200, middleware=[limits.PUSH])
    async def push(self, data: sync.PushRequest, ctx: Context) -> sync.PushResponse:
        """Store a batch of offline records, each once; answer a receipt per record (429 once the device's daily quota is used)."""
        refuse_unknown_versions(data)
        now = ctx.now()
        quota = sync.Quota(records=ctx.settings.sync_records_per_day, bytes=ctx.settings.sync_bytes_per_day)
        try:
            async with ctx.db.transaction() as session:
                appliers = make_appliers(await ctx.lists.get(session), offline_lag_days=ctx.settings.sync_offline_lag_days,
                                         tz=ZoneInfo(ctx.settings.timezone))
                receipts, seq = await sync.push(session, data.device_id, data.records, appliers, now=now, quota=quota)
        except sync.QuotaExceeded as e:
            raise TooManyRequests(
                f"这台手机今天上传的记录已达上限（{quota.records} 条或 {body_limits.size_text(quota.bytes)}），"
                "记录仍保存在手机上，明天会自动继续发送",
                f"This phone has sent today's limit ({quota.records} records or {body_limits.size_text(quota.bytes)}); "
                "its records stay saved on the phone and are sent tomorrow",
                retry_after=e.retry_after, code="device_quota",
            ) from e
        return sync.PushResponse(receipts=receipts, device_seq=seq, server_time=now)

    @get("/pull", operation_id="syncPull")
    async def pull(
        self,
        ctx: Context,
        device_id: Annotated[str, Parameter(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
        cursor: Cursor = 0,
        serial: MaybeSerial = None,
        outlet_id: MaybeRowId = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 500,
    ) -> sync.PullResponse:
        """What this device should hold after `cursor`: its records with receipts, reviews, sessions, the lists."""
        async with ctx.db.read() as session:
            page = await sync.pull(
                session, device_id, cursor, feeds=pull_feeds(device_id, serial=serial, outlet_id=outlet_id), limit=limit
            )
            trust = json.loads((await current(session, "trust")).envelope)
            status = json.loads((await current(session, "status")).envelope)
        return sync.PullResponse(cursor=page.cursor, more=page.more, records=page.records, reviews=page.feeds.get("reviews", []),
                                 sessions=page.feeds.get("sessions", []), trust=trust, status=status, server_time=ctx.now())



def refuse_unknown_versions(data: sync.PushRequest) -> None:
    """A push in a protocol or record schema this server does not speak is answered before any record is read:
    400 `update_required` when the phone's app is older, `unsupported_version` when it is newer. Nothing is stored;
    the phone keeps every record and sends them again after an update."""
    if data.protocol == sync.PROTOCOL and data.schema == sync.SCHEMA:
        return
    theirs = f"protocol {data.protocol}, schema {data.schema}"
    ours = f"protocol {sync.PROTOCOL}, schema {sync.SCHEMA}"
    if data.protocol < sync.PROTOCOL or (data.protocol == sync.PROTOCOL and data.schema < sync.SCHEMA):
        raise DomainError(
            f"请更新应用：这个版本的应用（{theirs}）太旧，服务器需要 {ours}。记录仍保存在手机上，更新后会自动发送",
            f"Please update the app: this version ({theirs}) is too old, the server speaks {ours}. "
            "Its records stay saved on the phone and are sent after the update",
            code="update_required",
        )
    raise DomainError(
        f"服务器暂不支持这个版本的应用（{theirs}，服务器为 {ours}）。记录仍保存在手机上，稍后会自动重试",
        f"The server does not speak this app's version yet ({theirs}; the server speaks {ours}). "
        "Its records stay saved on the phone and are sent again later",
        code="unsupported_version",
    )


class RecordsAdminController(Controller):
    path = "/api/admin"
    tags = ["admin"]
    opt = READERS

    @get("/complaints", operation_id="listComplaints")
    async def complaints(
        self, ctx: Context, agency_id: MaybeRowId = None, serial: MaybeSerial = None,
    ) -> list[dict]:
        """Complaints from households (newest first), for the agency answerable and the regulator."""
        async with ctx.db.read() as session:
            return await list_complaints(ctx.actor(session), agency_id=agency_id, serial=serial)

    @get("/passes/{serial:int}/reviews", operation_id="listReviews")
    async def reviews(self, serial: Serial, ctx: Context) -> list[dict]:
        """Reviews of one pass's visits (newest first)."""
        async with ctx.db.read() as session:
            return await list_reviews(ctx.actor(session), serial)


class TrainingController(Controller):
    path = "/api/admin/training"
    tags = ["admin"]
    opt = OUTLET

    @get("/sessions/{session_id:str}/attendance.csv", operation_id="attendanceCsv", media_type="text/csv")
    async def attendance(self, session_id: SessionId, ctx: Context) -> Response:
        """A training session's attendance as CSV."""
        async with ctx.db.read() as session:
            text = await attendance_csv(ctx.actor(session), session_id)
        return Response(content=text.encode(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": attachment(f"attendance-{session_id}.csv")})


def attachment(filename: str) -> str:
    """A download's Content-Disposition that no file name can break: a plain ASCII name and the exact one (RFC 6266)."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"
