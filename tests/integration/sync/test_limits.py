"""Load limits of the sync seams: rejected records keep a prefix, body limits per route, a daily quota per device."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient

import crypto
import sync
from server import body_limits
from server.app import create_app
from server.clock import Clock
from server.settings import Settings
from sync.push import DAY, PREFIX
from tests.dbquery import rows
from tests.integration.conftest import Admin
from tests.records import VERSIONS, Device, uuid7

JSON = {"content-type": "application/json"}


def padded(obj: object, size: int) -> bytes:
    """`obj` as JSON, padded with spaces (before its last character) to exactly `size` bytes."""
    raw = json.dumps(obj, ensure_ascii=False).encode()
    assert len(raw) <= size
    return raw[:-1] + b" " * (size - len(raw)) + raw[-1:]


async def push(client: AsyncTestClient, device: Device, records: list[dict]):  # type: ignore[no-untyped-def]
    return await device.push(client, records)


def stored(settings: Settings, device: Device) -> dict[str, tuple[str, str, int, str, bytes | None]]:
    """{record id: (body, body_hash, body_size, status, sig)} as the server holds them for this device."""
    found = rows(settings.database_url,
                 "SELECT id, body, body_hash, body_size, status, sig FROM sync_records WHERE device_id = ?", device.id)
    return {rid: (body, digest, size, status, None if sig is None else bytes(sig)) for rid, body, digest, size, status, sig in found}


def sent(device: Device, record: object) -> bytes:
    """The exact body text of the record's envelope as the device sends it (what it signs, what the server keeps)."""
    return device.envelope(record)["body"].encode()


def sha(device: Device, record: object) -> str:
    return hashlib.sha256(sent(device, record)).hexdigest()


# ---------------------------------------------------------------- a rejected record keeps its hash and a prefix


async def test_rejected_records_keep_a_prefix_and_the_hash_decides(client: AsyncTestClient, settings: Settings) -> None:
    phone = Device()
    # ~100 KB each: an unknown kind (refused by shape) and a complaint with a photo whose frame is no proof
    # (refused by its applier, after its id was claimed with the whole body)
    odd = [phone.record("teleport", cargo="货" * 34_000) for _ in range(10)]
    photo = base64.b64encode(os.urandom(75_000)).decode()
    forged = [phone.record("complaint", frame="DP1:garbage", category="other", text="投诉", photo=photo) for _ in range(10)]
    batch = odd + forged
    assert all(len(sent(phone, r)) > 100_000 for r in batch)
    r = await push(client, phone, batch)
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["receipts"]] == ["rejected"] * 20
    held = stored(settings, phone)
    for rec in batch:
        body, digest, size, status, sig = held[rec["id"]]
        assert status == "rejected" and sig is None  # a prefix is no proof: no signature is kept with it
        assert len(body.encode()) <= PREFIX and sent(phone, rec).startswith(body.encode())
        assert (digest, size) == (sha(phone, rec), len(sent(phone, rec)))
    # a replay answers what the first copy got; other content under the same id is a conflict, and nothing changes
    again = await push(client, phone, batch[:2] + forged[:2])
    assert [(x["status"], x["original"]) for x in again.json()["receipts"]] == [("duplicate", "rejected")] * 4
    other = [{**odd[0], "cargo": "别的"}, {**forged[0], "text": "另一条"}]
    changed = await push(client, phone, other)
    assert [x["status"] for x in changed.json()["receipts"]] == ["conflict", "conflict"]
    assert changed.json()["receipts"][0]["reason"] and changed.json()["receipts"][0]["reason_en"]
    assert stored(settings, phone) == held


async def test_applied_records_keep_their_whole_body(client: AsyncTestClient, admin: Admin, settings: Settings) -> None:
    outlet = await admin.outlet("网点")
    staff = await admin.outlet_phone(outlet)
    rec = staff.record("session", session_id=uuid7(), outlet_id=outlet, course="长" * 100, day="2026-11-24")
    r = await push(client, staff, [rec])
    assert r.json()["receipts"][0]["status"] == "applied"
    body, digest, size, _, sig = stored(settings, staff)[rec["id"]]
    assert body.encode() == sent(staff, rec) and size == len(sent(staff, rec)) > PREFIX and digest == sha(staff, rec)
    # kept byte for byte with its signature: anyone can check later that this phone made it
    assert sig is not None and crypto.b64u_encode(sig) == staff.envelope(rec)["sig"]
    assert crypto.verify_sig(staff.pub, sig, sync.RECORD_DOMAIN + body.encode())


async def test_unsigned_records_are_refused_and_stored_nowhere(client: AsyncTestClient, settings: Settings) -> None:
    phone, other = Device(), Device()
    recs = [phone.record("teleport") for _ in range(5)]
    tampered = {**phone.envelope(recs[1]), "body": json.dumps({**recs[1], "cargo": "改过"}, ensure_ascii=False)}
    envelopes = [
        recs[0],  # a bare record, no envelope
        tampered,  # its body changed after signing
        other.envelope(recs[2]),  # signed by another phone's key
        {**phone.envelope(recs[3]), "id": recs[3]["id"]},  # not exactly {body, sig}
        {"body": phone.envelope(recs[4])["body"], "sig": "A" * 86},  # a signature of the right size that does not verify
    ]
    r = await phone.push(client, envelopes, sign=False)
    assert r.status_code == 200, r.text
    receipts = r.json()["receipts"]
    assert [(x["status"], x["cursor"]) for x in receipts] == [("rejected", None)] * 5, receipts
    assert all("签名" in x["reason"] and "signature" in x["reason_en"] for x in receipts), receipts
    assert stored(settings, phone) == {}
    # their ids stay free: the same records, signed, are taken as new (refused only for what they are)
    again = await push(client, phone, recs)
    assert [(x["status"], x["original"]) for x in again.json()["receipts"]] == [("rejected", None)] * 5
    assert all(x["cursor"] and "签名" not in x["reason"] for x in again.json()["receipts"])
    assert set(stored(settings, phone)) == {rec["id"] for rec in recs}


