"""The signed trust list and status list, from memory, with strong ETags and caching a CDN can honour.

Both lists are the same bytes for every caller until they change, and they are signed: any cache may hold them, and
a verifier checks them with the root key whatever served them. `Cache-Control: public, max-age=30,
stale-while-revalidate=60`: a browser or CDN reuses a copy for 30 s and may hand out one up to 60 s older while it
fetches the new one in the background, so a status change (a revocation) reaches an online caller within
max-age + stale-while-revalidate + the server's own bound (`services.MAX_AGE`): 92 s at most, and about 30 s for a list
that is in steady demand. Offline verifiers already act on lists hours old; what the 30 s buys is a CDN that answers
almost all requests of a city, with the origin serving one revalidation (`If-None-Match` → 304, a few dozen bytes) per
edge per 30 s. Each answer is served gzipped when the caller accepts it (compressed once per list version, not per
request): the gzipped and the plain answer are different representations, so their strong etags differ (`…-gz`).
"""

from __future__ import annotations

from litestar import Controller, Request, Response, get

from crypto import b64u_encode
from server.deps import Context
from server.domain.lists.services import WireList

CACHE_CONTROL = "public, max-age=30, stale-while-revalidate=60"


def _matches(if_none_match: str, tags: tuple[str, ...]) -> bool:
    """RFC 9110 §13.1.2: `*` or any listed entity tag equal to one of ours under weak comparison."""
    if if_none_match.strip() == "*":
        return True
    sent = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return any(t in sent for t in tags)


def wants_gzip(accept_encoding: str) -> bool:
    """Whether the caller accepts gzip (and did not refuse it with q=0)."""
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "x-gzip", "*"):
            q = params.strip().removeprefix("q=")
            try:
                return not params or float(q) > 0
            except ValueError:
                return True
    return False


def envelope(request: Request, wire: WireList) -> Response:
    """The list's answer: 304 when the caller holds this version, else its bytes (gzipped when accepted)."""
    plain, gz = f'"{wire.etag}"', f'"{wire.etag}-gz"'
    zipped = wants_gzip(request.headers.get("accept-encoding", ""))
    headers = {"ETag": gz if zipped else plain, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if _matches(request.headers.get("if-none-match", ""), (plain, gz)):
        return Response(content=b"", status_code=304, headers=headers)
    if zipped:
        headers["Content-Encoding"] = "gzip"
        return Response(content=wire.gzipped, media_type="application/json", headers=headers)
    return Response(content=wire.body, media_type="application/json", headers=headers)


class ListController(Controller):
    path = "/api"
    tags = ["lists"]
    opt = {"precompressed": True}  # gzipped here once per version: the app's compression middleware stays off

    # The two lists read the process's copy straight from the app's state: no `ctx` to build per request (the
    # busiest routes of all; docs/perf.md).
    @get("/trust", operation_id="getTrustList")
    async def trust(self, request: Request) -> Response:
        """The trust list: issuer keys and the status key, signed by the root key."""
        state = request.app.state
        return envelope(request, (await state.lists.fresh(state.db)).served["trust"])

    @get("/status", operation_id="getStatusList")
    async def status(self, request: Request) -> Response:
        """The status list: every pass's 2-bit status, signed by the status key."""
        state = request.app.state
        return envelope(request, (await state.lists.fresh(state.db)).served["status"])

    @get("/root", operation_id="getRootKey")
    async def root(self, ctx: Context) -> dict:
        """The root public key verifiers pin (the PWA build carries it too)."""
        return {"root_pub": b64u_encode(await ctx.lists.root(ctx.db))}
