"""Security headers on every response, and request bodies that cannot exhaust the parser.

Strict-Transport-Security is left to the HTTPS proxy in front of us (README, "Behind HTTPS"): we serve plain
HTTP on loopback, where the header would mean nothing.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.types import Message, Scope

from server.errors import DomainError

CSP_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",  # the QR decoder is WebAssembly; no inline script, no eval
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",  # photos are shown from blobs the app keeps offline
    "media-src 'self' blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "font-src 'self'",
    "manifest-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
)
CSP = "; ".join(CSP_DIRECTIVES)
"""The app's policy. A response that sets its own (a photo) keeps its own."""

PERMISSION_DIRECTIVES = (
    "camera=(self)", "geolocation=(self)", "microphone=()", "payment=()", "usb=()", "serial=()", "hid=()",
    "bluetooth=()", "display-capture=()", "fullscreen=(self)",
)
PERMISSIONS = ", ".join(PERMISSION_DIRECTIVES)
"""Camera (scanning) and location (an optional check-in place) for our own pages; nothing else."""

HEADERS: tuple[tuple[bytes, bytes], ...] = tuple(
    (name.encode(), value.encode())
    for name, value in [
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("permissions-policy", PERMISSIONS),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
    ]
)


async def security_headers(message: Message, scope: Scope) -> None:
    """`before_send` hook: add each header the response does not set itself (API, files, errors, 404s)."""
    if message["type"] != "http.response.start":
        return
    headers: list[Any] = list(message.get("headers") or [])
    present = {bytes(name).lower() for name, _ in headers}
    headers.extend((name, value) for name, value in HEADERS if name not in present)
    message["headers"] = headers


class DoorPassRequest(Request):
    """A request whose JSON body nested too deep is a 400, not a RecursionError (msgspec raises one)."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError as e:
            raise DomainError("请求内容嵌套太深", "The request body is nested too deeply", code="invalid_request") from e
