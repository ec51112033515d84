"""Serving the built PWA at `/`, with the SPA fallback to index.html.

The build writes a brotli (`.br`) and a gzip (`.gz`) copy beside every compressible file (pwa/vite.config.ts); a
client gets the smallest one its `Accept-Encoding` allows, with `Vary: Accept-Encoding`, an `ETag` per variant and
`304` on `If-None-Match`. This handler is excluded from the app's gzip middleware (`opt`), so nothing is
compressed twice.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.status_codes import HTTP_304_NOT_MODIFIED

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")

NOT_BUILT = """<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>安心上门证 DoorPass</title>
<body style="font-family:sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.6">
<h1>安心上门证 DoorPass</h1><p>服务器在运行，但前端应用尚未构建（运行 <code>make run</code>）。</p>
<p>The server is running, but the app has not been built (run <code>make run</code>).</p>
<p><a href="/schema/openapi.json">API (OpenAPI)</a></p></body></html>"""


# The opt key the app's CompressionConfig(exclude_opt_key=...) reads: these answers are compressed at build time.
SKIP_COMPRESSION = "precompressed"

# Types worth compressing (the others, PNG icons, are compressed already); the build makes .br and .gz of these.
COMPRESSIBLE = (".js", ".mjs", ".css", ".html", ".wasm", ".svg", ".webmanifest", ".json")
# Best first: (Content-Encoding, suffix of the file the build wrote).
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def accepted(header: str) -> set[str]:
    """The content codings an Accept-Encoding header allows (RFC 9110 §12.5.3: `q=0` refuses, `*` stands for the rest)."""
    allowed: dict[str, bool] = {}
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        allowed["gzip" if name == "x-gzip" else name] = q > 0
    star = allowed.pop("*", False)
    return {coding for coding, _ in ENCODINGS if allowed.get(coding, star)}


def _etag_matches(header: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags


def _file(dist: Path, rel: str) -> Path | None:
    target = (dist / rel).resolve()
    if dist.resolve() not in target.parents or not target.is_file():
        return None
    return target


def _serve(request: Request, path: Path, rel: str) -> Response:
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if rel.startswith("assets/"):
        cache = "public, max-age=31536000, immutable"
    else:
        cache = "no-cache"
    headers = {"Cache-Control": cache}
    body, coding = path, ""
    if path.name.endswith(COMPRESSIBLE):
        headers["Vary"] = "Accept-Encoding"
        allowed = accepted(request.headers.get("accept-encoding", ""))
        changed = path.stat().st_mtime_ns
        for name, suffix in ENCODINGS:
            variant = path.with_name(path.name + suffix)
            # A copy older than its file is stale (the file was replaced after the build): never served.
            if name in allowed and variant.is_file() and variant.stat().st_mtime_ns >= changed:
                body, coding = variant, name
                headers["Content-Encoding"] = name
                break
    stat = body.stat()
    # One tag per representation: the br, gzip and plain bodies of a file differ, so must their ETags.
    etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}{"-" + coding if coding else ""}"'
    headers["ETag"] = etag
    if _etag_matches(request.headers.get("if-none-match", ""), etag):
        headers.pop("Content-Encoding", None)
        return Response(content=b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers, media_type=media)
    return Response(content=body.read_bytes(), media_type=media, headers=headers)


@get(["/", "/{path:path}"], include_in_schema=False, operation_id="app", opt={SKIP_COMPRESSION: True})
async def spa(request: Request, path: str = "") -> Response:
    """The app shell: a file of the build, or index.html for any app route."""
    rel = path.lstrip("/")
    if rel.startswith(("api/", "schema/")) or rel in ("api", "schema"):
        raise NotFoundException()
    dist: Path = request.app.state.settings.pwa_dist
    index = _file(dist, "index.html")
    if index is None:
        return Response(content=NOT_BUILT, media_type="text/html", headers={"Cache-Control": "no-cache"})
    hit = _file(dist, rel) if rel else None
    if hit is not None:
        return _serve(request, hit, rel)
    if "." in rel.rsplit("/", 1)[-1]:  # a missing file, not an app route
        raise NotFoundException()
    return _serve(request, index, "index.html")
