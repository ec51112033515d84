"""Online verification."""

from __future__ import annotations

from litestar import Controller, Request, get, post

import crypto
from server import body_limits, limits
from server.deps import Context
from server.domain.verify import schemas as s
from server.domain.verify.services import passes_of, verify_code, verify_qr


class VerifyController(Controller):
    path = "/api"
    tags = ["verify"]
    request_max_body_size = body_limits.SMALL

    @post("/verify", operation_id="verify", status_code=200, middleware=[limits.VERIFY])
    async def verify(self, data: s.VerifyRequest, ctx: Context) -> s.VerifyResponse:
        """Verify a scanned DP1 code online (TOTP row included) and record the check."""
        lists = await ctx.lists.fresh(ctx.db)
        return await verify_qr(ctx.db, ctx.master, lists, ctx.journal, data, now=ctx.now(), verifier=ctx.principal.label,
                               cache=passes_of(ctx.lists))

    @post("/verify/code", operation_id="verifyCode", status_code=200, middleware=[limits.VERIFY_CODE])
    async def verify_code(self, data: s.CodeVerifyRequest, ctx: Context, request: Request) -> s.VerifyResponse:
        """Verify a pass number and the six digits under its QR (for a call or a typed check)."""
        wrong_codes = limits.WrongCodes.of(request.app)
        await wrong_codes.refuse_if_locked(data.serial)
        lists = await ctx.lists.fresh(ctx.db)
        answer = await verify_code(ctx.db, ctx.master, lists, ctx.journal, data, now=ctx.now(),
                                   verifier=ctx.principal.label, cache=passes_of(ctx.lists))
        if answer.result == crypto.Result.BAD_CODE:
            await wrong_codes.wrong(data.serial)
        return answer

    @get("/time", operation_id="serverTime")
    async def time(self, ctx: Context) -> dict:
        """The server's clock, so phones can correct a wrong one."""
        return {"server_time": ctx.now()}
