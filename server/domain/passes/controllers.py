"""Issuing and enrolling passes, changing their status, serving their photos."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post

from server import body_limits, limits
from server.deps import Context
from server.domain.passes import guards as g
from server.domain.passes import schemas as s
from server.domain.passes import services as svc
from server.schemas import RowId, Serial

PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/svg+xml"})
PHOTO_HEADERS = {
    # Even an SVG opened on its own cannot run script or load anything.
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Content-Disposition": "inline",
}


class EnrollController(Controller):
    path = "/api"
    tags = ["passes"]
    request_max_body_size = body_limits.SMALL

    @post("/enroll", operation_id="enroll", status_code=200, middleware=[limits.ENROLL])
    async def enroll(self, data: s.EnrollRequest, ctx: Context) -> s.EnrollResponse:
        """Bind the phone's key to a pass with a one-time activation code."""
        async with ctx.db.transaction() as session:
            return await svc.enroll(ctx.actor(session), ctx.master, data)

    @get("/passes/{serial:int}/photo", operation_id="getPassPhoto", media_type="image/*")
    async def photo(self, serial: Serial, request: Request, ctx: Context) -> Response:
        """The photo whose digest the pass's credential carries."""
        async with ctx.db.read() as session:
            p = await svc.get_pass(session, serial)
            w = p.worker
        etag = f'"{w.photo_digest.hex()}"'
        headers = {"ETag": etag, "Cache-Control": "public, max-age=86400", **PHOTO_HEADERS}
        if etag in request.headers.get("if-none-match", ""):
            return Response(content=b"", status_code=304, headers=headers)
        media = w.photo_type if w.photo_type in PHOTO_TYPES else "application/octet-stream"
        return Response(content=w.photo, media_type=media, headers=headers)


class PassAdminController(Controller):
    path = "/api/admin"
    tags = ["admin"]

    @post("/workers/{worker_id:int}/passes", operation_id="issuePass", opt=g.ISSUERS)
    async def issue(self, worker_id: RowId, data: s.PassIssue, request: Request, ctx: Context) -> s.Activation:
        """Issue a pass to a worker; answers a one-time activation code (older passes are revoked)."""
        async with ctx.db.transaction() as session:
            return await svc.issue_pass(
                ctx.actor(session), ctx.master, worker_id, valid_days=data.valid_days or ctx.settings.pass_valid_days,
                ttl=ctx.settings.activation_ttl, base_url=str(request.base_url),
            )

    @post("/passes/{serial:int}/activation", operation_id="newActivationCode", opt=g.ISSUERS)
    async def activation(self, serial: Serial, request: Request, ctx: Context) -> s.Activation:
        """A fresh activation code for a pass not yet bound to a phone."""
        async with ctx.db.transaction() as session:
            actor = ctx.actor(session)
            p = await svc.managed_pass(actor, serial, lock=True)
            return await svc.new_activation(actor, p, ttl=ctx.settings.activation_ttl, base_url=str(request.base_url))

    @post("/passes/{serial:int}/unbind", operation_id="unbindPhone", opt=g.ISSUERS)
    async def unbind(self, serial: Serial, data: s.ReasonBody, request: Request, ctx: Context) -> s.Activation:
        """A lost phone: revoke its pass and answer a new pass's activation code for the worker's new phone."""
        async with ctx.db.transaction() as session:
            return await svc.unbind_phone(ctx.actor(session), ctx.master, serial, data, ttl=ctx.settings.activation_ttl,
                                          base_url=str(request.base_url))

    @get("/passes/{serial:int}", operation_id="getPass", opt=g.READERS)
    async def get_pass(self, serial: Serial, ctx: Context) -> s.PassView:
        """A pass and its history."""
        async with ctx.db.read() as session:
            return await svc.pass_view(session, await svc.managed_pass(ctx.actor(session), serial))

    @post("/passes/{serial:int}/status", operation_id="setPassStatus", status_code=200, opt=g.ISSUERS)
    async def set_status(self, serial: Serial, data: s.StatusChange, ctx: Context) -> s.PassView:
        """Set green, yellow or red, with the reason households will read."""
        async with ctx.db.transaction() as session:
            return await svc.set_status(ctx.actor(session), ctx.master, serial, data)

    @post("/passes/{serial:int}/suspend", operation_id="suspendPass", status_code=200, opt=g.SUSPENDERS)
    async def suspend(self, serial: Serial, data: s.ReasonBody, ctx: Context) -> s.PassView:
        """Suspend a pass (reads red until reinstated)."""
        async with ctx.db.transaction() as session:
            return await svc.suspend(ctx.actor(session), ctx.master, serial, data)

    @post("/passes/{serial:int}/reinstate", operation_id="reinstatePass", status_code=200, opt=g.SUSPENDERS)
    async def reinstate(self, serial: Serial, ctx: Context) -> s.PassView:
        """Lift a suspension."""
        async with ctx.db.transaction() as session:
            return await svc.reinstate(ctx.actor(session), ctx.master, serial)

    @post("/passes/{serial:int}/revoke", operation_id="revokePass", status_code=200, opt=g.REVOKERS)
    async def revoke(self, serial: Serial, data: s.ReasonBody, ctx: Context) -> s.PassView:
        """Revoke a pass for good."""
        async with ctx.db.transaction() as session:
            return await svc.revoke(ctx.actor(session), ctx.master, serial, data)
