"""Secrets are sealed in the database; verifications are recorded."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, text

from server.db.engine import Database
from server.db.models import Pass, SigningKey, VerificationEvent, Worker
from tests.integration.conftest import ADMIN, Admin


async def test_secrets_are_sealed_and_checks_recorded(client, admin: Admin, settings, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    r = await client.post("/api/verify", json={"qr": phone.live(clock.now()), "device_id": "household-1"})
    assert r.json()["result"] == "valid"
    worker = (await client.get(f"/api/admin/workers/{(await client.get(f'/api/admin/passes/{phone.serial}', headers=ADMIN)).json()['worker_id']}", headers=ADMIN)).json()
    assert worker["id_number_masked"] == "110***********1234"
    assert worker["phone_masked"] == "138****0001"

    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            p = (await session.execute(select(Pass).where(Pass.serial == phone.serial))).unique().scalar_one()
            assert phone.secret.encode() not in p.totp_sealed
            w = (await session.execute(select(Worker).where(Worker.id == p.worker_id))).unique().scalar_one()
            assert b"110101199001011234" not in (w.id_number_sealed or b"")
            for key in (await session.execute(select(SigningKey))).scalars():
                assert len(key.priv_sealed) == 2 + 8 + 12 + 32 + 16  # S1, key id, nonce, sealed seed, tag
            dump = " ".join(str(row) for row in (await session.execute(text("SELECT * FROM workers"))).all())
            assert "110101199001011234" not in dump
        events: list[VerificationEvent] = []
        for _ in range(100):  # the journal writes in the background, within about a second
            async with db.transaction() as session:
                events = list((await session.execute(select(VerificationEvent))).scalars())
            if events:
                break
            await asyncio.sleep(0.1)
        assert [(e.serial, e.result, e.device_id, e.verifier) for e in events] == [
            (phone.serial, "valid", "household-1", "anonymous:-")
        ]
    finally:
        await db.dispose()


async def test_verifications_waiting_in_the_journal_are_written_at_shutdown(settings, clock) -> None:  # type: ignore[no-untyped-def]
    """A clean shutdown loses no verification record, however fast it follows the answers."""
    from litestar.testing import AsyncTestClient

    from server.app import create_app

    app = create_app(settings, clock=clock)
    async with AsyncTestClient(app=app) as client:
        admin = Admin(client, settings)
        phone = await admin.enrolled_phone()
        app.state.journal._closing = True  # the background writer stops: only shutdown is left to write them
        for i in range(3):
            r = await client.post("/api/verify", json={"qr": phone.live(clock.now()), "device_id": f"household-{i}"})
            assert r.json()["result"] == "valid"
        assert len(app.state.journal.pending) >= 3
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            events = (await session.execute(select(VerificationEvent))).scalars().all()
        assert sorted(e.device_id for e in events if e.serial == phone.serial) == ["household-0", "household-1", "household-2"]
    finally:
        await db.dispose()
