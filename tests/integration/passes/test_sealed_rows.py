"""Sealed values are bound to their row: copied to another row they do not open. Old blobs are re-sealed by `init`."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, update

import crypto
from server.db.engine import Database
from server.db.models import Pass, SigningKey, Worker
from server.domain.passes.services import totp_secret
from server.keyfiles import load_keyring
from server.secrets import count_by_key, open_id_number, open_signing_key, open_totp, reseal_all
from tests.integration.conftest import Admin


def _legacy_seal(master: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(master).encrypt(nonce, plaintext, aad)


async def test_totp_secret_copied_to_another_pass_does_not_open(client, admin: Admin, settings, clock) -> None:  # type: ignore[no-untyped-def]
    one = await admin.enrolled_phone("王阿姨")
    two = await admin.enrolled_phone("李阿姨")
    ring = load_keyring(settings.master_key, settings.var_dir)
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            first = (await session.execute(select(Pass).where(Pass.serial == one.serial))).unique().scalar_one()
            assert totp_secret(ring, first) == one.secret
            await session.execute(update(Pass).where(Pass.serial == two.serial).values(totp_sealed=first.totp_sealed))
        async with db.transaction() as session:
            second = (await session.execute(select(Pass).where(Pass.serial == two.serial))).unique().scalar_one()
            assert totp_secret(ring, second) is None  # it does not open: no code verifies (and the log says so)
            with pytest.raises(crypto.DecryptError):
                open_totp(ring, two.serial, first.totp_sealed)
    finally:
        await db.dispose()
    # the first phone's code typed with the second pass's number is never "valid"
    code = f"{crypto.totp_code(one.secret, clock.now() // 30):06d}"
    r = await client.post("/api/verify/code", json={"serial": two.serial, "code": code})
    assert r.status_code == 200 and r.json()["result"] == "bad_code", r.text  # refused, never a 500
    assert one.secret not in r.text
    r = await client.post("/api/verify", json={"qr": two.live(clock.now())})
    assert r.status_code == 200 and r.json()["result"] == "bad_code", r.text


async def test_id_number_and_signing_key_bound_to_their_row(client, admin: Admin, settings) -> None:  # type: ignore[no-untyped-def]
    agency = await admin.agency()
    a = await admin.worker(agency["id"], "王阿姨")
    b = await admin.worker(agency["id"], "李阿姨")
    ring = load_keyring(settings.master_key, settings.var_dir)
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            wa = await session.get(Worker, a["id"])
            assert wa is not None and wa.id_number_sealed is not None
            assert open_id_number(ring, a["id"], wa.id_number_sealed) == "110101199001011234"
            with pytest.raises(crypto.DecryptError):
                open_id_number(ring, b["id"], wa.id_number_sealed)
            root, status = [(await session.execute(select(SigningKey).where(SigningKey.kid == k))).scalar_one()
                            for k in ("root", "status")]
            with pytest.raises(crypto.DecryptError):
                open_signing_key(ring, "status", root.priv_sealed)
            assert crypto.public_key(open_signing_key(ring, "status", status.priv_sealed)) == status.pub
    finally:
        await db.dispose()


async def test_values_sealed_before_key_ids_are_resealed_bound_to_their_row(client, admin: Admin, settings, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    ring = load_keyring(settings.master_key, settings.var_dir)
    master = ring.current
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:  # make the database look like one from before key ids
            for key in (await session.execute(select(SigningKey))).scalars():
                priv = open_signing_key(ring, key.kid, key.priv_sealed)
                key.priv_sealed = _legacy_seal(master, priv, key.kid.encode())
            p = (await session.execute(select(Pass).where(Pass.serial == phone.serial))).unique().scalar_one()
            p.totp_sealed = _legacy_seal(master, phone.secret.encode(), f"totp:{p.serial}".encode())
            w = await session.get(Worker, p.worker_id)
            assert w is not None
            w.id_number_sealed = _legacy_seal(master, b"110101199001011234", b"id_number")
        async with db.transaction() as session:
            counts = await count_by_key(session)
            assert counts["passes.totp_sealed"] == {"legacy": 1} and counts["workers.id_number_sealed"] == {"legacy": 1}
        # the server still works on the old blobs
        r = await client.post("/api/verify", json={"qr": phone.live(clock.now())})
        assert r.json()["result"] == "valid"
        code = f"{crypto.totp_code(phone.secret, clock.now() // 30):06d}"
        assert (await client.post("/api/verify/code", json={"serial": phone.serial, "code": code})).json()["result"] == "valid"
        async with db.transaction() as session:  # what `python -m server init` does
            resealed = await reseal_all(session, ring, ring.snapshot(), stale_only=True)
        assert resealed["passes.totp_sealed"] == 1 and resealed["workers.id_number_sealed"] == 1
        assert resealed["signing_keys.priv_sealed"] >= 3
        async with db.transaction() as session:
            kid = crypto.master_key_id(master).hex()
            assert all(set(c) <= {kid} for c in (await count_by_key(session)).values())
            p = (await session.execute(select(Pass).where(Pass.serial == phone.serial))).unique().scalar_one()
            assert open_totp(ring, p.serial, p.totp_sealed) == phone.secret
            again = await reseal_all(session, ring, ring.snapshot(), stale_only=True)
            assert set(again.values()) == {0}
    finally:
        await db.dispose()
    r = await client.post("/api/verify", json={"qr": phone.live(clock.now())})
    assert r.json()["result"] == "valid"
