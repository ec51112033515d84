"""Bad input gets a clear 4xx in the user's language; nothing answers 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import ADMIN, Admin
from tests.records import Device


@pytest.fixture
async def callers(client, admin: Admin) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """Headers for each kind of caller: a phone (none), the regulator, an agency admin (all with two factors)."""
    await admin.agency()
    return {"phone": {}, "regulator": await admin.as_regulator(), "agency": dict(ADMIN)}


ENDPOINTS = [  # (method, path, who calls it: a phone, the regulator or an agency admin)
    ("POST", "/api/verify", "phone"),
    ("POST", "/api/enroll", "phone"),
    ("POST", "/api/verify/code", "phone"),
    ("POST", "/api/sync/push", "phone"),
    ("POST", "/api/auth/sign-in", "phone"),
    ("POST", "/api/admin/agencies", "regulator"),
    ("POST", "/api/admin/workers", "agency"),
    ("POST", "/api/admin/outlets", "regulator"),
    ("POST", "/api/admin/workers/1/passes", "agency"),
    ("POST", "/api/admin/workers/1/trainings", "agency"),
    ("POST", "/api/admin/passes/123456789/status", "agency"),
    ("POST", "/api/admin/passes/123456789/revoke", "agency"),
    ("POST", "/api/accounts", "regulator"),
]


async def test_staff_routes_need_a_signed_in_account(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/admin/agencies")
    assert r.status_code == 401 and r.json()["message"] == "请先登录工作人员账号"
    r = await client.get("/api/admin/agencies", headers={"cookie": "dp_session=forged"})
    assert r.status_code == 401 and r.json()["error"] == "sign_in_required"
    r = await client.get("/api/admin/agencies", headers={"Authorization": "Bearer test-admin-token"})
    assert r.status_code == 401, "the admin token is gone"


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'{"qr": 5}', b'{"qr": "x", "extra": 1}', b"\xff\xfe", b"null"])
async def test_malformed_bodies_get_400_with_a_message(client, callers, body: bytes) -> None:  # type: ignore[no-untyped-def]
    for method, path, caller in ENDPOINTS:
        r = await client.request(method, path, content=body, headers={**callers[caller], "content-type": "application/json"})
        assert r.status_code == 400, (path, body, r.status_code, r.text)
        j = r.json()
        assert j["message"] and j["message_en"], j


async def test_unknown_things_are_404(client, admin: Admin) -> None:  # type: ignore[no-untyped-def]
    agency = await admin.agency()
    assert (await client.get("/api/admin/workers/999", headers=ADMIN)).json()["message"] == "找不到这位家政服务员"
    r = await client.post("/api/admin/workers", json={"agency_id": 999, "name": "x"}, headers=ADMIN)
    assert r.status_code == 404 and r.json()["message"] == "找不到这家家政企业"
    assert (await client.get("/api/nothing")).status_code == 404
    r = await client.post("/api/admin/workers", json={"agency_id": agency["id"], "name": "名" * 11}, headers=ADMIN)
    assert r.status_code == 400 and r.json()["error"] == "name_too_long"
    r = await client.post("/api/admin/workers", json={"agency_id": agency["id"], "name": "x", "photo": "!!"}, headers=ADMIN)
    assert r.status_code == 400 and r.json()["error"] == "bad_photo"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["qr", "code", "device_pub", "name", "agency_id", "status", "reason", "services", "photo", "day", "valid_days"]) | st.text(max_size=8), inner, max_size=5),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values, which=st.integers(0, len(ENDPOINTS) - 1))
async def test_no_body_makes_a_500(client, callers, body, which) -> None:  # type: ignore[no-untyped-def]
    method, path, caller = ENDPOINTS[which]
    r = await client.request(method, path, json=body, headers=callers[caller])
    assert r.status_code < 500, (path, body, r.text)
    assert "message" in r.json() or r.status_code in (200, 201)


record_like = st.dictionaries(
    st.sampled_from(["kind", "id", "seq", "at", "visit_id", "serial", "frame", "stars", "session_id", "trainee_number", "text"]),
    st.none() | st.integers(-5, 2**60) | st.text(max_size=40) | st.sampled_from(
        ["checkin", "review", "attendance", "session", "01a20d01-059f-75c3-9fdd-fccb2102cc1e", "DP1:ABC"]),
    max_size=8,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(record_like | json_values, max_size=6))
async def test_any_records_get_a_receipt_each(client, records) -> None:  # type: ignore[no-untyped-def]
    device = Device()
    for signed in (True, False):  # in signed envelopes, and as bare values (never signed: each rejected)
        r = await device.push(client, records, sign=signed)
        assert r.status_code == 200, r.text
        receipts = r.json()["receipts"]
        assert [x["index"] for x in receipts] == list(range(len(records)))
        for x in receipts:
            assert x["status"] in ("applied", "duplicate", "conflict", "rejected")
            if x["status"] in ("rejected", "conflict"):
                assert x["reason"] and x["reason_en"]
            if not signed:
                assert x["status"] == "rejected" and x["cursor"] is None, x
