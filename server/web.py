"""Serving the built PWA at `/`, with the SPA fallback to index.html."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException

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


def _file(dist: Path, rel: str) -> Path | None:
    target = (dist / rel).resolve()
    if dist.resolve() not in target.parents or not target.is_file():
        return None
    return target


def _serve(path: Path, rel: str) -> Response:
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if rel.startswith("assets/"):
        cache = "public, max-age=31536000, immutable"
    else:
        cache = "no-cache"
    return Response(content=path.read_bytes(), media_type=media, headers={"Cache-Control": cache})


@get(["/", "/{path:path}"], include_in_schema=False, operation_id="app")
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
        return _serve(hit, rel)
    if "." in rel.rsplit("/", 1)[-1]:  # a missing file, not an app route
        raise NotFoundException()
    return _serve(index, "index.html")
