"""Agencies, outlets, workers and their training records."""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import date
from html import escape

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import crypto
from server.db.models import Agency, Outlet, SigningKey, Training, Worker
from server.domain.lists.services import active_issuer_key, create_issuer_key
from server.domain.registry import schemas as s
from server.errors import DomainError, NotFound
from server.schemas import mask_to_services, services_to_mask

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


def photo_digest(data: bytes) -> bytes:
    """DP1: the first 16 bytes of SHA-256 of the photo file."""
    return hashlib.sha256(data).digest()[:16]


async def create_agency(session: AsyncSession, master: bytes, body: s.AgencyCreate, *, now: int, key_days: int,
                        demo_key: str | None = None) -> s.Agency:
    agency = Agency(name=body.name, city=body.city, phone=body.phone, created_at=now, demo_key=demo_key)
    session.add(agency)
    await session.flush()
    key = await create_issuer_key(session, master, agency, now=now, days=key_days)
    return s.Agency(id=agency.id, name=agency.name, city=agency.city, phone=agency.phone, kid=key.kid)


async def get_agency(session: AsyncSession, agency_id: int) -> Agency:
    agency = await session.get(Agency, agency_id)
    if agency is None:
        raise NotFound("找不到这家家政企业", "No such agency")
    return agency


async def agency_view(session: AsyncSession, agency: Agency) -> s.Agency:
    key = await active_issuer_key(session, agency.id)
    return s.Agency(id=agency.id, name=agency.name, city=agency.city, phone=agency.phone, kid=key.kid if key else None)


async def list_agencies(session: AsyncSession) -> list[s.Agency]:
    agencies = (await session.execute(select(Agency).order_by(Agency.id))).scalars().all()
    keys = {
        k.agency_id: k.kid
        for k in (await session.execute(select(SigningKey).where(SigningKey.active.is_(True)))).scalars()
    }
    return [s.Agency(id=a.id, name=a.name, city=a.city, phone=a.phone, kid=keys.get(a.id)) for a in agencies]


async def create_outlet(session: AsyncSession, body: s.OutletCreate, *, now: int, demo_key: str | None = None) -> s.Outlet:
    outlet = Outlet(name=body.name, address=body.address, created_at=now, demo_key=demo_key)
    session.add(outlet)
    await session.flush()
    return s.Outlet(id=outlet.id, name=outlet.name, address=outlet.address)


async def list_outlets(session: AsyncSession) -> list[s.Outlet]:
    rows = (await session.execute(select(Outlet).order_by(Outlet.id))).scalars()
    return [s.Outlet(id=o.id, name=o.name, address=o.address) for o in rows]


async def create_worker(session: AsyncSession, master: bytes, body: s.WorkerCreate, *, now: int,
                        demo_key: str | None = None) -> Worker:
    await get_agency(session, body.agency_id)
    if len(body.name.encode()) > 32:
        raise DomainError("姓名太长：最多 32 字节（约 10 个汉字）", "Name too long: at most 32 UTF-8 bytes", code="name_too_long")
    if body.photo is None:
        photo, photo_type = placeholder_photo(body.name), "image/svg+xml"
    else:
        try:
            photo = base64.b64decode(body.photo, validate=True)
        except (binascii.Error, ValueError) as e:
            raise DomainError("照片不是有效的 base64", "The photo is not valid base64", code="bad_photo") from e
        if not photo or len(photo) > MAX_PHOTO:
            raise DomainError("照片为空或超过 512 KB", "The photo is empty or over 512 KB", code="bad_photo")
        photo_type = body.photo_type
    worker = Worker(
        agency_id=body.agency_id,
        name=body.name,
        phone=body.phone,
        id_number_sealed=crypto.seal(master, body.id_number.encode(), b"id_number") if body.id_number else None,
        id_number_masked=mask_id_number(body.id_number),
        services=services_to_mask(list(body.services)),
        health_check_until=body.health_check_until,
        photo=photo,
        photo_type=photo_type,
        photo_digest=photo_digest(photo),
        demo_key=demo_key,
        created_at=now,
    )
    session.add(worker)
    await session.flush()
    await session.refresh(worker, ["agency", "trainings"])
    return worker


async def get_worker(session: AsyncSession, worker_id: int) -> Worker:
    worker = await session.get(Worker, worker_id)
    if worker is None:
        raise NotFound("找不到这位家政服务员", "No such worker")
    return worker


async def add_training(session: AsyncSession, worker_id: int, body: s.TrainingCreate) -> Worker:
    worker = await get_worker(session, worker_id)
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
