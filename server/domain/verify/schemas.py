"""Bodies for online verification."""

from __future__ import annotations

from typing import Annotated

import msgspec

from server.schemas import Struct


class VerifyRequest(Struct):
    qr: Annotated[str, msgspec.Meta(max_length=4096)]
    device_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    """An anonymous id the verifying phone makes for itself, so its checks can be told apart."""


class CodeVerifyRequest(Struct):
    """Verification by phone or keyboard: the pass number and the six digits under the QR (online only)."""

    serial: Annotated[int, msgspec.Meta(ge=0, lt=2**53)]
    code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")]
    device_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class Service(Struct):
    key: str
    zh: str
    en: str


class AgencyRef(Struct):
    id: int
    name: str


class HealthCheck(Struct):
    valid_until: str | None
    in_date: bool


class TrainingRecord(Struct):
    course: str
    day: str
    hours: int
    certificate: str


class Training(Struct):
    in_date: bool
    records: list[TrainingRecord]


class Holder(Struct):
    """Who is at the door, from the signed credential and the agency's records."""

    serial: int
    name: str
    photo_url: str
    agency: AgencyRef
    services: list[Service]
    issued_on: str
    valid_until: str
    health_check: HealthCheck
    training: Training


class VerifyResponse(Struct):
    result: str
    """A DP1 result code (valid, caution, red, revoked, bad_code, stale, ...)."""
    colour: str
    """green | yellow | red | grey"""
    headline: str
    headline_en: str
    explanation: str
    explanation_en: str
    reasons: list[str]
    reasons_en: list[str]
    printed_card: bool
    holder: Holder | None
    status_as_of: int
    server_time: int
