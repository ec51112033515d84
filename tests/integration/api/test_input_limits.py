"""Numbers too big for their column and JSON nested too deep are a 400 with a message, never a 500 (each engine)."""

from __future__ import annotations

import re

import pytest
from litestar.handlers import HTTPRouteHandler

from tests.integration.conftest import ADMIN, Admin
from tests.records import Device

SERIAL = [2**53, 2**63, 10**30]  # pass numbers: BIGINT, and exact in JavaScript
ROW_ID = [2**31, 2**63, 10**30]  # ids in INTEGER columns
CURSOR = [2**63, 10**30]  # BIGINT


def path_cases() -> list[tuple[str, str, dict | None]]:
    cases: list[tuple[str, str, dict | None]] = []
    for n in SERIAL:
        cases += [
            ("GET", f"/api/passes/{n}/photo", None),
            ("GET", f"/api/admin/passes/{n}", None),
            ("GET", f"/api/admin/passes/{n}/reviews", None),
            ("POST", f"/api/admin/passes/{n}/activation", {}),
            ("POST", f"/api/admin/passes/{n}/status", {"status": "caution", "reason": "x"}),
            ("POST", f"/api/admin/passes/{n}/suspend", {"reason": "x"}),
            ("POST", f"/api/admin/passes/{n}/reinstate", None),
            ("POST", f"/api/admin/passes/{n}/revoke", {"reason": "x"}),
            ("GET", f"/api/admin/complaints?serial={n}", None),
            ("GET", f"/api/sync/pull?device_id=device-0001&serial={n}", None),
            ("POST", "/api/verify/code", {"serial": n, "code": "123456"}),
        ]
    for n in ROW_ID:
        cases += [
            ("GET", f"/api/admin/workers/{n}", None),
            ("POST", f"/api/admin/workers/{n}/passes", {}),
            ("POST", f"/api/admin/workers/{n}/trainings", {"course": "养老护理", "day": "2026-11-24"}),
            ("POST", f"/api/admin/agencies/{n}/rotate-key", None),
            ("GET", f"/api/admin/complaints?agency_id={n}", None),
            ("GET", f"/api/sync/pull?device_id=device-0001&outlet_id={n}", None),
        ]
    for n in CURSOR:
        cases.append(("GET", f"/api/sync/pull?device_id=device-0001&cursor={n}", None))
    return cases


async def test_oversized_numbers_in_paths_queries_and_bodies(client, admin: Admin) -> None:  # type: ignore[no-untyped-def]
    agency = await admin.agency()
    worker = await admin.worker(agency["id"])
    cases = path_cases()
    for n in ROW_ID:
        cases += [
            ("POST", "/api/admin/workers", {"agency_id": n, "name": "王阿姨"}),
            ("POST", f"/api/admin/workers/{worker['id']}/trainings", {"course": "养老护理", "day": "2026-11-24", "outlet_id": n}),
        ]
    for method, path, body in cases:
        r = await client.request(method, path, json=body, headers=ADMIN)
        assert r.status_code == 400, (method, path, r.status_code, r.text)
        j = r.json()
        assert j["error"] == "invalid_request" and j["message"].startswith("请求内容有误") and j["message_en"], j
        assert "Validation failed for" not in j["message_en"]  # names the field, not the whole URL


async def test_numbers_that_fit_still_work(client, admin: Admin) -> None:  # type: ignore[no-untyped-def]
    await admin.agency()
    assert (await client.get(f"/api/passes/{2**53 - 1}/photo")).status_code == 404
    assert (await client.get(f"/api/admin/workers/{2**31 - 1}", headers=ADMIN)).status_code == 404
    r = await Device().pull(client, cursor=2**63 - 1)
    assert r.status_code == 200, r.text


def body_routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Every operation that takes a JSON body, with its path parameters filled in."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler) and "data" in handler.parsed_fn_signature.parameters:
                path = re.sub(r"\{[^}]+\}", "1", route.path)
                found += [(method, path) for method in handler.http_methods]
    return sorted(found)


@pytest.mark.parametrize("depth", [2_000, 100_000])
async def test_deep_json_is_a_400_on_every_route_with_a_body(client, admin: Admin, depth: int) -> None:  # type: ignore[no-untyped-def]
    await admin.agency()
    routes = body_routes(client.app)
    assert ("POST", "/api/verify") in routes and ("POST", "/api/sync/push") in routes
    for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        for method, path in routes:
            r = await client.request(method, path, content=body.encode(), headers={**ADMIN, "content-type": "application/json"})
            assert r.status_code < 500, (method, path, r.status_code, r.text[:200])
            if r.status_code == 400:
                j = r.json()
                assert j["error"] == "invalid_request" and j["message"] and j["message_en"], j
            else:  # a guard, or the route's body limit, answered before the body was read
                assert r.status_code in (401, 403, 413), (method, path, r.status_code, r.text[:200])
        # the route that takes the largest bodies reads this one, and refuses it for its depth
        r = await client.post("/api/sync/push", content=body.encode(), headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json() == {
            "error": "invalid_request", "message": "请求内容嵌套太深", "message_en": "The request body is nested too deeply"}


async def test_a_pushed_record_with_an_oversized_number_is_refused_not_a_500(client) -> None:  # type: ignore[no-untyped-def]
    from tests.records import uuid7

    staff = Device()
    for outlet_id in (2**31, 2**63, 10**30):
        record = staff.record("session", session_id=uuid7(), outlet_id=outlet_id, course="培训", day="2026-11-24")
        r = await staff.push(client, [record])
        assert r.status_code == 200, r.text
        receipt = r.json()["receipts"][0]
        assert receipt["status"] == "rejected" and "outlet_id" in receipt["reason_en"], receipt
