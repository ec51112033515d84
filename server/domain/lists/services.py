"""Keys and the signed lists: root, status and issuer keys; the trust list; the status list.

Private keys live sealed (server/secrets.py: AES-GCM under the master keyring, the kid bound in).
A change to an issuer re-signs the trust list; a change to any pass's status
re-signs the status list with `seq` + 1, in the same transaction as the change,
under a row lock so that several server processes never hand out one `seq` twice.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

import crypto
from crypto import Keyring
from server.db.models import Agency, ListState, SigningKey
from server.errors import Conflict
from server.secrets import open_signing_key, seal_signing_key

if TYPE_CHECKING:
    from server.db.engine import Database

ROOT_KID = "root"
STATUS_KID = "status"


def _kid(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"[:16]


async def _new_key(
    session: AsyncSession, master: Keyring, *, kid: str, purpose: str, now: int, not_after: int,
    agency: Agency | None = None,
) -> tuple[SigningKey, bytes]:
    priv = crypto.new_signing_key()
    row = SigningKey(
        kid=kid,
        purpose=purpose,
        agency_id=agency.id if agency else None,
        name=agency.name if agency else purpose,
        pub=crypto.public_key(priv),
        priv_sealed=seal_signing_key(master, kid, priv),
        not_before=now,
        not_after=not_after,
        active=True,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row, priv


def unseal_key(master: Keyring, row: SigningKey) -> bytes:
    return open_signing_key(master, row.kid, row.priv_sealed)


async def key_by_kid(session: AsyncSession, kid: str) -> SigningKey | None:
    return (await session.execute(select(SigningKey).where(SigningKey.kid == kid))).scalar_one_or_none()


async def ensure_platform_keys(session: AsyncSession, master: Keyring, *, now: int, status_size: int) -> bool:
    """Create the root and status keys and both lists if missing. Returns True when it created them."""
    if await key_by_kid(session, ROOT_KID) is not None:
        return False
    forever = now + 50 * 366 * 86400
    await _new_key(session, master, kid=ROOT_KID, purpose="root", now=now, not_after=forever)
    await _new_key(session, master, kid=STATUS_KID, purpose="status", now=now, not_after=forever)
    # Entries not yet given to a pass read as revoked: fail closed.
    bits = crypto.pack_status([3] * status_size, status_size)
    session.add(ListState(name="status", seq=0, issued_at=now, envelope="", etag="", size=status_size, bitstring=bits))
    session.add(ListState(name="trust", seq=0, issued_at=now, envelope="", etag=""))
    await session.flush()
    await resign_status(session, master, now=now)
    await resign_trust(session, master, now=now)
    return True


async def root_pub(session: AsyncSession) -> bytes:
    row = await key_by_kid(session, ROOT_KID)
    if row is None:
        raise Conflict("平台密钥尚未创建", "Platform keys have not been created")
    return row.pub


async def create_issuer_key(session: AsyncSession, master: Keyring, agency: Agency, *, now: int, days: int) -> SigningKey:
    """A new issuer key for the agency. Older keys retire: they sign nothing more and stay in
    the trust list only until the last pass they signed expires (end of its last valid day)."""
    from server.db.models import Pass  # passes depend on keys, not the other way round

    for old in (
        await session.execute(
            select(SigningKey).where(SigningKey.agency_id == agency.id, SigningKey.active.is_(True))
        )
    ).scalars():
        old.active = False
        last_day = (
            await session.execute(
                select(func.max(Pass.expires_day)).where(Pass.kid == old.kid, Pass.state != "revoked")
            )
        ).scalar_one_or_none()
        old.not_after = min(old.not_after, (last_day + 1) * 86400 - 1 if last_day is not None else now - 1)
    row, _ = await _new_key(
        session, master, kid=_kid(f"a{agency.id}"), purpose="issuer", now=now, not_after=now + days * 86400, agency=agency
    )
    await resign_trust(session, master, now=now)
    return row


async def active_issuer_key(session: AsyncSession, agency_id: int) -> SigningKey | None:
    return (
        await session.execute(
            select(SigningKey)
            .where(SigningKey.agency_id == agency_id, SigningKey.active.is_(True), SigningKey.purpose == "issuer")
            .order_by(SigningKey.id.desc())
        )
    ).scalars().first()


async def _locked(session: AsyncSession, name: str) -> ListState:
    row = (
        await session.execute(select(ListState).where(ListState.name == name).with_for_update())
    ).scalar_one_or_none()
    if row is None:
        raise Conflict("平台密钥尚未创建", "Platform keys have not been created")
    return row


def _store(row: ListState, envelope: dict, *, seq: int, now: int) -> None:
    text = json.dumps(envelope, separators=(",", ":"))
    row.seq = seq
    row.issued_at = now
    row.envelope = text
    row.etag = hashlib.sha256(text.encode()).hexdigest()[:32]


async def resign_trust(session: AsyncSession, master: Keyring, *, now: int) -> None:
    """Re-sign the trust list from the issuer keys still within their validity."""
    row = await _locked(session, "trust")
    root = await key_by_kid(session, ROOT_KID)
    status = await key_by_kid(session, STATUS_KID)
    assert root is not None and status is not None
    keys = (
        await session.execute(
            select(SigningKey).where(SigningKey.purpose == "issuer", SigningKey.not_after >= now).order_by(SigningKey.id)
        )
    ).scalars()
    issuers = [
        crypto.Issuer(kid=k.kid, pub=k.pub, agency_id=k.agency_id or 0, name=k.name, not_before=k.not_before, not_after=k.not_after)
        for k in keys
    ]
    seq = row.seq + 1
    env = crypto.build_trust(unseal_key(master, root), seq=seq, issued_at=now, status_pub=status.pub, issuers=issuers)
    _store(row, env, seq=seq, now=now)
    _note_change(session)


async def resign_status(session: AsyncSession, master: Keyring, *, now: int, changes: dict[int, int] | None = None) -> int:
    """Apply `{status_index: value}` to the status list and re-sign it. Returns the new seq."""
    row = await _locked(session, "status")
    bits = bytearray(row.bitstring or b"")
    for index, value in (changes or {}).items():
        byte, shift = divmod(index, 4)
        shift = 6 - 2 * shift
        bits[byte] = (bits[byte] & ~(3 << shift) & 0xFF) | ((value & 3) << shift)
    row.bitstring = bytes(bits)
    key = await key_by_kid(session, STATUS_KID)
    assert key is not None
    seq = row.seq + 1
    env = crypto.build_status(unseal_key(master, key), seq=seq, issued_at=now, size=row.size, bitstring=row.bitstring)
    _store(row, env, seq=seq, now=now)
    _note_change(session)
    return seq


async def status_size(session: AsyncSession) -> int:
    row = (await session.execute(select(ListState.size).where(ListState.name == "status"))).scalar_one()
    return int(row)


async def current(session: AsyncSession, name: str) -> ListState:
    row = (await session.execute(select(ListState).where(ListState.name == name))).scalar_one_or_none()
    if row is None or not row.envelope:
        raise Conflict("平台密钥尚未创建", "Platform keys have not been created")
    return row


async def opened_lists(session: AsyncSession) -> tuple[crypto.TrustList, crypto.StatusList]:
    """The current trust and status lists, opened and checked as any verifier would."""
    trust_row = await current(session, "trust")
    status_row = await current(session, "status")
    trust = crypto.open_trust(json.loads(trust_row.envelope), await root_pub(session))
    status = crypto.open_status(json.loads(status_row.envelope), trust.status_pub)
    return trust, status



# --- The lists in memory -------------------------------------------------------------------------------------------

MAX_AGE = 2.0
"""Seconds a process serves its in-memory lists before it asks the database whether they changed (one small query of
both etags). A change made by this process is seen at its next request (`_note_change`); a change made by another
process (another server on the same database) within `MAX_AGE` seconds plus one request's time."""

