"""Who is asking: decided here and nowhere else.

The authentication middleware turns each request's session cookie into a typed
`Principal` (role, agency, outlet) kept in the request's state. Phones (a
worker's bound device, a household's anonymous one) carry no account and are
`Role.ANONYMOUS` here; what they send is proved by their own keys. Staff sign
in with a password and a TOTP second factor (`server.domain.accounts`).

Route handlers say who may call them with `opt={"roles": ...}` (see
`server/domain/*/guards.py`); the authentication middleware enforces it for
every route (`check_roles`), right after it has found the principal. The role matrix in `docs/roles.md` is the contract, checked route by
route by `tests/integration/api/test_role_matrix.py`. Services receive an
`Actor` (principal, database session, now) and check the objects they touch
against it (an agency's staff never see another agency's workers).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractMiddleware
from litestar.types import Receive, Scope, Send
from sqlalchemy import case, select, update

from server.errors import DomainError, Forbidden, NotFound, Unauthorized

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from server.settings import Settings

SESSION_COOKIE = "dp_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOUCH_EVERY = 300
"""Seconds between writes of a session's `last_seen` (reads never wait on a write for it more often)."""


class Role(StrEnum):
    """Who a party is. Staff roles sign in; phones do not."""

    REGULATOR = "regulator"
    """监管部门: sees every agency, outlet and pass; creates agencies, outlets and accounts."""
    AGENCY_ADMIN = "agency_admin"
    """家政企业管理员: runs one agency's workers, passes and staff accounts."""
    AGENCY_STAFF = "agency_staff"
    """家政企业工作人员: registers workers and issues passes for one agency."""
    OUTLET_STAFF = "outlet_staff"
    """服务网点工作人员: runs one outlet's training sessions."""
    ANONYMOUS = "anonymous"
    """No account: a worker's phone, a household's phone, anyone."""


STAFF_ROLES = frozenset({Role.REGULATOR, Role.AGENCY_ADMIN, Role.AGENCY_STAFF, Role.OUTLET_STAFF})


@dataclass(frozen=True)
class Principal:
    """The party behind a request."""

    role: Role
    account_id: int | None = None
    username: str = ""
    agency_id: int | None = None
    outlet_id: int | None = None
    two_factor: bool = False
    """Signed in with both factors (staff routes other than the account's own need it)."""
    session_hash: str | None = None
    csrf_token: str | None = None

    @property
    def label(self) -> str:
        """How audit records name this party."""
        return f"{self.role.value}:{self.username or '-'}"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def sees_agency(self, agency_id: int | None) -> bool:
        """The regulator sees every agency; agency staff their own; nobody else any."""
        if self.role is Role.REGULATOR:
            return True
        return self.role in (Role.AGENCY_ADMIN, Role.AGENCY_STAFF) and agency_id is not None and agency_id == self.agency_id

    def sees_outlet(self, outlet_id: int | None) -> bool:
        if self.role is Role.REGULATOR:
            return True
        return self.role is Role.OUTLET_STAFF and outlet_id is not None and outlet_id == self.outlet_id


ANONYMOUS = Principal(Role.ANONYMOUS)


def system_principal(name: str) -> Principal:
    """The server itself acting (seed-demo, the command line): audit names it `system:<name>`."""
    return Principal(Role.REGULATOR, username=name, two_factor=True)


@dataclass
class Actor:
    """Who acts, in which transaction, at what time: what every service that changes something receives."""

    principal: Principal
    session: AsyncSession
    now: int

    @property
    def label(self) -> str:
        return self.principal.label

    def agency_scope(self, agency_id: int | None, *, what: tuple[str, str]) -> None:
        """Refuse an object of an agency this actor may not see, as if it did not exist (no probing)."""
        if not self.principal.sees_agency(agency_id):
            raise NotFound(*what)

    def outlet_scope(self, outlet_id: int | None, *, what: tuple[str, str]) -> None:
        if not self.principal.sees_outlet(outlet_id):
            raise NotFound(*what)


def token_hash(token: str) -> str:
    return hashlib.sha256(b"doorpass/session\0" + token.encode()).hexdigest()


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name and v:
                    return v
    return None


