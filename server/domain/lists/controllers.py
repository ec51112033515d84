"""The signed trust list and status list, cacheable, with ETags."""

from __future__ import annotations

from litestar import Controller, Request, Response, get

from crypto import b64u_encode
from server.deps import Context
from server.domain.lists.services import current, root_pub


def _envelope(request: Request, body: str, etag: str) -> Response:
    tag = f'"{etag}"'
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    if tag in request.headers.get("if-none-match", ""):
        return Response(content=b"", status_code=304, headers=headers)
    return Response(content=body.encode(), media_type="application/json", headers=headers)


class ListController(Controller):
    path = "/api"
    tags = ["lists"]

    @get("/trust", operation_id="getTrustList")
    async def trust(self, request: Request, ctx: Context) -> Response:
        """The trust list: issuer keys and the status key, signed by the root key."""
        async with ctx.db.read() as session:
            row = await current(session, "trust")
        return _envelope(request, row.envelope, row.etag)

    @get("/status", operation_id="getStatusList")
    async def status(self, request: Request, ctx: Context) -> Response:
        """The status list: every pass's 2-bit status, signed by the status key."""
        async with ctx.db.read() as session:
            row = await current(session, "status")
        return _envelope(request, row.envelope, row.etag)

    @get("/root", operation_id="getRootKey")
    async def root(self, ctx: Context) -> dict:
        """The root public key verifiers pin (the PWA build carries it too)."""
        async with ctx.db.read() as session:
            return {"root_pub": b64u_encode(await root_pub(session))}
