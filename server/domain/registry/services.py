"""Agencies, outlets, workers and their training records."""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import date
from html import escape

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crypto import Keyring
from server.auth import Actor, Role
from server.db.models import Agency, Outlet, SigningKey, Training, Worker
from server.domain.lists.services import active_issuer_key, create_issuer_key
from server.domain.registry import schemas as s
from server.errors import DomainError, NotFound
from server.schemas import mask_to_services, services_to_mask
from server.secrets import seal_id_number

MAX_PHOTO = 512 * 1024
PLACEHOLDER_COLOURS = ("#1f6f5c", "#2a5599", "#8a4b0f", "#6b3fa0", "#9b2d4a", "#3d6b1f")


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "*" * len(phone)


def mask_id_number(number: str) -> str:
    return number[:3] + "*" * max(len(number) - 7, 0) + number[-4:] if len(number) >= 8 else "*" * len(number)


def placeholder_photo(name: str) -> bytes:
    """A drawn portrait placeholder: the first character of the name on a colour from the name."""
    colour = PLACEHOLDER_COLOURS[hashlib.sha256(name.encode()).digest()[0] % len(PLACEHOLDER_COLOURS)]
    initial = escape(name[:1] or "?")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="300" viewBox="0 0 240 300">'
        f'<rect width="240" height="300" fill="{colour}"/>'
        '<circle cx="120" cy="115" r="62" fill="#ffffff" fill-opacity="0.25"/>'
        '<rect x="40" y="195" width="160" height="105" rx="60" fill="#ffffff" fill-opacity="0.25"/>'
        f'<text x="120" y="140" font-size="72" text-anchor="middle" fill="#ffffff" font-family="sans-serif">{initial}</text>'
        "</svg>"
    ).encode()


def photo_type(data: bytes) -> str | None:
    """JPEG, PNG or WebP by the file's own first bytes (what a client declares counts for nothing); else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def photo_digest(data: bytes) -> bytes:
    """DP1: the first 16 bytes of SHA-256 of the photo file."""
    return hashlib.sha256(data).digest()[:16]


NO_AGENCY = ("找不到这家家政企业", "No such agency")
NO_WORKER = ("找不到这位家政服务员", "No such worker")


async def create_agency(actor: Actor, master: Keyring, body: s.AgencyCreate, *, key_days: int,
                        demo_key: str | None = None) -> s.Agency:
    session, now = actor.session, actor.now
    agency = Agency(name=body.name, city=body.city, phone=body.phone, created_at=now, demo_key=demo_key)
    session.add(agency)
    await session.flush()
    key = await create_issuer_key(session, master, agency, now=now, days=key_days)
    return s.Agency(id=agency.id, name=agency.name, city=agency.city, phone=agency.phone, kid=key.kid)


async def get_agency(actor: Actor, agency_id: int) -> Agency:
    """An agency the actor may see (another agency answers as if it did not exist)."""
    actor.agency_scope(agency_id, what=NO_AGENCY)
    agency = await actor.session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(*NO_AGENCY)
    return agency


async def agency_view(session: AsyncSession, agency: Agency) -> s.Agency:
    key = await active_issuer_key(session, agency.id)
    return s.Agency(id=agency.id, name=agency.name, city=agency.city, phone=agency.phone, kid=key.kid if key else None)


async def list_agencies(actor: Actor) -> list[s.Agency]:
    """Every agency for the regulator; an agency's own staff see their agency."""
    session = actor.session
    stmt = select(Agency).order_by(Agency.id)
    if actor.principal.role is not Role.REGULATOR:
        stmt = stmt.where(Agency.id == actor.principal.agency_id)
    agencies = (await session.execute(stmt)).scalars().all()
    keys = {
        k.agency_id: k.kid
        for k in (await session.execute(select(SigningKey).where(SigningKey.active.is_(True)))).scalars()
    }
    return [s.Agency(id=a.id, name=a.name, city=a.city, phone=a.phone, kid=keys.get(a.id)) for a in agencies]


async def create_outlet(actor: Actor, body: s.OutletCreate, *, demo_key: str | None = None) -> s.Outlet:
    session = actor.session
    outlet = Outlet(name=body.name, address=body.address, created_at=actor.now, demo_key=demo_key)
    session.add(outlet)
    await session.flush()
    return s.Outlet(id=outlet.id, name=outlet.name, address=outlet.address)