# ---------------------------------------------------------------- body limits


async def test_push_body_limit(client: AsyncTestClient) -> None:
    phone = Device()
    rec = phone.record("teleport")
    push_body = {"device_id": phone.id, "records": [phone.envelope(rec)], **VERSIONS}
    over = await client.post("/api/sync/push", content=padded(push_body, body_limits.PUSH + 1), headers=JSON)
    assert over.status_code == 413
    assert over.json()["error"] == "too_large" and "4 MB" in over.json()["message"] and "4 MB" in over.json()["message_en"]
    await phone.register(client)
    body = padded(push_body, body_limits.PUSH)
    at = await client.post("/api/sync/push", content=body, headers={**JSON, **phone.signed("POST", "/api/sync/push", body)})
    assert at.status_code == 200 and at.json()["receipts"][0]["id"] == rec["id"]


async def test_enroll_and_verify_take_small_bodies(client: AsyncTestClient, admin: Admin, clock: Clock) -> None:
    agency = await admin.agency()
    worker = await admin.worker(agency["id"])
    act = await admin.issue(worker["id"])
    key = crypto.new_signing_key()
    enroll = {"code": act["code"], "device_pub": crypto.b64u_encode(crypto.public_key(key))}
    for path in ("/api/enroll", "/api/verify", "/api/verify/code"):
        over = await client.post(path, content=padded({"x": 1}, body_limits.SMALL + 1), headers=JSON)
        assert over.status_code == 413, (path, over.text)
        assert "16 KB" in over.json()["message"] and "16 KB" in over.json()["message_en"]
    r = await client.post("/api/enroll", content=padded(enroll, body_limits.SMALL), headers=JSON)
    assert r.status_code == 200, r.text
    body = r.json()
    frame = crypto.make_live_qr(crypto.b64u_decode(body["cred"]), crypto.b64u_decode(body["issuer_sig"]), body["secret"], key,
                                clock.now())
    r = await client.post("/api/verify", content=padded({"qr": frame}, body_limits.SMALL), headers=JSON)
    assert r.status_code == 200, r.text


async def test_other_routes_take_the_app_default(client: AsyncTestClient, admin: Admin) -> None:
    headers = {**await admin.as_regulator(), **JSON}
    over = await client.post("/api/admin/outlets", content=padded({"name": "网点"}, body_limits.DEFAULT + 1), headers=headers)
    assert over.status_code == 413 and "1 MB" in over.json()["message"]
    at = await client.post("/api/admin/outlets", content=padded({"name": "网点"}, body_limits.DEFAULT), headers=headers)
    assert at.status_code == 201, at.text


# ---------------------------------------------------------------- a daily quota per device


@pytest.fixture
async def quota_app(settings: Settings, clock: Clock):  # type: ignore[no-untyped-def]
    """Opens the app with another daily quota per device: `async with quota_app(records=5, bytes=...) as client`."""
    @asynccontextmanager
    async def open_app(*, records: int = 1_000, bytes: int = 10_000_000):  # type: ignore[no-untyped-def]
        app = create_app(replace(settings, sync_records_per_day=records, sync_bytes_per_day=bytes), clock=clock)
        async with AsyncTestClient(app=app, raise_server_exceptions=False) as c:
            yield c

    return open_app


async def test_a_device_over_its_daily_quota_is_told_to_retry_tomorrow(quota_app, settings: Settings, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    phone = Device()
    first = [phone.record("teleport") for _ in range(3)]
    second = [phone.record("teleport") for _ in range(3)]
    async with quota_app(records=5) as client:
        assert (await push(client, phone, first)).status_code == 200
        assert (await push(client, phone, second)).status_code == 200  # crosses the line: stored whole
        late = phone.record("teleport")
        before = clock.now()
        r = await push(client, phone, [late, first[0]])
        after = clock.now()
        assert r.status_code == 429
        body = r.json()
        assert body["error"] == "device_quota" and "明天" in body["message"] and "tomorrow" in body["message_en"]
        assert int(r.headers["retry-after"]) in {DAY - t % DAY for t in range(before, after + 1)}  # the next UTC midnight
        assert late["id"] not in stored(settings, phone) and len(stored(settings, phone)) == 6
        # another phone is not held back; the next day this one sends again
        other = Device()
        assert (await push(client, other, [other.record("teleport")])).status_code == 200
        clock.offset += DAY
        r = await push(client, phone, [late])
        assert r.status_code == 200 and r.json()["receipts"][0]["status"] == "rejected"
        assert late["id"] in stored(settings, phone)


async def test_the_quota_counts_bytes_stored(quota_app, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    phone = Device()
    async with quota_app(bytes=2_000) as client:
        for _ in range(2):  # each keeps PREFIX bytes: 4 x 256 < 2,000, then 8 x 256 > 2,000
            batch = [phone.record("teleport", cargo="x" * 10_000) for _ in range(4)]
            assert (await push(client, phone, batch)).status_code == 200
        r = await push(client, phone, [phone.record("teleport")])
        assert r.status_code == 429 and r.json()["error"] == "device_quota"
    assert sum(len(body.encode()) for body, *_ in stored(settings, phone).values()) == 8 * PREFIX
