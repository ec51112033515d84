"""Online verification."""

from __future__ import annotations

from litestar import Controller, get, post

from server.deps import Context
from server.domain.verify import schemas as s
from server.domain.verify.services import verify_code, verify_qr


class VerifyController(Controller):
    path = "/api"
    tags = ["verify"]

    @post("/verify", operation_id="verify", status_code=200)
    async def verify(self, data: s.VerifyRequest, ctx: Context) -> s.VerifyResponse:
        """Verify a scanned DP1 code online (TOTP row included) and record the check."""
        async with ctx.db.transaction() as session:
            return await verify_qr(session, ctx.master, ctx.lists, data, now=ctx.now(), verifier=ctx.principal.label)

    @post("/verify/code", operation_id="verifyCode", status_code=200)
    async def verify_code(self, data: s.CodeVerifyRequest, ctx: Context) -> s.VerifyResponse:
        """Verify a pass number and the six digits under its QR (for a call or a typed check)."""
        async with ctx.db.transaction() as session:
            return await verify_code(session, ctx.master, ctx.lists, data, now=ctx.now(), verifier=ctx.principal.label)

    @get("/time", operation_id="serverTime")
    async def time(self, ctx: Context) -> dict:
        """The server's clock, so phones can correct a wrong one."""
        return {"server_time": ctx.now()}