_changes: dict[int, int] = {}
"""Per database pool (id of the engine's pool: one per `Database`), how many re-signed lists this process committed."""


def _pool_key(session: AsyncSession) -> int:
    return id(session.sync_session.get_bind().pool)  # type: ignore[union-attr]  # an Engine or its OptionEngine


def _note_change(session: AsyncSession) -> None:
    """Once the transaction that re-signed a list commits, the lists of this process's caches on that database are due."""
    key = _pool_key(session)

    def committed(_session: object) -> None:
        _changes[key] = _changes.get(key, 0) + 1
        session.info.pop("doorpass_lists_hook", None)  # a later transaction of this session hooks again

    from sqlalchemy import event

    if not session.info.get("doorpass_lists_hook"):
        session.info["doorpass_lists_hook"] = True
        event.listen(session.sync_session, "after_commit", committed, once=True)


@dataclass(frozen=True)
class WireList:
    """One signed list as it goes on the wire: its bytes, gzipped once, and its etag."""

    etag: str
    body: bytes
    gzipped: bytes
    seq: int


@dataclass(frozen=True)
class Snapshot:
    """Both lists at one moment: opened (for verifying) and as served (for GET /api/trust and /api/status)."""

    trust: crypto.TrustList
    status: crypto.StatusList
    served: dict[str, WireList]

    @property
    def key(self) -> tuple[str, str]:
        return self.served["trust"].etag, self.served["status"].etag


