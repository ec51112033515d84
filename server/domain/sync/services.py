"""What the sync routes need beyond `sync` itself: outlet phones, whose pass a phone holds, a record's proof."""

from __future__ import annotations

import msgspec
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

import crypto
import sync
from server.auth import Actor, Role
from server.db.models import Outlet, OutletDevice, Pass
from server.errors import Forbidden, NotFound
from sync.models import Device, SyncRecord


class OutletTie(msgspec.Struct, kw_only=True):
    device_id: str
    outlet_id: int
    outlet_name: str
    bound_at: int


class OutletUntie(msgspec.Struct, kw_only=True):
    device_id: str
    untied: bool
    """False: the phone was not tied to an outlet."""


class RecordProof(msgspec.Struct, kw_only=True):
    """A synced record and what proves who made it (docs/devices.md): anyone can check `sig` over
    "DP1/record\\0" || UTF-8(`body`) with `device_pub`, and that `device_id` is derived from `device_pub`."""

    id: str
    kind: str
    status: str
    device_id: str
    device_pub: str | None
    """b64u of the raw Ed25519 key; None for a device from before device keys."""
    body: str
    """Exactly what the device signed (a rejected record keeps only a prefix: no proof)."""
    sig: str | None
    """b64u; None for a record from before signed records, or a rejected one."""
    received_at: int
    valid: bool
    """The server's own check of the signature and the device id."""


async def pass_device_id(session: AsyncSession, serial: int) -> str | None:
    """The device id of the key the pass is bound to (None: no such pass, or not activated)."""
    pub = (await session.execute(select(Pass.device_pub).where(Pass.serial == serial))).scalar_one_or_none()
    return None if pub is None else sync.device_id_of(pub)


COLOURS = ("green", "yellow", "red")


async def pass_status(session: AsyncSession, serial: int) -> dict | None:
    """What the pass's own phone may know of its pass: state, colour and the reason a household reads."""
    p = await session.get(Pass, serial)
    if p is None:
        return None
    return {"state": p.state, "colour": COLOURS[p.colour] if 0 <= p.colour < 3 else "red", "reason": p.reason,
            "reason_en": p.reason_en, "updated_at": p.updated_at}


async def bind_outlet(actor: Actor, device_id: str) -> OutletTie:
    """Tie a proved phone to the outlet of the outlet staff account signed in on it (replacing any earlier tie)."""
    p = actor.principal
    if p.role is not Role.OUTLET_STAFF or p.outlet_id is None or p.account_id is None:
        raise Forbidden("只有服务网点的工作人员账号能把手机用于网点签到", "Only an outlet staff account can tie a phone to an outlet",
                        code="forbidden")
    outlet = await actor.session.get(Outlet, p.outlet_id)
    if outlet is None:
        raise NotFound("找不到这个服务网点", "No such outlet")
    row = await actor.session.get(OutletDevice, device_id)
    if row is None:
        row = OutletDevice(device_id=device_id, outlet_id=outlet.id, account_id=p.account_id, bound_at=actor.now)
        actor.session.add(row)
    else:
        row.outlet_id, row.account_id, row.bound_at = outlet.id, p.account_id, actor.now
    await actor.session.flush()
    return OutletTie(device_id=device_id, outlet_id=outlet.id, outlet_name=outlet.name, bound_at=row.bound_at)


async def unbind_outlet(session: AsyncSession, device_id: str) -> bool:
    result = await session.execute(delete(OutletDevice).where(OutletDevice.device_id == device_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def record_proof(session: AsyncSession, record_id: str) -> RecordProof:
    rec = (await session.execute(select(SyncRecord).where(SyncRecord.id == record_id))).scalar_one_or_none()
    if rec is None:
        raise NotFound("找不到这条记录", "No such record")
    pub = (await session.execute(select(Device.pub).where(Device.id == rec.device_id))).scalar_one_or_none()
    valid = (
        pub is not None and rec.sig is not None and sync.device_id_of(pub) == rec.device_id
        and crypto.verify_sig(pub, rec.sig, sync.RECORD_DOMAIN + rec.body.encode())
    )
    return RecordProof(
        id=rec.id, kind=rec.kind, status=rec.status, device_id=rec.device_id,
        device_pub=None if pub is None else crypto.b64u_encode(pub), body=rec.body,
        sig=None if rec.sig is None else crypto.b64u_encode(rec.sig), received_at=rec.received_at, valid=valid,
    )
