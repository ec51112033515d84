"""Sealed columns: one helper per purpose, the list of every sealed column, and master-key rotation.

A sealed value is `crypto.seal` under the keyring's current key with the associated data
`"<table>.<column>:<row key>"`, so it names the key that opens it and the row it belongs to:
copied to another row (or column) it does not open (`crypto.DecryptError`).

Every sealed column is listed once, in `SEALED_COLUMNS`; `seal_field` refuses any other, so
`python -m server rotate-master-key` (`reseal_all`) never misses one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

import crypto
from crypto import Keyring
from server.keyfiles import MASTER_KEY_FILE, PREVIOUS_KEYS_FILE, LoadedKeyring, load_keyring, write_private_file
from server.settings import Settings


@dataclass(frozen=True)
class SealedColumn:
    """A column of sealed values, and the column whose value is the row key in the associated data."""

    table: str
    column: str
    row_key: str
    legacy_aad: Callable[[str], bytes] | None = None
    """For values sealed before key ids (no header): their associated data, from the row key."""


SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SealedColumn("signing_keys", "priv_sealed", "kid", legacy_aad=lambda kid: kid.encode()),
    SealedColumn("passes", "totp_sealed", "serial", legacy_aad=lambda serial: f"totp:{serial}".encode()),
    SealedColumn("workers", "id_number_sealed", "id", legacy_aad=lambda _id: b"id_number"),
    SealedColumn("accounts", "totp_secret_sealed", "id"),
)
"""Every sealed column in the database. A new one is added here (and sealed with `seal_field`)."""

_BY_NAME = {(c.table, c.column): c for c in SEALED_COLUMNS}


def field_aad(table: str, column: str, row_key: object) -> bytes:
    """The associated data that binds a sealed value to its row: `b"<table>.<column>:<row key>"`."""
    return f"{table}.{column}:{row_key}".encode()


def _column(table: str, column: str) -> SealedColumn:
    try:
        return _BY_NAME[(table, column)]
    except KeyError:
        raise ValueError(f"{table}.{column} is not in server.secrets.SEALED_COLUMNS") from None


def seal_field(keyring: Keyring, table: str, column: str, row_key: object, plaintext: bytes) -> bytes:
    """Seal `plaintext` for `table.column` of the row whose key is `row_key` (a column of SEALED_COLUMNS)."""
    _column(table, column)
    if isinstance(keyring, LoadedKeyring):
        keyring.reload_if_changed()
    return crypto.seal(keyring, plaintext, field_aad(table, column, row_key))


def open_field(keyring: Keyring, table: str, column: str, row_key: object, blob: bytes) -> bytes:
    """Open a value sealed by `seal_field` (or, for the columns that had them, one sealed before key ids).

    Raises `crypto.DecryptError` when it belongs to another row or was tampered with, `crypto.UnknownKey`
    when no key of the ring opens it (a server's keyring reloads its files once first)."""
    col = _column(table, column)
    aad = field_aad(table, column, row_key)
    legacy = col.legacy_aad(str(row_key)) if col.legacy_aad else None
    try:
        return crypto.unseal(keyring, blob, aad, legacy_aad=legacy)
    except crypto.UnknownKey:
        if not isinstance(keyring, LoadedKeyring):
            raise
        keyring.reload()  # another process rotated the master key
        return crypto.unseal(keyring, blob, aad, legacy_aad=legacy)


# ---------------------------------------------------------------- one helper per purpose


def seal_signing_key(keyring: Keyring, kid: str, priv: bytes) -> bytes:
    return seal_field(keyring, "signing_keys", "priv_sealed", kid, priv)


def open_signing_key(keyring: Keyring, kid: str, blob: bytes) -> bytes:
    return open_field(keyring, "signing_keys", "priv_sealed", kid, blob)


def seal_totp(keyring: Keyring, serial: int, secret: str) -> bytes:
    """A pass's TOTP secret (base32 text)."""
    return seal_field(keyring, "passes", "totp_sealed", serial, secret.encode())


def open_totp(keyring: Keyring, serial: int, blob: bytes) -> str:
    return open_field(keyring, "passes", "totp_sealed", serial, blob).decode()


def seal_id_number(keyring: Keyring, worker_id: int, number: str) -> bytes:
    """A worker's ID number; the worker id exists only after the insert is flushed."""
    return seal_field(keyring, "workers", "id_number_sealed", worker_id, number.encode())


def open_id_number(keyring: Keyring, worker_id: int, blob: bytes) -> str:
    return open_field(keyring, "workers", "id_number_sealed", worker_id, blob).decode()


# ---------------------------------------------------------------- rotation


class ResealError(Exception):
    """A sealed value did not open while re-sealing: nothing was changed."""


async def _present_columns(session: AsyncSession) -> list[SealedColumn]:
    """The sealed columns this database has (some arrive with later migrations)."""

    def inspect(conn: sa.Connection) -> dict[str, set[str]]:
        insp = sa.inspect(conn)
        return {t: {c["name"] for c in insp.get_columns(t)} for t in insp.get_table_names()}

    tables = await (await session.connection()).run_sync(inspect)
    return [c for c in SEALED_COLUMNS if c.column in tables.get(c.table, set()) and c.row_key in tables[c.table]]


async def reseal_all(session: AsyncSession, opening: Keyring, sealing: Keyring, *, stale_only: bool = False) -> dict[str, int]:
    """Open every sealed value with `opening` and seal it again under `sealing.current`, in the caller's
    transaction (rows locked where the database can). With `stale_only`, only values not already under
    `sealing.current` (under a previous key, or from before key ids).

    Returns how many values of each `table.column` were re-sealed. Raises ResealError (naming the row, never
    the value) when one does not open; the caller's transaction then rolls back."""
    counts: dict[str, int] = {}
    current_id = crypto.master_key_id(sealing.current)
    for col in await _present_columns(session):
        t = sa.table(col.table, sa.column(col.row_key), sa.column(col.column))
        key_c, value_c = t.c[col.row_key], t.c[col.column]
        rows = (await session.execute(sa.select(key_c, value_c).where(value_c.is_not(None)).with_for_update())).all()
        n = 0
        for row_key, blob in rows:
            if stale_only and crypto.sealed_key_id(blob) == current_id:
                continue
            try:
                plain = open_field(opening, col.table, col.column, row_key, blob)
            except crypto.DecryptError as e:
                raise ResealError(f"{col.table}.{col.column} of row {row_key!r} does not open: {e}") from e
            fresh = seal_field(sealing, col.table, col.column, row_key, plain)
            await session.execute(sa.update(t).where(key_c == row_key).values({col.column: fresh}))
            n += 1
        counts[f"{col.table}.{col.column}"] = n
    return counts


async def count_by_key(session: AsyncSession) -> dict[str, dict[str, int]]:
    """For each present sealed column: how many values each key id seals (`legacy` for values without one)."""
    out: dict[str, dict[str, int]] = {}
    for col in await _present_columns(session):
        t = sa.table(col.table, sa.column(col.column))
        blobs = (await session.execute(sa.select(t.c[col.column]).where(t.c[col.column].is_not(None)))).scalars()
        counts: dict[str, int] = {}
        for blob in blobs:
            kid = crypto.sealed_key_id(blob)
            name = kid.hex() if kid is not None else "legacy"
            counts[name] = counts.get(name, 0) + 1
        out[f"{col.table}.{col.column}"] = counts
    return out


async def rotate_master_key(settings: Settings, *, announce: Callable[[str], None]) -> dict:
    """Make a new master key and re-seal every sealed value under it, in one transaction.

    Keys in files (`var/master.key`): first `var/master.key.previous` gets the old keys and `var/master.key`
    the new one (each written atomically, 0600), so every process can open every value at every moment (a
    running server reloads the files when it meets the new key id); then the transaction; then
    `var/master.key.previous` keeps only the key just replaced (for values sealed by processes that had not
    noticed yet; the next rotation re-seals those). If the transaction fails, `var/master.key` gets the old
    key back (the new one stays accepted) and the database is unchanged.

    Key in `DOORPASS_MASTER_KEY`: no file is written; `announce` gets the new key (b64u) before anything
    changes, for the operator to set (with the old key in `DOORPASS_MASTER_KEY_PREVIOUS`)."""
    from server.db.engine import Database

    loaded = load_keyring(settings.master_key, settings.var_dir, settings.master_key_previous)
    old = loaded.snapshot()
    new_key = crypto.new_master_key()
    from_env = bool(settings.master_key)
    key_file, prev_file = settings.var_dir / MASTER_KEY_FILE, settings.var_dir / PREVIOUS_KEYS_FILE
    if from_env:
        announce(crypto.b64u_encode(new_key))
    else:
        write_private_file(prev_file, _lines(old.current, *old.previous))
        write_private_file(key_file, _lines(new_key))
    opening = Keyring(new_key, (old.current, *old.previous))
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            resealed = await reseal_all(session, opening, Keyring(new_key))
        async with db.transaction() as session:
            left = await count_by_key(session)
    except BaseException:
        if not from_env:
            write_private_file(prev_file, _lines(new_key, *old.previous))
            write_private_file(key_file, _lines(old.current))
        raise
    finally:
        await db.dispose()
    if not from_env:
        write_private_file(prev_file, _lines(old.current))
    return {
        "master_key_id": crypto.master_key_id(new_key).hex(),
        "previous_key_id": crypto.master_key_id(old.current).hex(),
        "key_in": "DOORPASS_MASTER_KEY" if from_env else str(key_file),
        "resealed": resealed,
        "sealed_by_key": left,
    }


def _lines(*keys: bytes) -> str:
    return "".join(crypto.b64u_encode(k) + "\n" for k in keys)


__all__ = [
    "SEALED_COLUMNS", "ResealError", "SealedColumn", "count_by_key", "field_aad", "open_field", "open_id_number",
    "open_signing_key", "open_totp", "reseal_all", "rotate_master_key", "seal_field", "seal_id_number", "seal_signing_key", "seal_totp",
]
