"""The public agency directory and a pass's rating from confirmed visits (issue 11)."""

from __future__ import annotations

import dataclasses

import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.settings import Settings
from tests.integration.conftest import Admin, checkin
from tests.records import Device, uuid7


def review(device: Device, frame: str, at: int, **fields: object) -> dict:
    return {**device.record("review", frame=frame, **fields), "at": at}


async def test_directory_names_every_agency_with_its_phone_and_the_hotline(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    a = await admin.post("/api/admin/agencies", {"name": "甲家政", "phone": "021-55550001"})
    b = await admin.post("/api/admin/agencies", {"name": "乙家政"})
    r = await client.get("/api/directory")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"agencies", "hotline", "issued_at"}
    by_id = {x["id"]: x for x in body["agencies"]}
    assert by_id[a["id"]] == {"id": a["id"], "name": "甲家政", "phone": "021-55550001"}
    assert by_id[b["id"]] == {"id": b["id"], "name": "乙家政", "phone": ""}
    assert body["hotline"] == "12345"
    assert body["issued_at"] == clock.now()


async def test_the_hotline_comes_from_the_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORPASS_HOTLINE", "962512")
    assert Settings().hotline == "962512"
    app = create_app(dataclasses.replace(settings, hotline="962512"))
    async with AsyncTestClient(app=app) as c:
        assert (await c.get("/api/directory")).json()["hotline"] == "962512"


async def test_rating_counts_confirmed_visits_only(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    now = clock.now()
    empty = await client.get(f"/api/passes/{phone.serial}/rating")
    assert empty.status_code == 200 and empty.json() == {"serial": phone.serial, "confirmed_count": 0, "average": None}
    # Two households whose signed visit codes the worker checked in with: confirmed (4 and 5 stars).
    for stars, offset in ((4, 0), (5, 30)):
        household, visit = Device(), uuid7()
        r = await phone.device.push(client, [checkin(phone, household, at=now + offset, visit_id=visit)])
        assert r.json()["receipts"][0]["status"] == "applied", r.text
        r = await household.push(client, [review(household, phone.live(now + offset), now + offset, visit_id=visit, stars=stars)])
        assert r.json()["receipts"][0]["status"] == "applied", r.text
    # A household that scanned but whose code the worker never checked in with: a review, not a confirmed one.
    stranger = Device()
    r = await stranger.push(client, [review(stranger, phone.live(now), now, visit_id=uuid7(), stars=1, comment="不会被公开")])
    assert r.json()["receipts"][0]["status"] == "applied", r.text
    rating = await client.get(f"/api/passes/{phone.serial}/rating")
    assert rating.status_code == 200
    assert rating.json() == {"serial": phone.serial, "confirmed_count": 2, "average": 4.5}
    assert "不会被公开" not in rating.text and stranger.id not in rating.text


async def test_rating_of_an_unknown_pass_is_not_found(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/passes/999999999/rating")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found" and r.json()["message"] and r.json()["message_en"]
    assert (await client.get("/api/passes/-1/rating")).status_code == 400