async def list_outlets(session: AsyncSession) -> list[s.Outlet]:
    rows = (await session.execute(select(Outlet).order_by(Outlet.id))).scalars()
    return [s.Outlet(id=o.id, name=o.name, address=o.address) for o in rows]


async def create_worker(actor: Actor, master: Keyring, body: s.WorkerCreate, *, demo_key: str | None = None) -> Worker:
    session, now = actor.session, actor.now
    await get_agency(actor, body.agency_id)
    if len(body.name.encode()) > 32:
        raise DomainError("姓名太长：最多 32 字节（约 10 个汉字）", "Name too long: at most 32 UTF-8 bytes", code="name_too_long")
    kind: str | None
    if body.photo is None:
        photo, kind = placeholder_photo(body.name), "image/svg+xml"  # ours, drawn from an escaped initial
    else:
        try:
            photo = base64.b64decode(body.photo, validate=True)
        except (binascii.Error, ValueError) as e:
            raise DomainError("照片不是有效的 base64", "The photo is not valid base64", code="bad_photo") from e
        if not photo or len(photo) > MAX_PHOTO:
            raise DomainError("照片为空或超过 512 KB", "The photo is empty or over 512 KB", code="bad_photo")
        kind = photo_type(photo)
        if kind is None:
            raise DomainError("照片须为 JPEG、PNG 或 WebP 图片", "The photo must be a JPEG, PNG or WebP image",
                              code="bad_photo")
    worker = Worker(
        agency_id=body.agency_id,
        name=body.name,
        phone=body.phone,
        id_number_masked=mask_id_number(body.id_number),
        services=services_to_mask(list(body.services)),
        health_check_until=body.health_check_until,
        photo=photo,
        photo_type=kind,
        photo_digest=photo_digest(photo),
        demo_key=demo_key,
        created_at=now,
    )
    session.add(worker)
    await session.flush()
    if body.id_number:  # sealed for this row: the worker id exists once the insert is flushed
        worker.id_number_sealed = seal_id_number(master, worker.id, body.id_number)
        await session.flush()
    await session.refresh(worker, ["agency", "trainings"])
    return worker


async def get_worker(actor: Actor, worker_id: int) -> Worker:
    """A worker of an agency the actor may see (another agency's worker answers as if there were none)."""
    worker = await actor.session.get(Worker, worker_id)
    if worker is None:
        raise NotFound(*NO_WORKER)
    actor.agency_scope(worker.agency_id, what=NO_WORKER)
    return worker


async def add_training(actor: Actor, worker_id: int, body: s.TrainingCreate) -> Worker:
    session = actor.session
    worker = await get_worker(actor, worker_id)
    if body.outlet_id is not None and await session.get(Outlet, body.outlet_id) is None:
        raise NotFound("找不到这个服务网点", "No such outlet")
    session.add(
        Training(
            worker_id=worker.id, course=body.course, outlet_id=body.outlet_id, day=body.day, hours=body.hours,
            certificate=body.certificate, valid_until=body.valid_until,
        )
    )
    await session.flush()
    await session.refresh(worker, ["trainings"])
    return worker


def training_view(t: Training) -> s.Training:
    return s.Training(course=t.course, day=t.day, hours=t.hours, outlet_id=t.outlet_id, certificate=t.certificate,
                      valid_until=t.valid_until)


def worker_view(w: Worker) -> s.Worker:
    return s.Worker(
        id=w.id,
        agency_id=w.agency_id,
        agency_name=w.agency.name,
        name=w.name,
        phone_masked=mask_phone(w.phone),
        id_number_masked=w.id_number_masked,
        services=mask_to_services(w.services),
        health_check_until=w.health_check_until,
        trainings=[training_view(t) for t in w.trainings],
        photo_digest=w.photo_digest.hex(),
    )


def training_in_date(w: Worker, today: date) -> bool:
    """At least one training record, and none of the certificates it relies on lapsed."""
    if not w.trainings:
        return False
    return any(t.valid_until is None or t.valid_until >= today for t in w.trainings)
