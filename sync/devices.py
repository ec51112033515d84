"""Device keys (docs/devices.md): a phone proves its sync requests with an Ed25519 key it holds.

The id is derived from the public key, so no phone can take another's; a request is signed over its method,
target, time and the SHA-256 of its exact body. `check_request` is pure (time passed in); `register` and
`prove` read and write the `devices` table in the caller's transaction.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from crypto import CryptoError, b64u_decode, b64u_encode, sign, verify_sig
from sync.models import Device

CLOCK_WINDOW = 300
"""Seconds a request's `X-DoorPass-Time` may lie from the server's clock."""

ID_DOMAIN = b"DP1/device\0"
REQUEST_DOMAIN = b"DP1/request\0"

HEADER_DEVICE = "X-DoorPass-Device"
HEADER_TIME = "X-DoorPass-Time"
HEADER_SIGNATURE = "X-DoorPass-Signature"


class DeviceError(Exception):
    """A sync request is not proved by its device's key."""


class BadDeviceKey(DeviceError):
    """A key offered for registration is not a raw 32-byte Ed25519 public key."""


class DeviceUnproved(DeviceError):
    """Headers missing or malformed, device not registered, or a signature that does not verify."""


class DeviceClock(DeviceError):
    """The request's time is more than `CLOCK_WINDOW` s from the server's: the phone corrects and signs again."""

    def __init__(self, server_time: int) -> None:
        super().__init__(f"request time outside ±{CLOCK_WINDOW} s of the server's {server_time}")
        self.server_time = server_time


class DeviceMismatch(DeviceError):
    """The request names another device than the one that signed it."""


def device_id_of(pub: bytes) -> str:
    """"d" + b64u(SHA-256("DP1/device\\0" || pub))[0:22]: 23 characters."""
    return "d" + b64u_encode(hashlib.sha256(ID_DOMAIN + bytes(pub)).digest())[:22]


def parse_pub(text: str) -> bytes:
    """A registration's `device_pub` (b64u of the raw 32-byte key), or `BadDeviceKey`."""
    try:
        pub = b64u_decode(text)
    except (CryptoError, ValueError) as e:
        raise BadDeviceKey("device_pub is not base64url") from e
    if len(pub) != 32:
        raise BadDeviceKey(f"device_pub has {len(pub)} bytes, not 32")
    return pub


def request_message(method: str, path_and_query: str, time: str, body: bytes) -> bytes:
    """M = "DP1/request\\0" || METHOD || "\\n" || PATH_AND_QUERY || "\\n" || TIME || "\\n" || hex(SHA-256(BODY))."""
    text = f"{method.upper()}\n{path_and_query}\n{time}\n{hashlib.sha256(body).hexdigest()}"
    return REQUEST_DOMAIN + text.encode()


def check_request(
    pub: bytes | None, *, time: str | None, signature: str | None, method: str, path_and_query: str, body: bytes, now: int,
) -> None:
    """Raise unless `signature` is `pub`'s over this request and `time` lies within `CLOCK_WINDOW` of `now`.

    `pub` None: the device is not registered (or was seen before device keys). The signature is checked first, so
    only a proven device learns about its clock (`DeviceClock`)."""
    if pub is None or time is None or signature is None:
        raise DeviceUnproved("no registered device, time or signature")
    if not time.isascii() or not time.isdigit() or len(time) > 15:
        raise DeviceUnproved("X-DoorPass-Time is not Unix seconds")
    try:
        sig = b64u_decode(signature)
    except (CryptoError, ValueError) as e:
        raise DeviceUnproved("X-DoorPass-Signature is not base64url") from e
    if not verify_sig(pub, sig, request_message(method, path_and_query, time, body)):
        raise DeviceUnproved("the signature does not verify")
    if abs(int(time) - now) > CLOCK_WINDOW:
        raise DeviceClock(now)


def _insert(session: AsyncSession):
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def register(session: AsyncSession, pub: bytes, *, now: int) -> Device:
    """The device of key `pub`, registered now if it was not: the same key always answers the same row."""
    device_id = device_id_of(pub)
    await session.execute(
        _insert(session)(Device)
        .values(id=device_id, seq=0, first_seen=now, last_seen=now, pub=pub, registered_at=now)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    device = (await session.execute(select(Device).where(Device.id == device_id))).scalar_one()
    if device.pub is None:  # a row made before device keys under this very id: the key now owns it
        await session.execute(update(Device).where(Device.id == device_id).values(pub=pub, registered_at=now))
        await session.refresh(device)
    return device


async def prove(
    session: AsyncSession, *, device_id: str | None, time: str | None, signature: str | None, method: str,
    path_and_query: str, body: bytes, now: int,
) -> str:
    """The id of the registered device that signed this request, or a `DeviceError`."""
    if not device_id or len(device_id) > 64:
        raise DeviceUnproved("no X-DoorPass-Device")
    pub = (await session.execute(select(Device.pub).where(Device.id == device_id))).scalar_one_or_none()
    check_request(pub, time=time, signature=signature, method=method, path_and_query=path_and_query, body=body, now=now)
    return device_id


def signed_headers(priv: bytes, device_id: str, method: str, path_and_query: str, body: bytes, time: int) -> dict[str, str]:
    """The three headers a phone sends (for tests and tools; the PWA makes them in `pwa/src/app/device.ts`)."""
    t = str(time)
    return {HEADER_DEVICE: device_id, HEADER_TIME: t,
            HEADER_SIGNATURE: b64u_encode(sign(priv, request_message(method, path_and_query, t, body)))}


__all__ = [
    "CLOCK_WINDOW", "HEADER_DEVICE", "HEADER_SIGNATURE", "HEADER_TIME", "BadDeviceKey", "DeviceClock", "DeviceError",
    "DeviceMismatch", "DeviceUnproved", "check_request", "device_id_of", "parse_pub", "prove", "register",
    "request_message", "signed_headers",
]
