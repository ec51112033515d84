"""Offline records as a phone makes them: UUIDv7 ids, per-device sequence numbers."""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx

import crypto
import sync
from server.domain.records import visitcode
from sync.devices import signed_headers


def uuid7(ms: int | None = None) -> str:
    """RFC 9562 UUIDv7: 48-bit Unix milliseconds, version 7, random rest."""
    ms = int(time.time() * 1000) if ms is None else ms
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & (2**48 - 1)) << 80 | 0x7 << 76 | (rand >> 68 & 0xFFF) << 64 | 0b10 << 62 | (rand & (2**62 - 1))
    return str(uuid.UUID(int=value))


VERSIONS = {"protocol": sync.PROTOCOL, "schema": sync.SCHEMA}
"""What every push says: the protocol and record schema the phone speaks."""


class Device:
    """A phone: its Ed25519 device key (docs/devices.md), its id derived from the key, and records numbered the
    way the PWA's outbox does. `push` / `pull` register the key once per client, then sign each request."""

    def __init__(self, key: bytes | None = None) -> None:
        self.key = key or crypto.new_signing_key()
        self.pub = crypto.public_key(self.key)
        self.id = sync.device_id_of(self.pub)
        self.seq = 0
        self._registered: set[int | str] = set()

    def signed(self, method: str, path_and_query: str, body: bytes = b"", *, at: int | None = None) -> dict[str, str]:
        """The three X-DoorPass-* headers for this request, signed now (or at `at`)."""
        return signed_headers(self.key, self.id, method, path_and_query, body, int(time.time()) if at is None else at)

    def register(self, client_or_base: Any) -> Any:
        """`POST /api/sync/devices`: with a base URL, at once (returns the answer); with an async test client, an
        awaitable of the answer."""
        body = {"device_pub": crypto.b64u_encode(self.pub)}
        if isinstance(client_or_base, str):
            r = httpx.post(f"{client_or_base}/api/sync/devices", json=body, timeout=30)
            assert r.status_code == 200, r.text
            self._registered.add(client_or_base)
            return r.json()

        async def go() -> dict:
            r = await client_or_base.post("/api/sync/devices", json=body)
            assert r.status_code == 200, r.text
            self._registered.add(id(client_or_base))
            return r.json()

        return go()

    def envelope(self, record: object) -> dict[str, str]:
        """A record as protocol 2 sends it: its JSON text and this device's signature over it (docs/devices.md)."""
        text = json.dumps(record, ensure_ascii=False)
        return {"body": text, "sig": crypto.b64u_encode(crypto.sign(self.key, sync.RECORD_DOMAIN + text.encode()))}

    def visit_code(self, visit_id: str, serial: int, at: int | None = None) -> str:
        """The household's signed visit code for the worker to scan (a new pseudonym each time)."""
        return visitcode.make(self.key, visit_id, crypto.b64u_encode(os.urandom(16)), serial, int(time.time()) if at is None else at)

    def push_request(self, body: dict, *, at: int | None = None, sign: bool = True) -> tuple[bytes, dict[str, str]]:
        """A push's exact body bytes and its headers (signed, JSON content type). With `sign`, each record in
        `records` is sent in its signed envelope; without, the records are sent as they are."""
        if sign and isinstance(body.get("records"), list):
            body = {**body, "records": [self.envelope(r) for r in body["records"]]}
        data = json.dumps(body, ensure_ascii=False).encode()
        return data, {"content-type": "application/json", **self.signed("POST", "/api/sync/push", data, at=at)}

    def pull_target(self, params: dict | None = None) -> str:
        """`/api/sync/pull?device_id=<this device>&...` (the target the signature covers)."""
        return "/api/sync/pull?" + urlencode({"device_id": self.id, **(params or {})})

    @staticmethod
    def now_of(client: Any) -> int:
        """The phone's server-corrected clock: the test app's clock (which tests move), else the wall clock."""
        clock = getattr(getattr(getattr(client, "app", None), "state", None), "clock", None)
        return int(clock.now()) if clock is not None else int(time.time())

    async def push(self, client: Any, records: list, *, versions: bool = True, sign: bool = True,
                   **extra: object) -> httpx.Response:
        """Register if needed, then push `records`, each in its signed envelope (as they are with `sign=False`),
        the request signed: with the versions (none with `versions=False`; `extra` overrides any field of the body)."""
        if id(client) not in self._registered:
            await self.register(client)
        body = {"device_id": self.id, "records": records, **(VERSIONS if versions else {}), **extra}
        data, headers = self.push_request(body, at=self.now_of(client), sign=sign)
        return await client.post("/api/sync/push", content=data, headers=headers)

    async def pull(self, client: Any, **params: object) -> httpx.Response:
        """Register if needed, then pull signed (`params`: cursor, serial, outlet_id, limit)."""
        if id(client) not in self._registered:
            await self.register(client)
        target = self.pull_target(params)
        return await client.get(target, headers=self.signed("GET", target, at=self.now_of(client)))

    def record(self, kind: str, **body: object) -> dict:
        self.seq += 1
        return {"kind": kind, "id": uuid7(), "seq": self.seq, "at": int(time.time()), **body}
