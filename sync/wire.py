"""Sync messages on the wire: records as a tagged union with explicit string tags, receipts, pull pages."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

UUID = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
DeviceId = Annotated[str, msgspec.Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Seq = Annotated[int, msgspec.Meta(ge=1, lt=2**53)]
Time = Annotated[int, msgspec.Meta(ge=0, lt=2**40)]
Frame = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
Service = Literal["cleaning", "cooking", "childcare", "elderly", "maternity", "repair", "moving"]
Tag = Literal["punctual", "professional", "polite", "clean", "careful", "friendly"]
"""准时, 专业, 礼貌, 干净, 细心, 亲切"""
ComplaintCategory = Literal["service_quality", "conduct", "safety", "property", "identity", "price", "other"]


class Record(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, tag_field="kind"):
    """What every record carries: made on the device, numbered there."""

    id: UUID
    seq: Seq
    at: Time
    """When it was recorded, on the device's (server-corrected) clock."""


class Checkin(Record, tag="checkin", kw_only=True, forbid_unknown_fields=True):
    """A worker arrives at a household: the visit code from the household's verdict screen pairs them."""

    visit_id: UUID
    serial: Annotated[int, msgspec.Meta(ge=0, lt=2**53)]
    visit_code: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    """The household's signed visit code as scanned (docs/devices.md: `DPV2:` visit, pseudonym, pass, time,
    signature); it names no device."""
    service: Service
    place: Annotated[str, msgspec.Meta(max_length=200)] = ""
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    """Location only with the worker's consent; never required."""


class Checkout(Record, tag="checkout", kw_only=True, forbid_unknown_fields=True):
    visit_id: UUID
    serial: Annotated[int, msgspec.Meta(ge=0, lt=2**53)]


class Review(Record, tag="review", kw_only=True, forbid_unknown_fields=True):
    """A household's review, carrying the frame it scanned: signed proof the worker was there."""

    frame: Frame
    visit_id: UUID | None = None
    stars: Annotated[int, msgspec.Meta(ge=1, le=5)]
    tags: Annotated[list[Tag], msgspec.Meta(max_length=6)] = []
    comment: Annotated[str, msgspec.Meta(max_length=500)] = ""


class Complaint(Record, tag="complaint", kw_only=True, forbid_unknown_fields=True):
    frame: Frame
    visit_id: UUID | None = None
    category: ComplaintCategory
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    photo: Annotated[str, msgspec.Meta(max_length=700_000)] | None = None
    """base64 JPEG/PNG, at most about 512 KB."""


class Session(Record, tag="session", kw_only=True, forbid_unknown_fields=True):
    """Outlet staff open a training session."""

    session_id: UUID
    outlet_id: Annotated[int, msgspec.Meta(ge=1, lt=2**31)]
    course: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    day: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class Attendance(Record, tag="attendance", kw_only=True, forbid_unknown_fields=True):
    """A trainee at a session: a scanned pass (frame) or a typed trainee number."""

    session_id: UUID
    frame: Frame | None = None
    trainee_number: Annotated[str, msgspec.Meta(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9-]+$")] | None = None


AnyRecord = Checkin | Checkout | Review | Complaint | Session | Attendance
KINDS = ("checkin", "checkout", "review", "complaint", "session", "attendance")


PROTOCOL = 2
"""The sync protocol version this server speaks: the push/pull envelope and receipts (docs/sync.md, Versions).
2: each record travels as a signed envelope (`Envelope`, docs/devices.md)."""
SCHEMA = 2
"""The record schema version this server speaks: the record kinds and their fields above. 2: a check-in carries
the household's signed `visit_code` instead of its device id."""

RECORD_DOMAIN = b"DP1/record\0"
"""An envelope's signature is the device key's over RECORD_DOMAIN || UTF-8(body)."""


class Envelope(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One record as a push carries it: its JSON text, exactly as the phone made it, and the device's signature."""

    body: Annotated[str, msgspec.Meta(min_length=2, max_length=1_000_000)]
    sig: Annotated[str, msgspec.Meta(min_length=86, max_length=88)]


class PushRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    device_id: DeviceId
    records: Annotated[list[Any], msgspec.Meta(max_length=500)]
    """Envelopes (`Envelope`), each checked on its own: one bad record does not stop the rest of the batch."""
    protocol: int = 1
    """The phone's sync protocol. Missing means 1: phones from before versioning send exactly version 1."""
    schema: int = 1
    """The phone's record schema. Missing means 1, as for `protocol`. Checked before any record is read."""


class Receipt(msgspec.Struct, kw_only=True):
    index: int
    id: str | None
    status: Literal["applied", "duplicate", "conflict", "rejected"]
    reason: str = ""
    reason_en: str = ""
    original: str | None = None
    """For `duplicate`: what the first copy got (applied or rejected); the device acts on that."""
    duplicate_of: str | None = None
    """For a record whose content is already held under another id (the same trainee scanned twice)."""
    cursor: int | None = None
    server_time: int


class PushResponse(msgspec.Struct, kw_only=True):
    receipts: list[Receipt]
    device_seq: int
    server_time: int
    protocol: int = PROTOCOL
    schema: int = SCHEMA
    """The versions the server speaks."""


class PulledRecord(msgspec.Struct, kw_only=True):
    id: str
    kind: str
    seq: int
    status: str
    reason: str
    reason_en: str
    cursor: int
    received_at: int


class PullResponse(msgspec.Struct, kw_only=True):
    cursor: int
    more: bool
    records: list[PulledRecord]
    reviews: list[dict]
    sessions: list[dict]
    trust: dict
    status: dict
    server_time: int
    protocol: int = PROTOCOL
    schema: int = SCHEMA
    """The versions the server speaks."""
    pass_status: dict | None = None
    """With `serial` (the pass's own phone only): its state, 安心码 colour and the reason a household reads, so the
    worker's phone can say why its code is yellow, red or revoked ({state, colour, reason, reason_en, updated_at})."""


class DeviceRegister(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`POST /api/sync/devices`: a phone's Ed25519 public key (docs/devices.md)."""

    device_pub: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    """b64u of the raw 32-byte public key."""


class DeviceRegistered(msgspec.Struct, kw_only=True):
    device_id: str
    """"d" + b64u(SHA-256("DP1/device\\0" || pub))[0:22]: the same key always answers the same id."""
    registered_at: int
    """When the key was first registered (Unix seconds)."""


class DeviceRef(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A signed request about the signing phone itself (tie to an outlet, untie)."""

    device_id: DeviceId
