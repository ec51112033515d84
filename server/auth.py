"""Who is asking: decided here and nowhere else.

Until accounts and roles land, a request is either anonymous (a household, a
phone) or the admin, who holds the bearer token from the settings. Later this
resolves staff sessions with roles (agency, outlet, regulator); guards and
services only ever see a `Principal`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from server.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class Principal:
    """The party behind a request."""

    kind: str  # anonymous | admin
    id: str

    @property
    def label(self) -> str:
        """How audit records name this party."""
        return f"{self.kind}:{self.id}"

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"


ANONYMOUS = Principal("anonymous", "-")


def resolve_principal(connection: ASGIConnection) -> Principal:
    """The one place that turns a request's credentials into a Principal."""
    cached = connection.scope.get("state", {}).get("principal")
    if cached is not None:
        return cached
    principal = ANONYMOUS
    header = connection.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        expected: str = connection.app.state.admin_token
        if scheme.lower() != "bearer" or not token or not hmac.compare_digest(token.strip().encode(), expected.encode()):
            raise Unauthorized("登录凭证无效", "Invalid credentials")
        principal = Principal("admin", "token")
    connection.scope.setdefault("state", {})["principal"] = principal
    return principal


async def provide_principal(request: "ASGIConnection") -> Principal:
    """Dependency: the Principal of this request."""
    return resolve_principal(request)


def admin_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard: only the admin (later: agency and regulator staff) passes."""
    principal = resolve_principal(connection)
    if principal.kind == "anonymous":
        raise Unauthorized("需要管理员登录", "Admin sign-in required")
    if not principal.is_admin:
        raise Forbidden("没有权限", "Not allowed")
