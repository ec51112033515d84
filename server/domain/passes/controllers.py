"""Issuing and enrolling passes, changing their status, serving their photos."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post

from server.auth import admin_only
from server.deps import Context
from server.domain.passes import schemas as s
from server.domain.passes import services as svc


class EnrollController(Controller):
    path = "/api"
    tags = ["passes"]

    @post("/enroll", operation_id="enroll", status_code=200)
    async def enroll(self, data: s.EnrollRequest, ctx: Context) -> s.EnrollResponse:
        """Bind the phone's key to a pass with a one-time activation code."""
        async with ctx.db.transaction() as session:
            return await svc.enroll(session, ctx.master, data, now=ctx.now(), actor=ctx.principal.label)

    @get("/passes/{serial:int}/photo", operation_id="getPassPhoto")
    async def photo(self, serial: int, request: Request, ctx: Context) -> Response:
        """The photo whose digest the pass's credential carries."""
        async with ctx.db.transaction() as session:
            p = await svc.get_pass(session, serial)
            w = p.worker
        etag = f'"{w.photo_digest.hex()}"'
        headers = {"ETag": etag, "Cache-Control": "public, max-age=86400"}
        if etag in request.headers.get("if-none-match", ""):
            return Response(content=b"", status_code=304, headers=headers)
        return Response(content=w.photo, media_type=w.photo_type, headers=headers)


class PassAdminController(Controller):
    path = "/api/admin"
    guards = [admin_only]
    tags = ["admin"]

    @post("/workers/{worker_id:int}/passes", operation_id="issuePass")
    async def issue(self, worker_id: int, data: s.PassIssue, request: Request, ctx: Context) -> s.Activation:
        """Issue a pass to a worker; answers a one-time activation code (older passes are revoked)."""
        async with ctx.db.transaction() as session:
            return await svc.issue_pass(
                session, ctx.master, worker_id, now=ctx.now(), valid_days=data.valid_days or ctx.settings.pass_valid_days,
                ttl=ctx.settings.activation_ttl, actor=ctx.principal.label, base_url=str(request.base_url),
            )

    @post("/passes/{serial:int}/activation", operation_id="newActivationCode")
    async def activation(self, serial: int, request: Request, ctx: Context) -> s.Activation:
        """A fresh activation code for a pass not yet bound to a phone."""
        async with ctx.db.transaction() as session:
            p = await svc.get_pass(session, serial, lock=True)
            return await svc.new_activation(
                session, p, now=ctx.now(), ttl=ctx.settings.activation_ttl, actor=ctx.principal.label,
                base_url=str(request.base_url),
            )

    @get("/passes/{serial:int}", operation_id="getPass")
    async def get_pass(self, serial: int, ctx: Context) -> s.PassView:
        """A pass and its history."""
        async with ctx.db.transaction() as session:
            return await svc.pass_view(session, await svc.get_pass(session, serial))

    @post("/passes/{serial:int}/status", operation_id="setPassStatus", status_code=200)
    async def set_status(self, serial: int, data: s.StatusChange, ctx: Context) -> s.PassView:
        """Set green, yellow or red, with the reason households will read."""
        async with ctx.db.transaction() as session:
            return await svc.set_status(session, ctx.master, serial, data, now=ctx.now(), actor=ctx.principal.label)

    @post("/passes/{serial:int}/suspend", operation_id="suspendPass", status_code=200)
    async def suspend(self, serial: int, data: s.ReasonBody, ctx: Context) -> s.PassView:
        """Suspend a pass (reads red until reinstated)."""
        async with ctx.db.transaction() as session:
            return await svc.suspend(session, ctx.master, serial, data, now=ctx.now(), actor=ctx.principal.label)

    @post("/passes/{serial:int}/reinstate", operation_id="reinstatePass", status_code=200)
    async def reinstate(self, serial: int, ctx: Context) -> s.PassView:
        """Lift a suspension."""
        async with ctx.db.transaction() as session:
            return await svc.reinstate(session, ctx.master, serial, now=ctx.now(), actor=ctx.principal.label)

    @post("/passes/{serial:int}/revoke", operation_id="revokePass", status_code=200)
    async def revoke(self, serial: int, data: s.ReasonBody, ctx: Context) -> s.PassView:
        """Revoke a pass for good."""
        async with ctx.db.transaction() as session:
            return await svc.revoke(session, ctx.master, serial, data, now=ctx.now(), actor=ctx.principal.label)