async def principal_of_session(session: AsyncSession, token: str, now: int) -> tuple[Principal, bool]:
    """The principal a session cookie stands for (anonymous when it is unknown, expired or its account disabled),
    and whether its idle expiry is due to slide."""
    from server.db.models import Account, StaffSession

    digest = token_hash(token)
    row = (
        await session.execute(
            select(StaffSession, Account).join(Account, Account.id == StaffSession.account_id).where(StaffSession.token_hash == digest)
        )
    ).first()
    if row is None:
        return ANONYMOUS, False
    staff_session, account = row
    if staff_session.expires_at <= now or account.disabled:
        return ANONYMOUS, False
    return Principal(
        role=Role(account.role), account_id=account.id, username=account.username, agency_id=account.agency_id,
        outlet_id=account.outlet_id, two_factor=staff_session.two_factor, session_hash=digest,
        csrf_token=staff_session.csrf_token,
    ), staff_session.last_seen < now - TOUCH_EVERY


class AuthenticationMiddleware(AbstractMiddleware):
    """Resolve the session cookie to a Principal for every HTTP request."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = ANONYMOUS
        token = _cookie(scope, SESSION_COOKIE)
        if token is not None and len(token) <= 128:
            app = scope["app"]
            now = app.state.clock.now()
            async with app.state.db.read() as session:
                principal, due = await principal_of_session(session, token, now)
            if due and principal.session_hash is not None:
                async with app.state.db.transaction() as session:
                    await _touch(session, principal.session_hash, now, app.state.settings)
        scope.setdefault("state", {})["principal"] = principal
        check_roles(scope, principal, scope["route_handler"])
        await self.app(scope, receive, send)


async def _touch(session: AsyncSession, digest: str, now: int, settings: Settings) -> None:
    """Slide the session's idle expiry (never past its maximum age), at most every `TOUCH_EVERY` seconds."""
    from server.db.models import StaffSession

    idle_end, max_end = now + settings.session_idle_seconds, StaffSession.created_at + settings.session_max_seconds
    await session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == digest, StaffSession.last_seen < now - TOUCH_EVERY)
        .values(last_seen=now, expires_at=case((max_end < idle_end, max_end), else_=idle_end))
    )


def principal_of(connection: ASGIConnection) -> Principal:
    """The Principal the middleware put on this request (anonymous outside the middleware, e.g. in unit tests)."""
    return connection.scope.get("state", {}).get("principal", ANONYMOUS)


def roles(*allowed: Role, setup: bool = False) -> dict[str, object]:
    """A handler's `opt`: which staff roles may call it; `setup=True` also lets in a session still setting up two factors."""
    return {"roles": frozenset(allowed), "setup": setup}


def check_roles(scope: Scope, principal: Principal, handler: BaseRouteHandler) -> None:
    """Every route's access rule: a handler without `roles` in its opt is public; otherwise the principal must hold one.

    Called by the authentication middleware for every request, before the handler and before its body is read. Not a
    Litestar guard: Litestar hands each guard a copy of the route handler on every request (`copy(handler)`), which
    was about a tenth of a list's answer time under load (docs/perf.md)."""
    allowed = handler.opt.get("roles")
    if allowed is None:
        return
    if not principal.is_staff:
        raise Unauthorized("请先登录工作人员账号", "Please sign in with a staff account", code="sign_in_required")
    if scope.get("method", "GET") not in SAFE_METHODS:
        # The session cookie rides along with any request the browser makes to us; the token only with ours.
        # (Public routes need none: a staff cookie gives them nothing a phone does not have.)
        sent = _header(scope, CSRF_HEADER)
        if not (principal.csrf_token and hmac.compare_digest(sent.encode(), principal.csrf_token.encode())):
            raise Forbidden("请求缺少有效的安全令牌，请刷新页面后重试", "Missing or wrong CSRF token: reload the page and try again",
                            code="csrf")
    if not principal.two_factor and not handler.opt.get("setup"):
        raise Forbidden("请先设置两步验证（动态验证码）", "Set up two-step verification (authenticator code) first",
                        code="two_factor_required")
    if principal.role not in allowed:
        raise Forbidden("您的账号没有这项权限", "Your account may not do this", code="forbidden")


def _header(scope: Scope, name: str) -> str:
    """A request header's value (the first one sent), "" when absent; `name` in lower case (ASGI lowers names)."""
    key = name.encode()
    for k, v in scope.get("headers", ()):
        if k.lower() == key:
            return v.decode("latin-1")
    return ""


async def provide_principal(request: ASGIConnection) -> Principal:
    """Dependency: the Principal of this request."""
    return principal_of(request)


__all__ = [
    "ANONYMOUS", "Actor", "AuthenticationMiddleware", "DomainError", "Principal", "Role", "STAFF_ROLES", "principal_of",
    "check_roles", "roles", "system_principal", "token_hash",
]
