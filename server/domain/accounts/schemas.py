"""Bodies for signing in, setting up two factors and managing staff accounts."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from server.schemas import RowId, Struct

Username = Annotated[str, msgspec.Meta(min_length=3, max_length=40, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
StaffRole = Literal["regulator", "agency_admin", "agency_staff", "outlet_staff"]


class SignIn(Struct):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    password: Password
    otp: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    """The six digits of the authenticator app, or one recovery code (XXXX-XXXX)."""


class Me(Struct):
    """The signed-in account, and the token every unsafe request of this session carries in `X-CSRF-Token`."""

    id: int
    username: str
    display_name: str
    role: StaffRole
    agency_id: int | None
    agency_name: str | None
    outlet_id: int | None
    outlet_name: str | None
    totp_enabled: bool
    must_change_password: bool
    csrf_token: str


class TotpSetup(Struct):
    secret: str
    """Base32, for typing into an authenticator app by hand."""
    otpauth_uri: str
    qr_svg: str
    """`otpauth_uri` as an SVG QR code."""


class Code(Struct):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]


class RecoveryCodes(Struct):
    recovery_codes: list[str]
    """Shown once: each signs in once in place of the authenticator code."""


class PasswordChange(Struct):
    current_password: Password
    new_password: Password


class Ok(Struct):
    ok: bool = True


class AccountCreate(Struct):
    username: Username
    display_name: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    role: StaffRole
    agency_id: RowId | None = None
    """For agency roles: the agency (an agency admin may only name their own)."""
    outlet_id: RowId | None = None
    """For outlet staff: the outlet."""


class Account(Struct):
    id: int
    username: str
    display_name: str
    role: StaffRole
    agency_id: int | None
    outlet_id: int | None
    totp_enabled: bool
    disabled: bool
    locked_until: int
    created_at: int


class AccountIssued(Struct):
    """A new account, or one whose password was reset: the first password is shown once."""

    account: Account
    initial_password: str
