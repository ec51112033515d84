"""The database: one metadata for the server's domains (Alembic reads it with `sync.models`' own).

Times are Unix seconds (UTC) in BIGINT columns, days are `day()` numbers as in
DP1; secrets sit in `*_sealed` columns, AES-GCM under the master key.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false

from sync.models import NAMING  # one naming convention for every table, sync's own included


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Agency(Base):
    """A home-service company (家政企业): answerable for its workers, issuer of their passes."""

    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    city: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    demo_key: Mapped[str | None] = mapped_column(String(20), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class Outlet(Base):
    """A community home-service outlet (社区家政服务网点): runs training sessions."""

    __tablename__ = "outlets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200), default="")
    demo_key: Mapped[str | None] = mapped_column(String(20), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class SigningKey(Base):
    """An Ed25519 key of the platform: root, status, or an issuer's (named by `kid`)."""

    __tablename__ = "signing_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(16), unique=True)
    purpose: Mapped[str] = mapped_column(String(10))  # root | status | issuer
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    name: Mapped[str] = mapped_column(String(100), default="")
    pub: Mapped[bytes] = mapped_column(LargeBinary(32))
    priv_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    not_before: Mapped[int] = mapped_column(BigInteger)
    not_after: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    """Signs new passes. A retired issuer key stays in the trust list until `not_after`."""
    created_at: Mapped[int] = mapped_column(BigInteger)


class Worker(Base):
    """A domestic worker (家政服务员)."""

    __tablename__ = "workers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(30), default="")
    id_number_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_masked: Mapped[str] = mapped_column(String(30), default="")
    services: Mapped[int] = mapped_column(Integer, default=0)
    health_check_until: Mapped[date | None] = mapped_column(Date)
    photo: Mapped[bytes] = mapped_column(LargeBinary)
    photo_type: Mapped[str] = mapped_column(String(40))
    photo_digest: Mapped[bytes] = mapped_column(LargeBinary(16))
    demo_key: Mapped[str | None] = mapped_column(String(20), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)

    agency: Mapped[Agency] = relationship(lazy="joined", innerjoin=True)
    trainings: Mapped[list[Training]] = relationship(lazy="selectin", order_by="Training.day")


class Training(Base):
    """A training record (培训记录) of a worker."""

    __tablename__ = "trainings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    course: Mapped[str] = mapped_column(String(100))
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"))
    day: Mapped[date] = mapped_column(Date)
    hours: Mapped[int] = mapped_column(Integer, default=0)
    certificate: Mapped[str] = mapped_column(String(100), default="")
    valid_until: Mapped[date | None] = mapped_column(Date)


class Pass(Base):
    """One door-service pass (上门服务证): issued to a worker, bound to one phone at enrollment."""

    __tablename__ = "passes"
    serial: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    kid: Mapped[str] = mapped_column(String(16))
    status_index: Mapped[int] = mapped_column(Integer, unique=True)
    issued_day: Mapped[int] = mapped_column(Integer)
    expires_day: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), default="active")  # active | suspended | revoked
    colour: Mapped[int] = mapped_column(SmallInteger, default=0)  # 0 green, 1 yellow, 2 red
    reason: Mapped[str] = mapped_column(String(200), default="")
    reason_en: Mapped[str] = mapped_column(String(200), default="")
    device_pub: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    totp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    cred: Mapped[bytes | None] = mapped_column(LargeBinary)
    issuer_sig: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    enrolled_at: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)

    worker: Mapped[Worker] = relationship(lazy="joined", innerjoin=True)

    @property
    def list_value(self) -> int:
        """This pass's 2-bit entry in the status list."""
        if self.state == "revoked":
            return 3
        if self.state == "suspended":
            return 2
        return self.colour


class ActivationCode(Base):
    """A one-time code that binds a phone to a pass; only its hash is stored."""

    __tablename__ = "activation_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[int] = mapped_column(ForeignKey("passes.serial"), index=True)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    used_at: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)


class PassEvent(Base):
    """What happened to a pass, by whom and when (可追溯)."""

    __tablename__ = "pass_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[int] = mapped_column(BigInteger, index=True)
    at: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(Text, default="{}")


class VerificationEvent(Base):
    """An online verification: who asked about which pass, when, and the answer."""

    __tablename__ = "verification_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[int | None] = mapped_column(BigInteger, index=True)
    at: Mapped[int] = mapped_column(BigInteger)
    result: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))  # qr | code
    verifier: Mapped[str] = mapped_column(String(60))
    device_id: Mapped[str | None] = mapped_column(String(64))


class ListState(Base):
    """The current signed trust list or status list (one row each), re-signed with `seq` + 1 on change."""

    __tablename__ = "list_state"
    name: Mapped[str] = mapped_column(String(10), primary_key=True)  # trust | status
    seq: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[int] = mapped_column(BigInteger)
    envelope: Mapped[str] = mapped_column(Text)
    etag: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer, default=0)
    bitstring: Mapped[bytes | None] = mapped_column(LargeBinary)



# ---------------------------------------------------------------- staff accounts


