"""Online verification."""

from __future__ import annotations

from litestar import Controller, post

from server.deps import Context
from server.domain.verify import schemas as s
from server.domain.verify.services import verify_qr


class VerifyController(Controller):
    path = "/api"
    tags = ["verify"]

    @post("/verify", operation_id="verify", status_code=200)
    async def verify(self, data: s.VerifyRequest, ctx: Context) -> s.VerifyResponse:
        """Verify a scanned DP1 code online (TOTP row included) and record the check."""
        async with ctx.db.transaction() as session:
            return await verify_qr(session, ctx.master, ctx.lists, data, now=ctx.now(), verifier=ctx.principal.label)