def _served(row: ListState) -> WireList:
    body = row.envelope.encode()
    return WireList(etag=row.etag, body=body, gzipped=gzip.compress(body, 6, mtime=0), seq=row.seq)


class ListCache:
    """The trust and status lists of one process, in memory: opened once per change, served without the database.

    `fresh(db)` answers from memory and re-checks the database's etags when the last check is older than `max_age`
    seconds or this process committed a re-signed list since; only a changed list is read and opened again. While one
    request re-checks, the others keep answering from the copy they have (it is at most `max_age` plus that check old).
    """

    def __init__(self, max_age: float = MAX_AGE) -> None:
        self.max_age = max_age
        self.snapshot: Snapshot | None = None
        self._checked = -float("inf")
        self._seen_changes = -1
        self._pool: int | None = None
        self._lock = asyncio.Lock()
        self._root: bytes | None = None

    @property
    def value(self) -> tuple[crypto.TrustList, crypto.StatusList] | None:
        return None if self.snapshot is None else (self.snapshot.trust, self.snapshot.status)

    def _due(self) -> bool:
        if self.snapshot is None or time.monotonic() - self._checked >= self.max_age:
            return True
        return self._pool is not None and _changes.get(self._pool, 0) != self._seen_changes

    async def fresh(self, db: Database) -> Snapshot:
        """The lists, re-checked against the database when due (see the class)."""
        if not self._due():
            assert self.snapshot is not None
            return self.snapshot
        if self.snapshot is not None and self._lock.locked():
            return self.snapshot  # another request is re-checking: this one need not wait for it
        async with self._lock:
            if self._due():
                async with db.read() as session:
                    await self._check(session)
        assert self.snapshot is not None
        return self.snapshot

    async def get(self, session: AsyncSession) -> tuple[crypto.TrustList, crypto.StatusList]:
        """The opened lists, re-checked (when due) in the caller's transaction (a push validates records against them)."""
        if self._due():
            await self._check(session)
        assert self.snapshot is not None
        return self.snapshot.trust, self.snapshot.status

    async def _check(self, session: AsyncSession) -> None:
        self._pool = _pool_key(session)
        seen = _changes.get(self._pool, 0)
        started = time.monotonic()
        etags = {name: etag for name, etag in (await session.execute(select(ListState.name, ListState.etag))).all()}
        old = self.snapshot
        if old is None or (etags.get("trust"), etags.get("status")) != old.key:
            self.snapshot = await self._load(session, old, etags)
        self._checked, self._seen_changes = started, seen

    async def _load(self, session: AsyncSession, old: Snapshot | None, etags: dict[str, str]) -> Snapshot:
        if self._root is None:
            self._root = await root_pub(session)
        served: dict[str, WireList] = {}
        for name in ("trust", "status"):
            if old is not None and old.served[name].etag == etags.get(name):
                served[name] = old.served[name]
            else:
                served[name] = _served(await current(session, name))
        trust = old.trust if old is not None and served["trust"] is old.served["trust"] else \
            crypto.open_trust(json.loads(served["trust"].body), self._root)
        if old is not None and served["status"] is old.served["status"] and trust is old.trust:
            status = old.status
        else:
            status = crypto.open_status(json.loads(served["status"].body), trust.status_pub)
        return Snapshot(trust=trust, status=status, served=served)

    async def root(self, db: Database) -> bytes:
        """The root public key (it never changes for a database)."""
        if self._root is None:
            async with db.read() as session:
                self._root = await root_pub(session)
        return self._root
