"""Issuing passes, one-time activation, enrollment of a phone, and status changes."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import secrets

import segno
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

import crypto
from crypto import Keyring
from server.auth import Actor
from server.db.models import ActivationCode, Pass, PassEvent, Worker
from server.domain.lists.services import active_issuer_key, key_by_kid, resign_status, status_size, unseal_key
from server.domain.passes import schemas as s
from server.domain.registry.services import get_worker
from server.errors import Conflict, DomainError, Gone, NotFound
from server.secrets import open_totp, seal_totp

log = logging.getLogger("doorpass")
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LEN = 12


def _day(t: int) -> int:
    return t // 86400


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_hash(code: str) -> bytes:
    return hashlib.sha256(b"DP1/activation\0" + normalise_code(code).encode()).digest()


def format_code(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


NO_PASS = ("找不到这张上门服务证", "No such pass")


async def record(actor: Actor, serial: int, kind: str, **detail: object) -> None:
    """The pass's history (可追溯): what happened, by whom, when; in the same transaction as the change."""
    actor.session.add(PassEvent(serial=serial, at=actor.now, kind=kind, actor=actor.label,
                                detail=json.dumps(detail, ensure_ascii=False)))


async def get_pass(session: AsyncSession, serial: int, *, lock: bool = False) -> Pass:
    stmt = select(Pass).where(Pass.serial == serial)
    if lock:
        stmt = stmt.with_for_update(of=Pass)
    row = (await session.execute(stmt)).unique().scalar_one_or_none()
    if row is None:
        raise NotFound(*NO_PASS)
    return row


async def managed_pass(actor: Actor, serial: int, *, lock: bool = False) -> Pass:
    """A pass of an agency the actor may see (another agency's pass answers as if it did not exist)."""
    p = await get_pass(actor.session, serial, lock=lock)
    actor.agency_scope(p.agency_id, what=NO_PASS)
    return p


async def _new_serial(session: AsyncSession) -> int:
    while True:
        serial = 100_000_000 + secrets.randbelow(900_000_000)  # nine digits, easy to read out
        if await session.get(Pass, serial) is None:
            return serial


async def _free_index(session: AsyncSession, size: int) -> int:
    while True:
        index = secrets.randbelow(size)
        taken = (await session.execute(select(Pass.serial).where(Pass.status_index == index))).first()
        if taken is None:
            return index


async def new_activation(actor: Actor, p: Pass, *, ttl: int, base_url: str) -> s.Activation:
    """A fresh one-time code for a pass not yet bound to a phone; earlier unused codes stop working."""
    if p.state == "revoked":
        raise Conflict("此证已注销，不能激活", "This pass is revoked and cannot be activated", code="pass_revoked")
    if p.device_pub is not None:
        raise Conflict("此证已绑定手机；请换发新证", "This pass is already bound to a phone; issue a new pass", code="already_enrolled")
    session, now = actor.session, actor.now
    await session.execute(
        update(ActivationCode).where(ActivationCode.serial == p.serial, ActivationCode.used_at.is_(None)).values(expires_at=now)
    )
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LEN))
    session.add(ActivationCode(serial=p.serial, code_hash=code_hash(raw), expires_at=now + ttl, created_at=now))
    await record(actor, p.serial, "activation", expires_at=now + ttl)
    code = format_code(raw)
    url = f"{base_url.rstrip('/')}/enroll?code={code}"
    return s.Activation(serial=p.serial, code=code, expires_at=now + ttl, url=url, qr_svg=activation_svg(url))


