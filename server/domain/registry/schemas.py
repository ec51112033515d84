"""Bodies for agencies, outlets, workers and training records."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from server.schemas import RowId, Struct

Service = Literal["cleaning", "cooking", "childcare", "elderly", "maternity", "repair", "moving"]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class AgencyCreate(Struct):
    name: Name
    city: Annotated[str, msgspec.Meta(max_length=50)] = ""
    phone: Annotated[str, msgspec.Meta(max_length=30)] = ""


class Agency(Struct):
    id: int
    name: str
    city: str
    phone: str
    kid: str | None
    """The issuer key that signs this agency's new passes."""


class OutletCreate(Struct):
    name: Name
    address: Annotated[str, msgspec.Meta(max_length=200)] = ""


class Outlet(Struct):
    id: int
    name: str
    address: str


class WorkerCreate(Struct):
    agency_id: RowId
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    """Shown on the pass; at most 32 UTF-8 bytes (about 10 Chinese characters)."""
    phone: Annotated[str, msgspec.Meta(max_length=30)] = ""
    id_number: Annotated[str, msgspec.Meta(max_length=30)] = ""
    services: list[Service] = []
    health_check_until: date | None = None
    photo: str | None = None
    """The photo as base64: JPEG, PNG or WebP, told by its bytes, at most 512 KB. None: a drawn placeholder."""


class TrainingCreate(Struct):
    course: Name
    day: date
    hours: Annotated[int, msgspec.Meta(ge=0, le=10000)] = 0
    outlet_id: RowId | None = None
    certificate: Annotated[str, msgspec.Meta(max_length=100)] = ""
    valid_until: date | None = None


class Training(Struct):
    course: str
    day: date
    hours: int
    outlet_id: int | None
    certificate: str
    valid_until: date | None


class Worker(Struct):
    id: int
    agency_id: int
    agency_name: str
    name: str
    phone_masked: str
    id_number_masked: str
    services: list[str]
    health_check_until: date | None
    trainings: list[Training]
    photo_digest: str
