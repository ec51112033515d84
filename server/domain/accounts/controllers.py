"""Signing in and out, the account's own settings, and managing staff accounts."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.datastructures import Cookie

from server import limits
from server.auth import SESSION_COOKIE
from server.deps import Context
from server.domain.accounts import schemas as s
from server.domain.accounts import services as svc
from server.domain.accounts.guards import MANAGE_ACCOUNTS, SIGNED_IN
from server.errors import DomainError
from server.schemas import RowId as AccountId


def _session_cookie(ctx: Context, value: str, max_age: int) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value=value, path="/", httponly=True, samesite="strict",
                  secure=ctx.settings.secure_cookies, max_age=max_age)


class AuthController(Controller):
    path = "/api/auth"
    tags = ["accounts"]

    @post("/sign-in", operation_id="signIn", status_code=200, middleware=[limits.SIGN_IN])
    async def sign_in(self, data: s.SignIn, ctx: Context) -> Response[s.Me]:
        """Sign in with user name, password and (once set up) the authenticator code; sets the session cookie."""
        async with ctx.db.transaction() as session:
            out = await svc.sign_in(session, ctx.master, ctx.settings, data, now=ctx.now())
        if isinstance(out, DomainError):
            raise out
        token, principal = out
        async with ctx.db.read() as session:
            me = await svc.me(session, principal)
        return Response(me, cookies=[_session_cookie(ctx, token, ctx.settings.session_max_seconds)])

    @post("/sign-out", operation_id="signOut", status_code=200, opt=SIGNED_IN)
    async def sign_out(self, ctx: Context) -> Response[s.Ok]:
        """End this session."""
        async with ctx.db.transaction() as session:
            await svc.sign_out(session, ctx.principal)
        return Response(s.Ok(), cookies=[_session_cookie(ctx, "", 0)])

    @get("/me", operation_id="me", opt=SIGNED_IN)
    async def me(self, ctx: Context) -> s.Me:
        """The signed-in account and this session's CSRF token."""
        async with ctx.db.read() as session:
            return await svc.me(session, ctx.principal)

    @post("/totp/setup", operation_id="totpSetup", status_code=200, opt=SIGNED_IN)
    async def totp_setup(self, ctx: Context) -> s.TotpSetup:
        """A new authenticator secret and its QR code, until it is confirmed."""
        async with ctx.db.transaction() as session:
            return await svc.totp_setup(ctx.actor(session), ctx.master)

    @post("/totp/confirm", operation_id="totpConfirm", status_code=200, opt=SIGNED_IN)
    async def totp_confirm(self, data: s.Code, ctx: Context) -> s.RecoveryCodes:
        """Turn two factors on with the first code; answers the recovery codes, once."""
        async with ctx.db.transaction() as session:
            return await svc.totp_confirm(ctx.actor(session), ctx.master, data)

    @post("/recovery-codes", operation_id="newRecoveryCodes", status_code=200, opt=SIGNED_IN)
    async def recovery_codes(self, data: s.Code, ctx: Context) -> s.RecoveryCodes:
        """New recovery codes (the old ones stop working), for a current authenticator code."""
        async with ctx.db.transaction() as session:
            return await svc.new_recovery_codes(ctx.actor(session), ctx.master, data)

    @post("/password", operation_id="changePassword", status_code=200, opt=SIGNED_IN)
    async def password(self, data: s.PasswordChange, ctx: Context) -> s.Ok:
        """Change this account's password; its other sessions end."""
        async with ctx.db.transaction() as session:
            await svc.change_password(ctx.actor(session), data)
        return s.Ok()


class AccountController(Controller):
    path = "/api/accounts"
    tags = ["accounts"]
    opt = MANAGE_ACCOUNTS

    @post("/", operation_id="createAccount", status_code=201)
    async def create(self, data: s.AccountCreate, ctx: Context) -> s.AccountIssued:
        """Create a staff account; answers its first password, once."""
        async with ctx.db.transaction() as session:
            return await svc.create_account(ctx.actor(session), data)

    @get("/", operation_id="listAccounts")
    async def list(self, ctx: Context) -> list[s.Account]:
        """The accounts this account manages."""
        async with ctx.db.read() as session:
            return await svc.list_accounts(ctx.actor(session))

    @post("/{account_id:int}/disable", operation_id="disableAccount", status_code=200)
    async def disable(self, account_id: AccountId, ctx: Context) -> s.Account:
        """Disable an account and end its sessions."""
        async with ctx.db.transaction() as session:
            return await svc.disable_account(ctx.actor(session), account_id)

    @post("/{account_id:int}/reset", operation_id="resetAccount", status_code=200)
    async def reset(self, account_id: AccountId, ctx: Context) -> s.AccountIssued:
        """A new first password; two factors to set up again."""
        async with ctx.db.transaction() as session:
            return await svc.reset_account(ctx.actor(session), account_id)
