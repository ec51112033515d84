"""Staff accounts: passwords (argon2id), the TOTP second factor, recovery codes, sessions, lock-out.

Every function that changes something takes an `Actor` and checks it may; sign-in, which has no actor yet,
takes the database session and the time.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import secrets

import anyio
import pyotp
import segno
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crypto import Keyring
from server.auth import Actor, Principal, Role, token_hash
from server.db.models import Account, Agency, Outlet, StaffSession
from server.domain.accounts import schemas as s
from server.errors import Conflict, DomainError, Forbidden, NotFound, TooManyRequests, Unauthorized
from server.secrets import open_field, seal_field
from server.settings import Settings

HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST) if os.environ.get("DOORPASS_TEST_FAST_HASH") == "1" \
    else PasswordHasher()
"""argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile). The test suite alone sets
`DOORPASS_TEST_FAST_HASH=1` for the cheapest parameters; a hash made so is rehashed at the next sign-in without it."""
_DUMMY = HASHER.hash("doorpass: a password nobody has")
MIN_PASSWORD = 10
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
ISSUER = "DoorPass 安心上门证"
NOT_FOUND = ("找不到这个账号", "No such account")
SIGN_IN_FAILED = ("用户名、密码或验证码不对", "Wrong user name, password or code")


# ---------------------------------------------------------------- secrets of an account


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(HASHER.hash, password)


async def password_matches(encoded: str, password: str) -> bool:
    """argon2 runs off the event loop: a sign-in never stalls other requests."""

    def check() -> bool:
        try:
            return HASHER.verify(encoded, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(check)


def new_password() -> str:
    """A first password to hand over: 16 letters and digits in four groups."""
    return "-".join("".join(secrets.choice(RECOVERY_ALPHABET.lower()) for _ in range(4)) for _ in range(4))


def check_new_password(username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD or password.strip().lower() == username.lower():
        raise DomainError(f"新密码至少 {MIN_PASSWORD} 个字符，且不能与用户名相同",
                          f"The new password needs at least {MIN_PASSWORD} characters and must differ from the user name",
                          code="weak_password")


def _totp(master: Keyring, account: Account) -> pyotp.TOTP | None:
    if account.totp_secret_sealed is None:
        return None
    return pyotp.TOTP(open_field(master, "accounts", "totp_secret_sealed", account.id, account.totp_secret_sealed).decode())


def _recovery_hash(code: str) -> str:
    normal = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(b"doorpass/recovery\0" + normal.encode()).hexdigest()


def _new_recovery_codes(account: Account) -> list[str]:
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(8)) for _ in range(RECOVERY_CODES)]
    codes = [f"{c[:4]}-{c[4:]}" for c in codes]
    account.recovery_hashes = ",".join(_recovery_hash(c) for c in codes)
    return codes


def _accept_totp(master: Keyring, account: Account, code: str, now: int) -> bool:
    """A current six-digit code (one step of clock drift either way), each step good once."""
    totp = _totp(master, account)
    digits = code.strip().replace(" ", "")
    if totp is None or len(digits) != 6 or not digits.isdigit():
        return False
    step = now // 30
    for st in (step - 1, step, step + 1):
        if st > account.totp_last_step and hmac.compare_digest(totp.at(st * 30), digits):
            account.totp_last_step = st
            return True
    return False


def _accept_recovery(account: Account, code: str) -> bool:
    """An unused recovery code, spent by using it."""
    hashes = [h for h in account.recovery_hashes.split(",") if h]
    digest = _recovery_hash(code)
    for h in hashes:
        if hmac.compare_digest(h, digest):
            hashes.remove(h)
            account.recovery_hashes = ",".join(hashes)
            return True
    return False


# ---------------------------------------------------------------- views


async def me(session: AsyncSession, principal: Principal) -> s.Me:
    account = await _account(session, principal.account_id)
    agency = await session.get(Agency, account.agency_id) if account.agency_id else None
    outlet = await session.get(Outlet, account.outlet_id) if account.outlet_id else None
    return s.Me(
        id=account.id, username=account.username, display_name=account.display_name, role=account.role,  # type: ignore[arg-type]
        agency_id=account.agency_id, agency_name=agency.name if agency else None, outlet_id=account.outlet_id,
        outlet_name=outlet.name if outlet else None, totp_enabled=account.totp_enabled,
        must_change_password=account.must_change_password, csrf_token=principal.csrf_token or "",
    )


def account_view(a: Account) -> s.Account:
    return s.Account(id=a.id, username=a.username, display_name=a.display_name, role=a.role,  # type: ignore[arg-type]
                     agency_id=a.agency_id, outlet_id=a.outlet_id, totp_enabled=a.totp_enabled, disabled=a.disabled,
                     locked_until=a.locked_until, created_at=a.created_at)


async def _account(session: AsyncSession, account_id: int | None, *, lock: bool = False) -> Account:
    stmt = select(Account).where(Account.id == account_id)
    if lock:
        stmt = stmt.with_for_update()
    account = (await session.execute(stmt)).scalar_one_or_none() if account_id is not None else None
    if account is None:
        raise NotFound(*NOT_FOUND)
    return account


# ---------------------------------------------------------------- signing in and out


async def sign_in(
    session: AsyncSession, master: Keyring, settings: Settings, body: s.SignIn, *, now: int
) -> tuple[str, Principal] | DomainError:
    """Check password and second factor; answer a new session token, or the refusal.

    A refusal is returned, not raised, so the caller commits what it counted (failed attempts, a lock-out)
    before answering it.
    """
    account = (
        await session.execute(select(Account).where(Account.username == body.username.strip().lower()).with_for_update())
    ).scalar_one_or_none()
    if account is None or account.disabled:
        await password_matches(_DUMMY, body.password)  # the same work, so timing does not tell names apart
        return Unauthorized(*SIGN_IN_FAILED, code="sign_in_failed")
    if account.locked_until > now:
        wait = account.locked_until - now
        return TooManyRequests(f"错误次数过多，账号已锁定，请 {wait // 60 + 1} 分钟后再试",
                              f"Too many failed attempts: the account is locked, try again in {wait // 60 + 1} min",
                              retry_after=wait, code="account_locked")
    if not await password_matches(account.password_hash, body.password):
        return _failed(account, settings, now)
    two_factor = False
    if account.totp_enabled:
        if not body.otp:
            return Unauthorized("请输入手机验证器上的 6 位动态验证码", "Enter the 6-digit code from your authenticator app",
                               code="otp_required")
        if not (_accept_totp(master, account, body.otp, now) or _accept_recovery(account, body.otp)):
            return _failed(account, settings, now)
        two_factor = True
    account.failed_sign_ins = 0
    if HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = await hash_password(body.password)
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    session.add(StaffSession(token_hash=token_hash(token), account_id=account.id, csrf_token=csrf, two_factor=two_factor,
                             created_at=now, last_seen=now, expires_at=now + min(settings.session_idle_seconds,
                                                                                 settings.session_max_seconds)))
    await session.execute(delete(StaffSession).where(StaffSession.expires_at < now - settings.session_max_seconds))
    principal = Principal(role=Role(account.role), account_id=account.id, username=account.username,
                          agency_id=account.agency_id, outlet_id=account.outlet_id, two_factor=two_factor,
                          session_hash=token_hash(token), csrf_token=csrf)
    return token, principal


def _failed(account: Account, settings: Settings, now: int) -> DomainError:
    """Count a wrong password or code; lock the account after too many in a row."""
    account.failed_sign_ins += 1
    if account.failed_sign_ins >= settings.sign_in_lock_after:
        account.failed_sign_ins = 0
        account.locked_until = now + settings.sign_in_lock_seconds
    return Unauthorized(*SIGN_IN_FAILED, code="sign_in_failed")


async def sign_out(session: AsyncSession, principal: Principal) -> None:
    if principal.session_hash:
        await session.execute(delete(StaffSession).where(StaffSession.token_hash == principal.session_hash))


# ---------------------------------------------------------------- the account's own settings


async def totp_setup(actor: Actor, master: Keyring) -> s.TotpSetup:
    """A new authenticator secret for an account without one in force (confirmed by `totp_confirm`)."""
    account = await _account(actor.session, actor.principal.account_id, lock=True)
    if account.totp_enabled:
        raise Conflict("两步验证已经设置；如需更换手机，请管理员重置账号", "Two-step verification is already set up; "
                       "to move to a new phone, ask an administrator to reset the account", code="totp_enabled")
    secret = pyotp.random_base32()
    account.totp_secret_sealed = seal_field(master, "accounts", "totp_secret_sealed", account.id, secret.encode())
    uri = pyotp.TOTP(secret).provisioning_uri(name=account.username, issuer_name=ISSUER)
    out = io.BytesIO()
    segno.make(uri, error="m", micro=False).save(out, kind="svg", scale=6, border=4, xmldecl=False, svgns=True,
                                                  title="两步验证二维码 Authenticator QR")
    return s.TotpSetup(secret=secret, otpauth_uri=uri, qr_svg=out.getvalue().decode())


async def totp_confirm(actor: Actor, master: Keyring, body: s.Code) -> s.RecoveryCodes:
    """The first code from the authenticator turns two factors on; this session counts as signed in with both."""
    account = await _account(actor.session, actor.principal.account_id, lock=True)
    if account.totp_enabled:
        raise Conflict("两步验证已经设置", "Two-step verification is already set up", code="totp_enabled")
    if not _accept_totp(master, account, body.code, actor.now):
        raise DomainError("验证码不对，请看验证器上最新的 6 位数字", "Wrong code: type the newest 6 digits from the app",
                          code="bad_otp")
    account.totp_enabled = True
    codes = _new_recovery_codes(account)
    if actor.principal.session_hash:
        await actor.session.execute(
            update(StaffSession).where(StaffSession.token_hash == actor.principal.session_hash).values(two_factor=True)
        )
    return s.RecoveryCodes(recovery_codes=codes)


async def new_recovery_codes(actor: Actor, master: Keyring, body: s.Code) -> s.RecoveryCodes:
    account = await _account(actor.session, actor.principal.account_id, lock=True)
    if not _accept_totp(master, account, body.code, actor.now):
        raise DomainError("验证码不对", "Wrong code", code="bad_otp")
    return s.RecoveryCodes(recovery_codes=_new_recovery_codes(account))


async def change_password(actor: Actor, body: s.PasswordChange) -> None:
    """A new password; every other session of the account ends."""
    account = await _account(actor.session, actor.principal.account_id, lock=True)
    if not await password_matches(account.password_hash, body.current_password):
        raise DomainError("当前密码不对", "The current password is wrong", code="bad_password")
    check_new_password(account.username, body.new_password)
    account.password_hash = await hash_password(body.new_password)
    account.must_change_password = False
    await actor.session.execute(
        delete(StaffSession).where(StaffSession.account_id == account.id, StaffSession.token_hash != actor.principal.session_hash)
    )


# ---------------------------------------------------------------- managing accounts


def _may_manage(principal: Principal, role: str, agency_id: int | None) -> bool:
    """The regulator manages every account; an agency admin those of their own agency (admins and staff)."""
    if principal.role is Role.REGULATOR:
        return True
    return (principal.role is Role.AGENCY_ADMIN and role in (Role.AGENCY_ADMIN, Role.AGENCY_STAFF)
            and agency_id == principal.agency_id)


async def create_account(actor: Actor, body: s.AccountCreate) -> s.AccountIssued:
    """A staff account with a first password to hand over; it must set two factors up before it can act."""
    agency_id = body.agency_id if body.role in ("agency_admin", "agency_staff") else None
    outlet_id = body.outlet_id if body.role == "outlet_staff" else None
    if body.role in ("agency_admin", "agency_staff") and agency_id is None:
        raise DomainError("企业账号需要指定所属企业", "An agency account needs its agency_id", code="agency_required")
    if body.role == "outlet_staff" and outlet_id is None:
        raise DomainError("网点账号需要指定所属网点", "An outlet account needs its outlet_id", code="outlet_required")
    if not _may_manage(actor.principal, body.role, agency_id):
        raise Forbidden("您的账号不能建立这种账号", "Your account may not create this account", code="forbidden")
    if agency_id is not None and await actor.session.get(Agency, agency_id) is None:
        raise NotFound("找不到这家家政企业", "No such agency")
    if outlet_id is not None and await actor.session.get(Outlet, outlet_id) is None:
        raise NotFound("找不到这个服务网点", "No such outlet")
    if (await actor.session.execute(select(Account.id).where(Account.username == body.username))).first() is not None:
        raise Conflict("这个用户名已被使用", "This user name is taken", code="username_taken")
    password = new_password()
    account = Account(username=body.username, display_name=body.display_name, role=body.role, agency_id=agency_id,
                      outlet_id=outlet_id, password_hash=await hash_password(password), must_change_password=True,
                      totp_enabled=False, totp_last_step=0, recovery_hashes="", failed_sign_ins=0, locked_until=0,
                      disabled=False, created_at=actor.now, created_by=actor.label)
    actor.session.add(account)
    await actor.session.flush()
    return s.AccountIssued(account=account_view(account), initial_password=password)


async def _managed(actor: Actor, account_id: int) -> Account:
    account = await actor.session.get(Account, account_id)
    if account is None or not _may_manage(actor.principal, account.role, account.agency_id):
        raise NotFound(*NOT_FOUND)
    return account


async def list_accounts(actor: Actor) -> list[s.Account]:
    stmt = select(Account).order_by(Account.id)
    if actor.principal.role is not Role.REGULATOR:
        stmt = stmt.where(Account.agency_id == actor.principal.agency_id)
    return [account_view(a) for a in (await actor.session.execute(stmt)).scalars()]


async def disable_account(actor: Actor, account_id: int) -> s.Account:
    """Disable an account: it cannot sign in, and its sessions end now."""
    account = await _managed(actor, account_id)
    if account.id == actor.principal.account_id:
        raise Conflict("不能停用自己的账号", "You cannot disable your own account", code="self")
    account.disabled = True
    await actor.session.execute(delete(StaffSession).where(StaffSession.account_id == account.id))
    return account_view(account)


async def reset_account(actor: Actor, account_id: int) -> s.AccountIssued:
    """A lost phone or password: a new first password, two factors to set up again, every session ended."""
    account = await _managed(actor, account_id)
    if account.id == actor.principal.account_id:
        raise Conflict("不能重置自己的账号", "You cannot reset your own account", code="self")
    password = new_password()
    account.password_hash = await hash_password(password)
    account.must_change_password = True
    account.totp_enabled, account.totp_secret_sealed, account.recovery_hashes = False, None, ""
    account.disabled, account.failed_sign_ins, account.locked_until = False, 0, 0
    await actor.session.execute(delete(StaffSession).where(StaffSession.account_id == account.id))
    return s.AccountIssued(account=account_view(account), initial_password=password)


async def ensure_account(session: AsyncSession, *, username: str, display_name: str, role: Role, now: int, by: str,
                         agency_id: int | None = None, outlet_id: int | None = None) -> tuple[Account, str]:
    """Create the account, or give an existing one a new first password (for the command line and the demo)."""
    password = new_password()
    account = (await session.execute(select(Account).where(Account.username == username))).scalar_one_or_none()
    if account is None:
        account = Account(username=username, display_name=display_name, role=role.value, agency_id=agency_id,
                          outlet_id=outlet_id, created_at=now, created_by=by, password_hash="", totp_last_step=0,
                          recovery_hashes="", failed_sign_ins=0, locked_until=0, disabled=False)
        session.add(account)
    account.password_hash = await hash_password(password)
    account.must_change_password = True
    account.totp_enabled, account.totp_secret_sealed, account.recovery_hashes = False, None, ""
    account.failed_sign_ins, account.locked_until, account.disabled = 0, 0, False
    await session.flush()
    await session.execute(delete(StaffSession).where(StaffSession.account_id == account.id))
    return account, password