def activation_svg(url: str) -> str:
    """An activation link as an SVG QR code (ECC M, 4-module quiet zone), small enough to inline."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="svg", scale=8, border=4, xmldecl=False, svgns=True,
                                                  title="激活二维码 Activation QR")
    return out.getvalue().decode()


REPLACED = ("已换发新证", "Replaced by a new pass")


async def issue_pass(actor: Actor, master: Keyring, worker_id: int, *, valid_days: int, ttl: int, base_url: str,
                     replaced: tuple[str, str] = REPLACED) -> s.Activation:
    """Issue a pass to a worker (their older passes are revoked, `replaced` saying why) and return its activation code."""
    session, now = actor.session, actor.now
    worker = await get_worker(actor, worker_id)
    key = await active_issuer_key(session, worker.agency_id)
    if key is None:
        raise Conflict("该企业没有签发密钥", "The agency has no issuer key", code="no_issuer_key")
    issued = _day(now)
    expires = min(issued + valid_days - 1, _day(key.not_after))
    size = await status_size(session)
    changes: dict[int, int] = {}
    for old in (
        await session.execute(select(Pass).where(Pass.worker_id == worker.id, Pass.state != "revoked").with_for_update(of=Pass))
    ).unique().scalars():
        old.state, (old.reason, old.reason_en), old.updated_at = "revoked", replaced, now
        changes[old.status_index] = 3
        await record(actor, old.serial, "revoked", reason=replaced[0])
    for _attempt in range(20):
        serial, index = await _new_serial(session), await _free_index(session, size)
        try:
            async with session.begin_nested():
                session.add(
                    Pass(
                        serial=serial, worker_id=worker.id, agency_id=worker.agency_id, kid=key.kid, status_index=index,
                        issued_day=issued, expires_day=expires, state="active", colour=0, created_at=now, updated_at=now,
                    )
                )
            break
        except IntegrityError:  # another process took the serial or the index: draw again
            continue
    else:
        raise Conflict("无法分配证号，请重试", "Could not allocate a pass number, try again", code="busy")
    changes[index] = 0
    await resign_status(session, master, now=now, changes=changes)
    await record(actor, serial, "issued", kid=key.kid, issued_day=issued, expires_day=expires)
    p = await get_pass(session, serial)
    return await new_activation(actor, p, ttl=ttl, base_url=base_url)


async def enroll(actor: Actor, master: Keyring, body: s.EnrollRequest) -> s.EnrollResponse:
    """Bind a phone's Ed25519 key to the pass behind a one-time code; sign its credential."""
    session, now = actor.session, actor.now
    try:
        device_pub = crypto.b64u_decode(body.device_pub)
    except crypto.CryptoError as e:
        raise DomainError("设备公钥格式不对", "device_pub is not base64url", code="bad_device_pub") from e
    if len(device_pub) != 32:
        raise DomainError("设备公钥应为 32 字节", "device_pub must be 32 bytes", code="bad_device_pub")
    normal = normalise_code(body.code)
    if len(normal) != CODE_LEN:
        raise NotFound("激活码不对，请核对后重输", "Unknown activation code: check and type it again", code="activation_unknown")
    row = (
        await session.execute(select(ActivationCode).where(ActivationCode.code_hash == code_hash(normal)).with_for_update())
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("激活码不对，请核对后重输", "Unknown activation code: check and type it again", code="activation_unknown")
    if row.used_at is not None:
        raise Gone("激活码已经用过，请向所属企业申请新的激活码", "This activation code was already used; ask your agency for a new one", code="activation_used")
    if row.expires_at <= now:
        raise Gone("激活码已过期，请向所属企业申请新的激活码", "This activation code has expired; ask your agency for a new one", code="activation_expired")
    consumed = await session.execute(
        update(ActivationCode).where(ActivationCode.id == row.id, ActivationCode.used_at.is_(None)).values(used_at=now)
    )
    if consumed.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
        raise Gone("激活码已经用过，请向所属企业申请新的激活码", "This activation code was already used; ask your agency for a new one", code="activation_used")
    p = await get_pass(session, row.serial, lock=True)
    if p.state == "revoked":
        raise Conflict("此证已注销，不能激活", "This pass is revoked and cannot be activated", code="pass_revoked")
    if p.device_pub is not None:
        raise Conflict("此证已绑定手机", "This pass is already bound to a phone", code="already_enrolled")
    key = await key_by_kid(session, p.kid)
    worker: Worker = p.worker
    assert key is not None
    cred = crypto.encode_cred(
        crypto.Credential(
            kid=p.kid, serial=p.serial, status_index=p.status_index, issued_day=p.issued_day, expires_day=p.expires_day,
            name=worker.name, agency_id=p.agency_id, photo_digest=worker.photo_digest, device_pub=device_pub,
            services=worker.services,
        )
    )
    sig = crypto.sign_cred(unseal_key(master, key), cred)
    secret = crypto.new_totp_secret()
    p.device_pub, p.cred, p.issuer_sig = device_pub, cred, sig
    p.totp_sealed = seal_totp(master, p.serial, secret)
    p.enrolled_at = p.updated_at = now
    await record(actor, p.serial, "enrolled", device_pub=crypto.b64u_encode(device_pub))
    return s.EnrollResponse(
        serial=p.serial, cred=crypto.b64u_encode(cred), issuer_sig=crypto.b64u_encode(sig), secret=secret, server_time=now
    )


async def unbind_phone(actor: Actor, master: Keyring, serial: int, body: s.ReasonBody, *, ttl: int, base_url: str) -> s.Activation:
    """A lost or replaced phone: its pass is revoked (offline verifiers see it in the next status list, and the
    old phone's frames read `revoked`), and a new pass for the same worker, valid as long as the old one, waits
    for the new phone with a fresh activation code."""
    p = await managed_pass(actor, serial, lock=True)
    _live(p)
    if p.device_pub is None:
        raise Conflict("此证还没有绑定手机：请生成新的激活码", "This pass is not bound to a phone yet: make a new activation code",
                       code="not_bound")
    await record(actor, p.serial, "unbound", reason=body.reason)
    days_left = max(1, p.expires_day - _day(actor.now) + 1)
    return await issue_pass(actor, master, p.worker_id, valid_days=days_left, ttl=ttl, base_url=base_url,
                            replaced=(f"原手机已解绑：{body.reason}", f"The phone was unbound: {body.reason_en or body.reason}"))


def totp_secret(master: Keyring, p: Pass) -> str | None:
    """The pass's TOTP secret; None when it has none, or when its sealed value does not open (copied from
    another row, tampered with, or under a key this server lacks): then no code is right, and the log says so."""
    if p.totp_sealed is None:
        return None
    try:
        return open_totp(master, p.serial, p.totp_sealed)
    except crypto.DecryptError:
        log.error("the sealed TOTP secret of pass %s does not open: no code will verify", p.serial)
        return None


async def _apply(actor: Actor, master: Keyring, p: Pass, kind: str, **detail: object) -> s.PassView:
    p.updated_at = actor.now
    await resign_status(actor.session, master, now=actor.now, changes={p.status_index: p.list_value})
    await record(actor, p.serial, kind, **detail)
    return await pass_view(actor.session, p)


def _live(p: Pass) -> None:
    if p.state == "revoked":
        raise Conflict("此证已注销，状态不能再改", "This pass is revoked; its status cannot change", code="pass_revoked")


async def set_status(actor: Actor, master: Keyring, serial: int, body: s.StatusChange) -> s.PassView:
    """Set the 安心码 colour: green, yellow (caution) or red, with the reason a household will read."""
    p = await managed_pass(actor, serial, lock=True)
    _live(p)
    colour = int(crypto.Status[body.status.upper()])
    if colour and not body.reason:
        raise DomainError("黄码或红码必须写明原因", "A yellow or red status needs a reason", code="reason_required")
    p.colour = colour
    if p.state != "suspended":
        p.reason, p.reason_en = (body.reason, body.reason_en) if colour else ("", "")
    return await _apply(actor, master, p, "status", status=body.status, reason=body.reason)


async def suspend(actor: Actor, master: Keyring, serial: int, body: s.ReasonBody) -> s.PassView:
    """Suspend a pass: it reads red until reinstated."""
    p = await managed_pass(actor, serial, lock=True)
    _live(p)
    if p.state == "suspended":
        raise Conflict("此证已暂停", "This pass is already suspended", code="already_suspended")
    p.state, p.reason, p.reason_en = "suspended", body.reason, body.reason_en
    return await _apply(actor, master, p, "suspended", reason=body.reason)


async def reinstate(actor: Actor, master: Keyring, serial: int) -> s.PassView:
    """Lift a suspension: the pass reads its colour again."""
    p = await managed_pass(actor, serial, lock=True)
    _live(p)
    if p.state != "suspended":
        raise Conflict("此证没有被暂停", "This pass is not suspended", code="not_suspended")
    p.state, p.reason, p.reason_en = "active", "", ""
    return await _apply(actor, master, p, "reinstated")


async def revoke(actor: Actor, master: Keyring, serial: int, body: s.ReasonBody) -> s.PassView:
    """Revoke a pass for good (注销)."""
    p = await managed_pass(actor, serial, lock=True)
    _live(p)
    p.state, p.reason, p.reason_en = "revoked", body.reason, body.reason_en
    return await _apply(actor, master, p, "revoked", reason=body.reason)


async def pass_view(session: AsyncSession, p: Pass) -> s.PassView:
    events = (
        await session.execute(select(PassEvent).where(PassEvent.serial == p.serial).order_by(PassEvent.id))
    ).scalars()
    return s.PassView(
        serial=p.serial, worker_id=p.worker_id, worker_name=p.worker.name, agency_id=p.agency_id, kid=p.kid,
        issued_day=p.issued_day, expires_day=p.expires_day, state=p.state, status=crypto.Status(p.list_value).result,
        reason=p.reason, reason_en=p.reason_en, enrolled=p.device_pub is not None,
        events=[s.PassEvent(at=e.at, kind=e.kind, actor=e.actor, detail=json.loads(e.detail)) for e in events],
    )
