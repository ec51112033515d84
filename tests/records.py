"""Offline records as a phone makes them: UUIDv7 ids, per-device sequence numbers."""

from __future__ import annotations

import os
import time
import uuid


def uuid7(ms: int | None = None) -> str:
    """RFC 9562 UUIDv7: 48-bit Unix milliseconds, version 7, random rest."""
    ms = int(time.time() * 1000) if ms is None else ms
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & (2**48 - 1)) << 80 | 0x7 << 76 | (rand >> 68 & 0xFFF) << 64 | 0b10 << 62 | (rand & (2**62 - 1))
    return str(uuid.UUID(int=value))


class Device:
    """Numbers records the way the PWA's outbox does."""

    def __init__(self, device_id: str | None = None) -> None:
        self.id = device_id or f"dev-{uuid.uuid4().hex[:16]}"
        self.seq = 0

    def record(self, kind: str, **body: object) -> dict:
        self.seq += 1
        return {"kind": kind, "id": uuid7(), "seq": self.seq, "at": int(time.time()), **body}
