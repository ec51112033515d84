"""Versioned sync in real Chromium: the outbox says its versions with every push, and a push the server refuses
for its version keeps every record on the phone, says 请更新应用, and goes once the app speaks the server's version."""

from __future__ import annotations

import json
import uuid

import sync
from tests.dbquery import rows
from tests.e2e.conftest import first_visit


def test_a_push_refused_for_its_version_keeps_the_records(server, launch) -> None:  # type: ignore[no-untyped-def]
    course = f"版本测试 {uuid.uuid4().hex[:4]}"
    ctx = launch()
    sent: list[dict] = []

    def refuse(route) -> None:  # type: ignore[no-untyped-def]
        """A server that has moved on to a newer protocol than this app speaks."""
        sent.append(route.request.post_data_json)
        route.fulfill(status=400, content_type="application/json", body=json.dumps({
            "error": "update_required", "message": "请更新应用", "message_en": "Please update the app"}))

    ctx.route("**/api/sync/push", refuse)  # the context's routes see the service worker's pushes too
    page = ctx.new_page()
    first_visit(page, server.base + "/outlet")
    page.fill("input[inputmode=numeric]", "1")
    page.fill("input[maxlength='100']", course)
    page.click("[data-testid=session-start]")
    page.wait_for_selector("[data-testid=trainee-number]")
    page.goto(server.base + "/records")
    page.click("[data-testid=send-now]")
    page.wait_for_selector("[data-testid=version-held][data-code=update_required]", timeout=30000)
    assert sent and all((b["protocol"], b["schema"]) == (sync.PROTOCOL, sync.SCHEMA) for b in sent), sent
    assert "请更新应用" in page.locator("[data-testid=version-held]").inner_text()
    assert "记录都保存在手机上" in page.locator("[data-testid=version-held]").inner_text()
    record = page.locator("[data-testid=record][data-kind=session]")
    assert record.get_attribute("data-state") == "saved" and "请更新应用" in record.inner_text()
    assert "请更新应用" in page.locator("[data-testid=waiting-badge]").inner_text()
    page.reload()  # still on the phone, still explained
    page.wait_for_selector("[data-testid=record][data-kind=session][data-state=saved]")
    page.wait_for_selector("[data-testid=version-held]")
    assert rows(server.database_url, "SELECT id FROM training_sessions WHERE course = ?", course) == []

    ctx.unroute("**/api/sync/push")  # the app now speaks the server's version
    page.click("[data-testid=send-now]")
    page.wait_for_selector("[data-testid=record][data-kind=session][data-state=delivered]", timeout=30000)
    assert page.locator("[data-testid=version-held]").count() == 0
    assert "请更新应用" not in page.locator("[data-testid=waiting-badge]").inner_text()
    assert len(rows(server.database_url, "SELECT id FROM training_sessions WHERE course = ?", course)) == 1
