"""The tables sync owns: the devices that push and every record they pushed.

Their own declarative base and `MetaData` (the server's naming convention, so the constraint names are the
server's too); Alembic reads both metadatas. Times are Unix seconds (UTC) in BIGINT columns.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, LargeBinary, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class SyncBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


sync_metadata = SyncBase.metadata


class Device(SyncBase):
    """A phone that pushes records; `seq` is the highest per-device sequence number applied."""

    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    first_seen: Mapped[int] = mapped_column(BigInteger)
    last_seen: Mapped[int] = mapped_column(BigInteger)
    quota_day: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """The UTC day number (Unix seconds // 86400) the two counters below count."""
    quota_records: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Records stored for this device on `quota_day` (applied and rejected)."""
    quota_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Bytes of record bodies stored for this device on `quota_day` (a rejected record counts its prefix only)."""
    pub: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    """Its raw Ed25519 public key (docs/devices.md); the id is derived from it. None: a row from before device keys,
    which can prove no request."""
    registered_at: Mapped[int | None] = mapped_column(BigInteger)
    """When the key was registered (`POST /api/sync/devices`)."""


class SyncRecord(SyncBase):
    """Every record a device pushed, once: its receipt is kept so a replay gets the same answer.

    An applied record keeps its whole body, the exact JSON text its device signed; a rejected one only its first
    `sync.push.PREFIX` bytes
    (the hash still decides duplicate or conflict) and its full size in `body_size`.
    """

    __tablename__ = "sync_records"
    cursor: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    device_seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    body_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 (hex) of the whole body, as the device sent it."""
    body_size: Mapped[int | None] = mapped_column(BigInteger)
    """Bytes of the whole body (None: stored before it was counted, when the body was always whole)."""
    status: Mapped[str] = mapped_column(String(10))  # applied | rejected
    reason: Mapped[str] = mapped_column(String(300), default="")
    reason_en: Mapped[str] = mapped_column(String(300), default="")
    serial: Mapped[int | None] = mapped_column(BigInteger, index=True)
    """The worker's pass the record is about, when there is one."""
    received_at: Mapped[int] = mapped_column(BigInteger)
    sig: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    """The device's Ed25519 signature over `wire.RECORD_DOMAIN` || `body` (docs/devices.md), kept so anyone can check
    later who made the record. None: applied before signed records (protocol 1), or rejected (prefix only)."""


__all__ = ["NAMING", "Device", "SyncBase", "SyncRecord", "sync_metadata"]
