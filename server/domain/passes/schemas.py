"""Bodies for issuing, enrolling and changing passes."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from server.schemas import Struct

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class PassIssue(Struct):
    valid_days: Annotated[int, msgspec.Meta(ge=1, le=1100)] | None = None
    """Days the pass is valid from today (default from the settings)."""


class Activation(Struct):
    """A one-time activation code: shown once to the agency, who hands it to the worker."""

    serial: int
    code: str
    expires_at: int
    url: str
    """Opens the worker app's enrollment with the code filled in."""
    qr_svg: str
    """`url` as a QR code (SVG, ECC level M), for the agency to show or print; the worker app scans it."""


class EnrollRequest(Struct):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    device_pub: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    """b64u of the phone's raw 32-byte Ed25519 public key."""


class EnrollResponse(Struct):
    serial: int
    cred: str
    issuer_sig: str
    secret: str
    server_time: int


class StatusChange(Struct):
    status: Literal["valid", "caution", "red"]
    reason: Annotated[str, msgspec.Meta(max_length=200)] = ""
    reason_en: Annotated[str, msgspec.Meta(max_length=200)] = ""


class ReasonBody(Struct):
    reason: Reason
    reason_en: Annotated[str, msgspec.Meta(max_length=200)] = ""


class PassEvent(Struct):
    at: int
    kind: str
    actor: str
    detail: dict


class PassView(Struct):
    serial: int
    worker_id: int
    worker_name: str
    agency_id: int
    kid: str
    issued_day: int
    expires_day: int
    state: str
    status: str
    """valid | caution | red | revoked, as a verifier reads the status list."""
    reason: str
    reason_en: str
    enrolled: bool
    events: list[PassEvent]