class Account(Base):
    """A staff account: the regulator, an agency's admin or staff, an outlet's staff. Signs in with two factors."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    """Lower-case letters, digits, `.`, `_`, `-`."""
    display_name: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(20))  # server.auth.Role
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    """argon2id, with its parameters (argon2-cffi's encoded form)."""
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    """Sealed under the master key; set at setup, in force once `totp_enabled`."""
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    """The last TOTP step accepted: a code is good once."""
    recovery_hashes: Mapped[str] = mapped_column(Text, default="")
    """Unused recovery codes, as comma-separated SHA-256 hex digests."""
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[int] = mapped_column(BigInteger, default=0)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(60), default="")


class StaffSession(Base):
    """A signed-in browser: the cookie holds a random token, the database only its SHA-256."""

    __tablename__ = "staff_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    two_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    """Signed in with the second factor (or proved it at setup). Without it only the account routes answer."""
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_seen: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)




# ---------------------------------------------------------------- offline records (sync owns `devices`, `sync_records`)


class Visit(Base):
    """A home visit (上门服务): the six facts home-care visit verification asks for."""

    __tablename__ = "visits"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    serial: Mapped[int] = mapped_column(BigInteger, index=True)
    device_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    """The worker's phone that checked in: the pass's own device (docs/devices.md)."""
    household_pseudonym: Mapped[str] = mapped_column(String(22), default="", server_default="")
    """The per-visit pseudonym from the household's visit code: names no device."""
    code_at: Mapped[int | None] = mapped_column(BigInteger)
    """When the household verified the pass (its visit code's time)."""
    code_sig: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    """The household device's signature over the visit code; checked when that household's review arrives."""
    household_device: Mapped[str | None] = mapped_column(String(64))
    """The household device proved to have made the visit code (its review or complaint of this visit verified
    `code_sig`): the visit is confirmed. None until then. Never sent to the worker."""
    service: Mapped[str] = mapped_column(String(20))
    day: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float | None] = mapped_column()
    lon: Mapped[float | None] = mapped_column()
    started_at: Mapped[int | None] = mapped_column(BigInteger)
    ended_at: Mapped[int | None] = mapped_column(BigInteger)


class Review(Base):
    """A household's review of a verified visit: one per (visit, household device), where the visit is the shown code
    (`frame_digest` is `visit_key`: issuer, pass, step) and, when given, `visit_id`. The rule is checked by the applier
    while the device's row is locked (one push per device at a time), so it holds across processes."""

    __tablename__ = "reviews"
    __table_args__ = (Index(None, "frame_digest", "device_id"), Index(None, "visit_id", "device_id"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    serial: Mapped[int] = mapped_column(BigInteger, index=True)
    frame_digest: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    """The household device that signed the review."""
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Its device made the visit code the worker checked in with: a confirmed visit (docs/devices.md)."""
    visit_id: Mapped[str | None] = mapped_column(String(36))
    stars: Mapped[int] = mapped_column(SmallInteger)
    tags: Mapped[str] = mapped_column(String(200), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[int] = mapped_column(BigInteger)


class Complaint(Base):
    """A household's complaint (投诉) about a verified visit; it reaches the agency and the regulator."""

    __tablename__ = "complaints"
    __table_args__ = (Index(None, "frame_digest", "device_id"), Index(None, "visit_id", "device_id"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    serial: Mapped[int] = mapped_column(BigInteger, index=True)
    agency_id: Mapped[int] = mapped_column(Integer, index=True)
    frame_digest: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    """The household device that signed the complaint: one per (visit, device), as reviews."""
    visit_id: Mapped[str | None] = mapped_column(String(36))
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    category: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)
    at: Mapped[int] = mapped_column(BigInteger)


class TrainingSession(Base):
    """A training session an outlet opened (offline, on a staff phone)."""

    __tablename__ = "training_sessions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    outlet_id: Mapped[int] = mapped_column(Integer, index=True)
    course: Mapped[str] = mapped_column(String(100))
    day: Mapped[date] = mapped_column(Date)
    device_id: Mapped[str] = mapped_column(String(64))


class OutletDevice(Base):
    """A phone tied to an outlet by an outlet staff account signed in on it (docs/devices.md): its session and
    attendance records count while that account stays active and of that outlet."""

    __tablename__ = "outlet_devices"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    bound_at: Mapped[int] = mapped_column(BigInteger)


class Attendance(Base):
    """A trainee present at a session: by pass (scanned) or by trainee number (typed). Once per trainee."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("session_id", "trainee"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36), index=True)
    trainee: Mapped[str] = mapped_column(String(40))
    """`pass:<serial>` or `no:<trainee number>`."""
    serial: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(40), default="")
    at: Mapped[int] = mapped_column(BigInteger)


__all__ = [
    "Account",
    "ActivationCode",
    "Agency",
    "Attendance",
    "Complaint",
    "Review",
    "TrainingSession",
    "Visit",
    "Base",
    "ListState",
    "Outlet",
    "OutletDevice",
    "Pass",
    "PassEvent",
    "SigningKey",
    "StaffSession",
    "Training",
    "VerificationEvent",
    "Worker",
]
