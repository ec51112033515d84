"""POST /api/sync/devices, POST /api/sync/push and GET /api/sync/pull (signed by the device key: docs/devices.md)."""

from __future__ import annotations

import json
import re
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

import sync
from server import body_limits, limits
from server.deps import Context
from server.domain.lists.services import current
from server.domain.records.feeds import pull_feeds
from server.domain.records.services import attendance_csv, bound_outlet, list_complaints, list_reviews, make_appliers
from server.domain.sync.guards import OUTLET, OUTLET_PHONE, READERS, REGULATOR
from server.domain.sync.services import (
    OutletTie,
    OutletUntie,
    RecordProof,
    bind_outlet,
    pass_device_id,
    pass_status,
    record_proof,
    unbind_outlet,
)
from server.errors import DomainError, ErrorBody, Forbidden, TooManyRequests, Unauthorized
from server.schemas import Cursor, MaybeRowId, MaybeSerial, Serial

DEVICE_401 = ResponseSpec(data_container=ErrorBody, generate_examples=False,
                          description="The device is not proved: device_unproved, or device_clock with the server's time")
DEVICE_403 = ResponseSpec(data_container=ErrorBody, generate_examples=False,
                          description="device_mismatch: the request names another device than the signer")

SessionId = Annotated[str, Parameter(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
"""A training session's id: a UUID, as the outlet's phone made it."""
RecordId = SessionId
"""A record's id: a UUID, as its phone made it."""

# The three headers that prove a sync request (docs/devices.md), declared so the OpenAPI shows them. Optional
# here: a missing one is answered 401 device_unproved by `prove_device`, not a bare 400.
DeviceHeader = Annotated[str | None, HeaderParameter(name=sync.devices.HEADER_DEVICE, required=False, max_length=64,
                                               description="The phone's device id (docs/devices.md)")]
TimeHeader = Annotated[str | None, HeaderParameter(name=sync.devices.HEADER_TIME, required=False, max_length=15,
                                             description="Unix seconds on the phone's server-corrected clock")]
SignatureHeader = Annotated[str | None, HeaderParameter(name=sync.devices.HEADER_SIGNATURE, required=False, max_length=100,
                                                  description="b64u Ed25519 signature of the request by the device key")]


class SyncController(Controller):
    path = "/api/sync"
    tags = ["sync"]
    request_max_body_size = body_limits.PUSH

    @post("/devices", operation_id="syncRegisterDevice", status_code=200, middleware=[limits.DEVICES],
          request_max_body_size=body_limits.SMALL)
    async def register(self, data: sync.DeviceRegister, ctx: Context) -> sync.DeviceRegistered:
        """Register a phone's device key (idempotent): answer the id derived from it."""
        try:
            pub = sync.devices.parse_pub(data.device_pub)
        except sync.BadDeviceKey as e:
            raise DomainError("设备密钥无效：需要 32 字节的 Ed25519 公钥（base64url）",
                              "The device key is not valid: a 32-byte Ed25519 public key (base64url) is needed",
                              code="bad_device_key") from e
        async with ctx.db.transaction() as session:
            device = await sync.register(session, pub, now=ctx.now())
        return sync.DeviceRegistered(device_id=device.id, registered_at=device.registered_at or device.first_seen)

    @post("/push", operation_id="syncPush", status_code=200, middleware=[limits.PUSH],
          responses={401: DEVICE_401, 403: DEVICE_403})
    async def push(
        self, request: Request, data: sync.PushRequest, ctx: Context, x_doorpass_device: DeviceHeader = None,
        x_doorpass_time: TimeHeader = None, x_doorpass_signature: SignatureHeader = None,
    ) -> sync.PushResponse:
        """Store a batch of offline records, each once; answer a receipt per record (429 once the device's daily quota is used)."""
        refuse_unknown_versions(data)
        now = ctx.now()
        body = await request.body()
        quota = sync.Quota(records=ctx.settings.sync_records_per_day, bytes=ctx.settings.sync_bytes_per_day)
        try:
            async with ctx.db.transaction() as session:
                device_id = await prove_device(session, request, body, now, claimed=data.device_id)
                appliers = make_appliers(await ctx.lists.get(session), offline_lag_days=ctx.settings.sync_offline_lag_days,
                                         tz=ZoneInfo(ctx.settings.timezone))
                receipts, seq = await sync.push(session, device_id, data.records, appliers, now=now, quota=quota)
        except sync.QuotaExceeded as e:
            raise TooManyRequests(
                f"这台手机今天上传的记录已达上限（{quota.records} 条或 {body_limits.size_text(quota.bytes)}），"
                "记录仍保存在手机上，明天会自动继续发送",
                f"This phone has sent today's limit ({quota.records} records or {body_limits.size_text(quota.bytes)}); "
                "its records stay saved on the phone and are sent tomorrow",
                retry_after=e.retry_after, code="device_quota",
            ) from e
        return sync.PushResponse(receipts=receipts, device_seq=seq, server_time=now)

    @post("/devices/outlet", operation_id="syncBindOutlet", status_code=200, opt=OUTLET_PHONE,
          request_max_body_size=body_limits.SMALL, responses={401: DEVICE_401, 403: DEVICE_403})
    async def bind_outlet(
        self, request: Request, data: sync.DeviceRef, ctx: Context, x_doorpass_device: DeviceHeader = None,
        x_doorpass_time: TimeHeader = None, x_doorpass_signature: SignatureHeader = None,
    ) -> OutletTie:
        """Tie this phone (signed as a push is) to the outlet of the outlet staff account signed in on it: its training
        sessions and attendance count for that outlet while the account stays active."""
        now = ctx.now()
        body = await request.body()
        async with ctx.db.transaction() as session:
            device_id = await prove_device(session, request, body, now, claimed=data.device_id)
            tie = await bind_outlet(ctx.actor(session), device_id)
        return tie

    @post("/devices/outlet/unbind", operation_id="syncUnbindOutlet", status_code=200,
          request_max_body_size=body_limits.SMALL, responses={401: DEVICE_401, 403: DEVICE_403})
    async def unbind_outlet(
        self, request: Request, data: sync.DeviceRef, ctx: Context, x_doorpass_device: DeviceHeader = None,
        x_doorpass_time: TimeHeader = None, x_doorpass_signature: SignatureHeader = None,
    ) -> OutletUntie:
        """Untie this phone from its outlet (at sign-out); the phone's signature is enough."""
        now = ctx.now()
        body = await request.body()
        async with ctx.db.transaction() as session:
            device_id = await prove_device(session, request, body, now, claimed=data.device_id)
            untied = await unbind_outlet(session, device_id)
        return OutletUntie(device_id=device_id, untied=untied)

    @get("/pull", operation_id="syncPull", responses={401: DEVICE_401, 403: DEVICE_403})
    async def pull(
        self,
        request: Request,
        ctx: Context,
        device_id: Annotated[str, Parameter(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
        cursor: Cursor = 0,
        serial: MaybeSerial = None,
        outlet_id: MaybeRowId = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 500,
        x_doorpass_device: DeviceHeader = None,
        x_doorpass_time: TimeHeader = None,
        x_doorpass_signature: SignatureHeader = None,
    ) -> sync.PullResponse:
        """What this device should hold after `cursor`: its records with receipts, the reviews of its own pass
        (`serial`), the sessions of the outlet it is tied to (`outlet_id`), the lists."""
        async with ctx.db.read() as session:
            await prove_device(session, request, b"", ctx.now(), claimed=device_id)
            if serial is not None and await pass_device_id(session, serial) != device_id:
                raise Forbidden("只有这张证绑定的手机能读取它的评价", "Only the phone this pass is bound to may read its reviews",
                                code="not_your_pass")
            own = None if serial is None else await pass_status(session, serial)
            if outlet_id is not None and await bound_outlet(session, device_id) != outlet_id:
                raise Forbidden("这台手机没有登录这个服务网点的工作人员账号", "This phone is not signed in to a staff account of this outlet",
                                code="outlet_not_bound")
            page = await sync.pull(
                session, device_id, cursor, feeds=pull_feeds(device_id, serial=serial, outlet_id=outlet_id), limit=limit
            )
            trust = json.loads((await current(session, "trust")).envelope)
            status = json.loads((await current(session, "status")).envelope)
        return sync.PullResponse(cursor=page.cursor, more=page.more, records=page.records, reviews=page.feeds.get("reviews", []),
                                 sessions=page.feeds.get("sessions", []), trust=trust, status=status, server_time=ctx.now(),
                                 pass_status=own)


def request_target(request: Request) -> str:
    """The path and query exactly as the phone sent them (what its signature covers)."""
    # ASGI's raw_path is the path alone; some clients (Litestar's test transport) put the query in it too.
    path = bytes(request.scope.get("raw_path") or request.scope["path"].encode()).partition(b"?")[0]
    query = request.scope.get("query_string", b"")
    return (path + (b"?" + query if query else b"")).decode("utf-8", errors="replace")


async def prove_device(session: AsyncSession, request: Request, body: bytes, now: int, *, claimed: str) -> str:
    """The registered device that signed this request (docs/devices.md), which must be the one it names; else
    401 `device_unproved`, 401 `device_clock` (with the server's time) or 403 `device_mismatch`."""
    h = request.headers
    try:
        device_id = await sync.prove(
            session, device_id=h.get(sync.devices.HEADER_DEVICE), time=h.get(sync.devices.HEADER_TIME),
            signature=h.get(sync.devices.HEADER_SIGNATURE), method=request.method, path_and_query=request_target(request),
            body=body, now=now,
        )
    except sync.DeviceClock as e:
        raise Unauthorized(
            "手机时间与服务器相差太多，已按服务器时间校正，请重试", "The phone's clock is too far from the server's; "
            "correct it by the server time and try again", code="device_clock", detail=[{"server_time": e.server_time}],
        ) from e
    except sync.DeviceError as e:
        raise Unauthorized("无法确认这台手机：请先联网登记这台设备", "This phone could not be proved: register the device online first",
                           code="device_unproved") from e
    if claimed != device_id:
        raise Forbidden("请求中的设备编号不是签名的这台手机", "The request names another device than the one that signed it",
                        code="device_mismatch")
    return device_id


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

    @get("/records/{record_id:str}/proof", operation_id="recordProof", opt=REGULATOR)
    async def proof(self, record_id: RecordId, ctx: Context) -> RecordProof:
        """Who made a synced record, and the proof anyone can check: its exact body, its signature and the device key."""
        async with ctx.db.read() as session:
            return await record_proof(session, record_id)

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
