"""Versioned sync: a push says its protocol and record schema, so a phone offline for weeks is answered, not misread."""

from __future__ import annotations

import pytest

import sync
from tests.dbquery import rows
from tests.integration.conftest import Admin
from tests.records import Device, uuid7


async def checkins(admin: Admin, worker: Device, n: int = 2) -> list[dict]:
    """`n` records to push: the device's reviews of `n` workers' live frames, shown now."""
    phones = [await admin.enrolled_phone() for _ in range(n)]
    now = Device.now_of(admin.c)  # after the passes and their agencies' keys exist: a frame never predates its key
    return [{**worker.record("review", frame=phone.live(now), stars=5), "at": now} for phone in phones]


def stored(database_url: str, device: Device) -> tuple[list[tuple], list[tuple]]:
    return (rows(database_url, "SELECT id, status FROM sync_records WHERE device_id = ?", device.id),
            rows(database_url, "SELECT seq FROM devices WHERE id = ?", device.id))


async def test_current_versions_are_applied_and_the_server_says_its_own(client, admin: Admin, database_url: str) -> None:  # type: ignore[no-untyped-def]
    worker = Device()
    records = await checkins(admin, worker)
    r = await worker.push(client, records, versions=False, protocol=sync.PROTOCOL, schema=sync.SCHEMA)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["status"] for x in body["receipts"]] == ["applied", "applied"]
    assert (body["protocol"], body["schema"]) == (sync.PROTOCOL, sync.SCHEMA) == (2, 2)
    pulled = (await worker.pull(client)).json()
    assert (pulled["protocol"], pulled["schema"]) == (2, 2)
    assert len(stored(database_url, worker)[0]) == 2


async def test_a_push_without_versions_is_version_one(client, admin: Admin, database_url: str) -> None:  # type: ignore[no-untyped-def]
    """Phones from before versioning send exactly the version-1 shape: they are answered as version 1, which this
    server no longer reads (unsigned records): asked to update, with nothing stored."""
    worker = Device()
    records = await checkins(admin, worker)
    r = await worker.push(client, records, versions=False, sign=False)
    assert r.status_code == 400 and r.json()["error"] == "update_required", r.text
    assert "protocol 1, schema 1" in r.json()["message_en"]
    assert stored(database_url, worker) == ([], [(0,)])
    # Sent again by the updated app, signed and with its versions: applied, then answered as duplicates.
    assert [x["status"] for x in (await worker.push(client, records)).json()["receipts"]] == ["applied", "applied"]
    again = await worker.push(client, records)
    assert [(x["status"], x["original"]) for x in again.json()["receipts"]] == [("duplicate", "applied")] * 2


@pytest.mark.parametrize(("protocol", "schema", "code"), [
    (1, 2, "update_required"),
    (2, 1, "update_required"),
    (3, 2, "unsupported_version"),
    (2, 3, "unsupported_version"),
    (3, 0, "unsupported_version"),
    (-1, 99, "update_required"),
])
async def test_unknown_versions_are_answered_and_nothing_is_stored(  # type: ignore[no-untyped-def]
    client, admin: Admin, database_url: str, protocol: int, schema: int, code: str,
) -> None:
    worker = Device()
    # A later schema's records would not decode as version 1: they must not be read (and stored as rejected) at all.
    records = [*await checkins(admin, worker), worker.record("handover", visit_id=uuid7(), note="新字段")]
    r = await worker.push(client, records, versions=False, protocol=protocol, schema=schema)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == code
    assert "手机上" in body["message"] and "on the phone" in body["message_en"]
    assert f"protocol {protocol}, schema {schema}" in body["message_en"]
    if code == "update_required":
        assert body["message"].startswith("请更新应用") and body["message_en"].startswith("Please update the app")
    assert stored(database_url, worker) == ([], [(0,)])  # no record; the device row is its registration, untouched
    # The same records sent after the update are applied: nothing was half-taken.
    r = await worker.push(client, records[:2])
    assert [x["status"] for x in r.json()["receipts"]] == ["applied", "applied"]


async def test_versions_must_be_numbers(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/sync/push", json={"device_id": Device().id, "records": [], "protocol": "one", "schema": 1})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
