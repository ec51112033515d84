"""The lists from memory: strong ETags, 304, gzip once, Cache-Control a CDN can honour, and a bounded staleness
across processes (another app instance on the same database)."""

from __future__ import annotations

import asyncio
import gzip
import json
import time

from litestar.testing import AsyncTestClient

import crypto
from server.app import create_app
from server.clock import Clock
from server.db.engine import Database
from server.domain.lists.controllers import CACHE_CONTROL, wants_gzip
from server.domain.lists.services import ListCache, resign_status
from server.keyfiles import load_keyring
from server.settings import Settings
from tests.integration.conftest import Admin


async def test_lists_carry_strong_etags_and_cdn_caching(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/api/trust", "/api/status"):
        r = await client.get(path, headers={"Accept-Encoding": "identity"})
        assert r.status_code == 200
        etag = r.headers["etag"]
        assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
        assert r.headers["cache-control"] == CACHE_CONTROL
        assert "public" in CACHE_CONTROL and "max-age=" in CACHE_CONTROL and "stale-while-revalidate=" in CACHE_CONTROL
        assert "accept-encoding" in r.headers["vary"].lower()
        assert "content-encoding" not in r.headers
        for sent in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
            again = await client.get(path, headers={"If-None-Match": sent, "Accept-Encoding": "identity"})
            assert again.status_code == 304, sent
            assert again.content == b""
            assert again.headers["etag"] == etag and again.headers["cache-control"] == CACHE_CONTROL
        other = await client.get(path, headers={"If-None-Match": '"something-else"', "Accept-Encoding": "identity"})
        assert other.status_code == 200 and other.content == r.content


async def test_gzip_is_its_own_representation(client) -> None:  # type: ignore[no-untyped-def]
    plain = await client.get("/api/status", headers={"Accept-Encoding": "identity"})
    zipped = await client.get("/api/status", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.json() == plain.json()  # the client undid the gzip: the same signed envelope
    assert zipped.headers["etag"] != plain.headers["etag"]
    # a revalidation with either etag is a 304 (both name the current version)
    for tag in (plain.headers["etag"], zipped.headers["etag"]):
        r = await client.get("/api/status", headers={"If-None-Match": tag, "Accept-Encoding": "gzip"})
        assert r.status_code == 304


def test_accept_encoding_parsing() -> None:
    assert wants_gzip("gzip, deflate, br")
    assert wants_gzip("br;q=1.0, gzip;q=0.8")
    assert wants_gzip("*")
    assert not wants_gzip("gzip;q=0")
    assert not wants_gzip("identity")
    assert not wants_gzip("")


async def _status_of(client: AsyncTestClient, serial_index: int) -> tuple[str, crypto.Status]:
    root = crypto.b64u_decode((await client.get("/api/root")).json()["root_pub"])
    trust = crypto.open_trust((await client.get("/api/trust")).json(), root)
    r = await client.get("/api/status", headers={"Accept-Encoding": "gzip"})
    return r.headers["etag"], crypto.open_status(r.json(), trust.status_pub).get(serial_index)


async def test_a_change_in_another_process_is_seen_within_the_bound(
    client, admin: Admin, settings: Settings, clock: Clock,  # type: ignore[no-untyped-def]
) -> None:
    """This app (A) keeps its lists in memory; another app instance (B, its own engine and pool, as another server
    process has) re-signs the status list. A serves the old list for at most its bound, then the new one, and its
    online verify follows the new status too."""
    phone = await admin.enrolled_phone()
    index = crypto.decode_cred(phone.cred).status_index
    a = client.app.state.lists
    a.max_age = 0.5
    etag0, status0 = await _status_of(client, index)
    assert status0 == crypto.Status.VALID
    assert (await client.post("/api/verify", json={"qr": phone.live(clock.now())})).json()["result"] == "valid"

    other = Database(settings.database_url)  # "process" B
    try:
        async with other.transaction() as session:
            await resign_status(session, load_keyring(settings.master_key, settings.var_dir), now=clock.now(),
                                changes={index: int(crypto.Status.RED)})
    finally:
        await other.dispose()

    seen_at = None
    loop = asyncio.get_running_loop()
    changed_at = loop.time()
    while loop.time() - changed_at < 5:
        etag, status = await _status_of(client, index)
        if status == crypto.Status.RED:
            seen_at = loop.time() - changed_at
            assert etag != etag0
            break
        assert etag == etag0  # until then, the old list as a whole (never a mix)
        await asyncio.sleep(0.05)
    assert seen_at is not None, "the other process's change was never seen"
    assert seen_at <= a.max_age + 0.5  # the bound, plus the time of one request on a busy test machine
    verdict = (await client.post("/api/verify", json={"qr": phone.live(clock.now())})).json()
    assert verdict["result"] == "red" and verdict["colour"] == "red"


async def test_a_change_in_this_process_is_seen_at_once(client, admin: Admin, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    """However long the bound, a status change made through this app is in its very next answer."""
    phone = await admin.enrolled_phone()
    client.app.state.lists.max_age = 3600
    index = crypto.decode_cred(phone.cred).status_index
    etag0, _ = await _status_of(client, index)
    assert (await client.post("/api/verify", json={"qr": phone.live(clock.now())})).json()["result"] == "valid"
    await admin.post(f"/api/admin/passes/{phone.serial}/status", {"status": "red", "reason": "严重投诉"}, expect=200)
    etag1, status = await _status_of(client, index)
    assert etag1 != etag0 and status == crypto.Status.RED
    assert (await client.post("/api/verify", json={"qr": phone.live(clock.now())})).json()["result"] == "red"


async def test_lists_answer_without_a_database_session(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Once in memory (and within the bound), the lists and the root key open no database session."""
    await client.get("/api/trust")
    await client.get("/api/root")
    client.app.state.lists.max_age = 3600
    db = client.app.state.db

    def refuse():  # type: ignore[no-untyped-def]
        raise AssertionError("a database session was opened")

    monkeypatch.setattr(db, "read", refuse)
    monkeypatch.setattr(db, "transaction", refuse)
    for path in ("/api/trust", "/api/status", "/api/root"):
        assert (await client.get(path)).status_code == 200, path


async def test_verify_reads_a_new_device_afresh(client, admin: Admin, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    """A cached pass row answers only frames of the credential it holds: a new pass of the same worker, issued and
    enrolled while the first one's row is cached, verifies at once (its credential is read afresh)."""
    from tests.integration.conftest import enroll

    agency = await admin.agency()
    worker = await admin.worker(agency["id"], "李阿姨")
    old = await enroll(client, (await admin.issue(worker["id"]))["code"])
    client.app.state.lists.max_age = 3600
    assert (await client.post("/api/verify", json={"qr": old.live(clock.now())})).json()["result"] == "valid"
    new = await enroll(client, (await admin.issue(worker["id"]))["code"])
    assert (await client.post("/api/verify", json={"qr": new.live(clock.now())})).json()["result"] == "valid"


async def test_gzipped_body_is_the_stored_envelope(settings: Settings, clock: Clock) -> None:
    """What goes on the wire is the database's signed envelope, byte for byte, plain or gzipped."""
    app = create_app(settings, clock=clock)
    async with AsyncTestClient(app=app) as c:
        plain = await c.get("/api/trust", headers={"Accept-Encoding": "identity"})
        wire = app.state.lists.snapshot.served["trust"]
        assert plain.content == wire.body
        assert gzip.decompress(wire.gzipped) == wire.body
        zipped = await c.get("/api/trust", headers={"Accept-Encoding": "gzip"})
        assert zipped.json() == json.loads(wire.body)


async def test_no_answer_after_a_change_carries_the_old_list(client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """A request that arrives while another one is re-checking the lists may answer from the copy in memory, but not
    once a change is known: right after a revocation, a household page asked for both lists at once, got the new
    trust list from the request that re-checked and the old status list from the one that did not wait, and read the
    revoked pass green. A process's cache (`ListCache`, as each app holds one) on the test's database: the in-flight
    re-check is stood for by holding its lock; the change is made by another process and then heard (`mark_due`,
    what the PostgreSQL listener calls)."""
    del client  # the app made the database (migrated, with its keys)
    index = 7
    db, cache = Database(settings.database_url), ListCache(max_age=3600)
    try:
        before = await cache.fresh(db)
        other = Database(settings.database_url)  # "process" B revokes
        try:
            async with other.transaction() as session:
                await resign_status(session, load_keyring(settings.master_key, settings.var_dir), now=int(time.time()),
                                    changes={index: int(crypto.Status.REVOKED)})
        finally:
            await other.dispose()
        await cache._lock.acquire()  # a periodic re-check under way
        try:
            assert (await asyncio.wait_for(cache.fresh(db), 5)) is before  # no change known yet: no waiting
            cache.mark_due()  # now it is known
            waiting = asyncio.ensure_future(cache.fresh(db))
            await asyncio.sleep(0.3)
            assert not waiting.done(), "a request answered with the lists from before the change"
        finally:
            cache._lock.release()
        after = await asyncio.wait_for(waiting, 5)
        assert after.key != before.key and after.status.get(index) == crypto.Status.REVOKED
    finally:
        await db.dispose()
