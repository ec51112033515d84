"""Keys and the signed lists: root, status and issuer keys; the trust list; the status list.

Private keys live sealed (server/secrets.py: AES-GCM under the master keyring, the kid bound in).
A change to an issuer re-signs the trust list; a change to any pass's status
re-signs the status list with `seq` + 1, in the same transaction as the change,
under a row lock so that several server processes never hand out one `seq` twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text
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
    await _note_change(session, "trust")


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
    await _note_change(session, "status")
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
process (another server on the same database): on PostgreSQL at the next request after its notification arrives
(`ListListener`), and within `MAX_AGE` seconds plus one request's time whenever nobody listens (and on SQLite)."""

CHANNEL = "doorpass_lists"
"""PostgreSQL's notification channel: a process that re-signs a list notifies it in the same transaction, and every
process's `ListListener` marks its cache due when it hears it (the payload names the list; any one makes both due)."""

_changes: dict[int, int] = {}
"""Per database pool (id of the engine's pool: one per `Database`), how many re-signed lists this process committed."""


def _pool_key(session: AsyncSession) -> int:
    return id(session.sync_session.get_bind().pool)  # type: ignore[union-attr]  # an Engine or its OptionEngine


async def _note_change(session: AsyncSession, name: str) -> None:
    """Once the transaction that re-signed a list commits, the lists of this process's caches on that database are due;
    on PostgreSQL every other process is told too (`NOTIFY`, sent by the database at commit, dropped on rollback)."""
    key = _pool_key(session)

    def committed(_session: object) -> None:
        _changes[key] = _changes.get(key, 0) + 1
        session.info.pop("doorpass_lists_hook", None)  # a later transaction of this session hooks again

    from sqlalchemy import event

    if not session.info.get("doorpass_lists_hook"):
        session.info["doorpass_lists_hook"] = True
        event.listen(session.sync_session, "after_commit", committed, once=True)
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_notify(:channel, :name)"), {"channel": CHANNEL, "name": name})


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
    request makes the periodic re-check, the others keep answering from the copy they have (it is at most `max_age`
    plus that check old); when a change is known (committed here, or notified), they wait for the re-check, so no
    answer after a revocation carries the list from before it.
    """

    def __init__(self, max_age: float = MAX_AGE) -> None:
        self.max_age = max_age
        self.snapshot: Snapshot | None = None
        self._checked = -float("inf")
        self._seen_changes = -1
        self._pool: int | None = None
        self._signals = 0
        self._seen_signals = 0
        self._lock = asyncio.Lock()
        self._root: bytes | None = None

    def mark_due(self) -> None:
        """Another process changed a list (or may have, while nobody listened): re-check at the next request. A mark
        that arrives while a check is under way makes one more check (the first may have read before the change)."""
        self._signals += 1

    @property
    def value(self) -> tuple[crypto.TrustList, crypto.StatusList] | None:
        return None if self.snapshot is None else (self.snapshot.trust, self.snapshot.status)

    def _due(self) -> bool:
        if self.snapshot is None or time.monotonic() - self._checked >= self.max_age:
            return True
        return self._changed()

    def _changed(self) -> bool:
        """A list is known to have changed since the last check (re-signed here, or another process said so)."""
        if self._signals != self._seen_signals:
            return True
        return self._pool is not None and _changes.get(self._pool, 0) != self._seen_changes

    async def fresh(self, db: Database) -> Snapshot:
        """The lists, re-checked against the database when due (see the class)."""
        if not self._due():
            assert self.snapshot is not None
            return self.snapshot
        if self.snapshot is not None and self._lock.locked() and not self._changed():
            # another request is making the periodic re-check: this one need not wait for it. When a change is known
            # (a revocation just committed), every request waits for the new lists: none may answer with the old ones.
            return self.snapshot
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
        seen, signals = _changes.get(self._pool, 0), self._signals
        started = time.monotonic()
        etags = {name: etag for name, etag in (await session.execute(select(ListState.name, ListState.etag))).all()}
        old = self.snapshot
        if old is None or (etags.get("trust"), etags.get("status")) != old.key:
            self.snapshot = await self._load(session, old, etags)
        self._checked, self._seen_changes, self._seen_signals = started, seen, signals

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



# --- Hearing other processes' changes (PostgreSQL) -----------------------------------------------------------------

log = logging.getLogger("doorpass")


class ListListener:
    """LISTENs on `CHANNEL` on one dedicated connection (outside the pool) and marks the cache due on each notification,
    so a list re-signed by another process is served by this one at its next request, not up to `MAX_AGE` later.

    The `MAX_AGE` re-check stays: it is the bound whenever the listener is down (a lost connection, a database that
    refuses one more), and on SQLite, which has no notifications. A lost connection is reconnected with backoff
    (`RETRY_FIRST` doubling to `RETRY_MAX` seconds); each (re)connection marks the cache due, for the changes missed
    meanwhile. Nothing here ever fails the app: a listener that cannot listen logs a warning (never the address,
    which may carry a password) and keeps trying.
    """

    RETRY_FIRST = 0.5
    RETRY_MAX = 30.0
    START_WAIT = 5.0
    PING_EVERY = 15.0
    """Seconds between pings of an idle listening connection, so a connection dead without a word is found."""

    def __init__(self, cache: ListCache) -> None:
        self.cache = cache
        self.listening = False
        self.heard = 0
        """Notifications heard (tests and diagnostics)."""
        self.connections = 0
        """Listening connections made so far: more than one means it reconnected."""
        self.server_pid: int | None = None
        """The database's process id of the listening connection (to find it in pg_stat_activity)."""
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._tried = asyncio.Event()

    async def start(self, db: Database) -> None:
        """Listen in the background when `db` is PostgreSQL; on SQLite do nothing (the `MAX_AGE` bound holds).
        Waits (at most `START_WAIT` s) for the first attempt to connect, so a process that can listen is listening
        before it answers its first request; one that cannot goes on without (and keeps trying)."""
        if db.is_sqlite or self._task is not None:
            return
        args, kwargs = db.engine.dialect.create_connect_args(db.engine.url)
        for sqlalchemy_only in ("prepared_statement_cache_size", "prepared_statement_name_func", "async_fallback"):
            kwargs.pop(sqlalchemy_only, None)
        self._stopping, self._tried = asyncio.Event(), asyncio.Event()  # this event loop's (an app may start again)
        self._task = asyncio.create_task(self._run(args, kwargs), name="doorpass-lists-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._tried.wait(), self.START_WAIT)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    @property
    def reconnects(self) -> int:
        return max(self.connections - 1, 0)

    def _heard(self, _conn: object, _pid: int, _channel: str, _payload: str) -> None:
        self.heard += 1
        self.cache.mark_due()

    async def _run(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        delay = self.RETRY_FIRST
        while not self._stopping.is_set():
            try:
                await self._listen_once(args, kwargs)
                delay = self.RETRY_FIRST  # it listened, then lost the connection: try again soon
            except asyncio.CancelledError:
                raise
            except Exception as e:  # never the app's failure: the MAX_AGE bound holds meanwhile
                self._tried.set()
                log.warning("lists listener: cannot listen (%s); lists re-checked every %.0f s meanwhile, retrying in "
                            "%.1f s", type(e).__name__, self.cache.max_age, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            delay = min(delay * 2, self.RETRY_MAX)

    async def _listen_once(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        import asyncpg

        conn = await asyncpg.connect(*args, timeout=10, **kwargs)
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _c: lost.set())
            await conn.add_listener(CHANNEL, self._heard)
            self.server_pid, self.listening = conn.get_server_pid(), True
            self.connections += 1
            self._tried.set()
            self.cache.mark_due()  # what changed while nobody listened
            while not lost.is_set() and not conn.is_closed():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self.PING_EVERY)
                    break
                await conn.execute("SELECT 1", timeout=10)
        finally:
            self.listening = False
            if not conn.is_closed():
                with contextlib.suppress(Exception):
                    await conn.close(timeout=5)
        if not self._stopping.is_set():
            log.warning("lists listener: connection lost; reconnecting")
