"""Device keys (docs/devices.md): a push or pull is proved by the phone's key, never by the id it claims."""

from __future__ import annotations

import hashlib

import pytest

import crypto
import sync
from tests.dbquery import rows
from tests.integration.conftest import Admin
from tests.records import VERSIONS, Device


async def checkin(admin: Admin, worker: Device) -> dict:
    """A record to push: the device's review of a worker's live frame, shown now."""
    phone = await admin.enrolled_phone()
    now = Device.now_of(admin.c)
    return {**worker.record("review", frame=phone.live(now), stars=5, comment="cleaning"), "at": now}


def stored(database_url: str) -> list[tuple]:
    return rows(database_url, "SELECT id, device_id FROM sync_records")


def refused(r, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == code and body["message"] and body["message_en"], body
    return body  # type: ignore[no-any-return]


# ---------------------------------------------------------------- the id and the message


def test_the_id_is_derived_from_the_key() -> None:
    pub = bytes(range(32))
    want = "d" + crypto.b64u_encode(hashlib.sha256(b"DP1/device\0" + pub).digest())[:22]
    assert sync.device_id_of(pub) == want and len(want) == 23
    assert sync.device_id_of(bytes(32)) != want


def test_the_request_message() -> None:
    m = sync.request_message("post", "/api/sync/pull?device_id=dX&cursor=12", "1700000000", b"")
    assert m == (b"DP1/request\0POST\n/api/sync/pull?device_id=dX&cursor=12\n1700000000\n"
                 + hashlib.sha256(b"").hexdigest().encode())


def test_check_request_refuses_each_way() -> None:
    key = crypto.new_signing_key()
    pub = crypto.public_key(key)
    now = 1_700_000_000

    def check(time: int, body: bytes = b"{}", signed_body: bytes = b"{}", pub: bytes | None = pub) -> None:
        sig = crypto.b64u_encode(crypto.sign(key, sync.request_message("POST", "/api/sync/push", str(time), signed_body)))
        sync.check_request(pub, time=str(time), signature=sig, method="POST", path_and_query="/api/sync/push", body=body, now=now)

    check(now)
    check(now + 300)
    with pytest.raises(sync.DeviceClock) as e:
        check(now - 301)
    assert e.value.server_time == now
    with pytest.raises(sync.DeviceUnproved):
        check(now, body=b"{ }")
    with pytest.raises(sync.DeviceUnproved):
        check(now, pub=None)
    with pytest.raises(sync.DeviceUnproved):
        check(now, pub=crypto.public_key(crypto.new_signing_key()))


# ---------------------------------------------------------------- registering


async def test_registration_is_idempotent(client) -> None:  # type: ignore[no-untyped-def]
    device = Device()
    first = await device.register(client)
    again = await device.register(client)
    assert first == again and first["device_id"] == device.id and first["registered_at"] > 0


@pytest.mark.parametrize("pub", ["", "not base64!", crypto.b64u_encode(bytes(31)), crypto.b64u_encode(bytes(33)),
                                 crypto.b64u_encode(bytes(32)) + "="])
async def test_a_bad_key_is_refused(client, pub: str) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/sync/devices", json={"device_pub": pub})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] in ("bad_device_key", "invalid_request") and body["message"] and body["message_en"], body


# ---------------------------------------------------------------- refusals: nothing stored


async def test_unproved_pushes_are_refused_and_store_nothing(client, admin: Admin, database_url: str, clock) -> None:  # type: ignore[no-untyped-def]
    worker = Device()
    await worker.register(client)
    rec = await checkin(admin, worker)
    body, headers = worker.push_request({"device_id": worker.id, "records": [rec], **VERSIONS}, at=clock.now())
    plain = {"content-type": "application/json"}

    refused(await client.post("/api/sync/push", content=body, headers=plain), 401, "device_unproved")
    wrong = {**headers, sync.devices.HEADER_SIGNATURE: crypto.b64u_encode(bytes(64))}
    refused(await client.post("/api/sync/push", content=body, headers=wrong), 401, "device_unproved")
    other_bytes = body.replace(b"cleaning", b"cooking!")
    assert other_bytes != body
    refused(await client.post("/api/sync/push", content=other_bytes, headers=headers), 401, "device_unproved")
    stranger = Device()  # never registered
    _, its = stranger.push_request({"device_id": stranger.id, "records": [rec], **VERSIONS}, at=clock.now())
    refused(await client.post("/api/sync/push", content=body.replace(worker.id.encode(), stranger.id.encode()), headers=its),
            401, "device_unproved")
    _, stale = worker.push_request({"device_id": worker.id, "records": [rec], **VERSIONS}, at=clock.now() - 301)
    late = refused(await client.post("/api/sync/push", content=body, headers=stale), 401, "device_clock")
    assert abs(late["detail"][0]["server_time"] - clock.now()) <= 5
    assert stored(database_url) == []

    proved = await worker.push(client, [rec])
    assert proved.status_code == 200 and proved.json()["receipts"][0]["status"] == "applied", proved.text
    assert stored(database_url) == [(rec["id"], worker.id)]


async def test_a_push_in_another_devices_name_is_refused(client, admin: Admin, database_url: str) -> None:  # type: ignore[no-untyped-def]
    worker, other = Device(), Device()
    await other.register(client)
    rec = await checkin(admin, worker)
    r = await other.push(client, [rec], device_id=worker.id)  # signed by `other`, claiming to be `worker`
    refused(r, 403, "device_mismatch")
    assert stored(database_url) == []


async def test_no_device_reads_anothers_records_by_knowing_its_id(client, admin: Admin) -> None:  # type: ignore[no-untyped-def]
    worker, thief = Device(), Device()
    rec = await checkin(admin, worker)
    assert (await worker.push(client, [rec])).status_code == 200
    await thief.register(client)

    unsigned = await client.get("/api/sync/pull", params={"device_id": worker.id})
    refused(unsigned, 401, "device_unproved")
    target = f"/api/sync/pull?device_id={worker.id}"
    refused(await client.get(target, headers=thief.signed("GET", target, at=Device.now_of(client))), 403, "device_mismatch")
    # the thief's own signature, its own id in the headers, the worker's in the query: the signer decides
    forged = {**thief.signed("GET", target, at=Device.now_of(client)), sync.devices.HEADER_DEVICE: worker.id}
    refused(await client.get(target, headers=forged), 401, "device_unproved")
    # a signature over its own pull does not stretch to another query
    own = thief.pull_target()
    refused(await client.get(target, headers=thief.signed("GET", own, at=Device.now_of(client))), 401, "device_unproved")
    h = thief.signed("GET", own, at=Device.now_of(client))
    refused(await client.get(own + "&cursor=0", headers=h), 401, "device_unproved")

    mine = await worker.pull(client)
    assert mine.status_code == 200 and [r["id"] for r in mine.json()["records"]] == [rec["id"]]
    assert (await thief.pull(client)).json()["records"] == []


async def test_a_stale_pull_is_told_the_server_time(client, clock) -> None:  # type: ignore[no-untyped-def]
    device = Device()
    await device.register(client)
    target = device.pull_target()
    body = refused(await client.get(target, headers=device.signed("GET", target, at=clock.now() + 400)), 401, "device_clock")
    assert abs(body["detail"][0]["server_time"] - clock.now()) <= 5
    clock.offset += 3600  # the server's clock moved: a phone that corrected its offset is proved again
    assert (await device.pull(client)).status_code == 200


async def test_records_are_attributed_to_the_signer(client, admin: Admin, database_url: str) -> None:  # type: ignore[no-untyped-def]
    worker = Device()
    rec = await checkin(admin, worker)
    r = await worker.push(client, [rec])
    assert r.status_code == 200 and r.json()["receipts"][0]["status"] == "applied", r.text
    assert rows(database_url, "SELECT device_id FROM sync_records WHERE id = ?", rec["id"]) == [(worker.id,)]
    assert rows(database_url, "SELECT pub FROM devices WHERE id = ?", worker.id) == [(worker.pub,)]


async def test_the_openapi_declares_the_device_headers(client) -> None:  # type: ignore[no-untyped-def]
    spec = (await client.get("/schema/openapi.json")).json()
    for path, method in [("/api/sync/push", "post"), ("/api/sync/pull", "get"), ("/api/sync/devices/outlet", "post"),
                         ("/api/sync/devices/outlet/unbind", "post")]:
        declared = {p["name"]: p for p in spec["paths"][path][method].get("parameters", []) if p["in"] == "header"}
        for name in (sync.devices.HEADER_DEVICE, sync.devices.HEADER_TIME, sync.devices.HEADER_SIGNATURE):
            assert name in declared, (path, name)
            assert declared[name].get("description"), (path, name)
