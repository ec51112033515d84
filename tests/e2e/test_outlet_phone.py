"""An outlet's phone in real Chromium (docs/devices.md, Record rules that use the device): it is tied to the outlet of
the outlet staff account signed in on it, names that outlet, opens a training session offline, and the session is
applied once online; signing out unties it. A phone nobody signed in on is told to sign in.

Screenshots at 360 px wide go to `test-results/e2e/` (or $DOORPASS_E2E_ARTEFACTS).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from tests.dbquery import rows
from tests.e2e.conftest import device_id, first_visit, looks, outlet_staff, sign_in_outlet_phone
from tests.served import ROOT

ARTEFACTS = Path(os.environ.get("DOORPASS_E2E_ARTEFACTS", ROOT / "test-results" / "e2e"))


def _shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(150)
    page.screenshot(path=str(ARTEFACTS / f"{name}-360.png"), full_page=True)


def test_a_phone_not_signed_in_is_told_to_sign_in(server, launch) -> None:  # type: ignore[no-untyped-def]
    page = launch().new_page()
    first_visit(page, server.base + "/outlet")
    page.wait_for_selector("[data-testid=outlet-need-signin]")
    assert "服务网点工作人员" in page.inner_text("[data-testid=outlet-need-signin]")
    assert page.locator("[data-testid=session-start]").count() == 0  # no session without an outlet
    assert page.locator("input[inputmode=numeric]").count() == 0  # the outlet is not typed any more
    _shoot(page, "outlet-signed-out")
    page.click(".bar-lang")
    assert "outlet staff" in page.inner_text("[data-testid=outlet-need-signin]")
    page.click(".bar-lang")
    page.click("[data-testid=outlet-signin]")
    page.wait_for_url("**/signin?next=/outlet")
    page.wait_for_selector("[data-testid=signin-username]")


def test_an_outlet_phone_is_tied_by_its_staff_and_works_offline(server, launch) -> None:  # type: ignore[no-untyped-def]
    staff = outlet_staff(server)
    me = staff["me"]
    course = f"家居保洁 {uuid.uuid4().hex[:4]}"
    ctx = launch()
    page = ctx.new_page()
    first_visit(page, server.base + "/outlet")
    page.wait_for_selector("[data-testid=outlet-need-signin]")

    # Signed in as the outlet's staff (the session cookie), online: the phone ties itself to the outlet, once.
    sign_in_outlet_phone(ctx, server, staff)
    with page.expect_response("**/api/sync/devices/outlet") as answer:
        page.reload()
    assert answer.value.status == 200, answer.value.text()
    tie = answer.value.json()
    device = device_id(page)
    assert (tie["device_id"], tie["outlet_id"], tie["outlet_name"]) == (device, me["outlet_id"], me["outlet_name"])
    request = answer.value.request
    assert request.headers["x-doorpass-device"] == device and request.headers["x-csrf-token"] == staff["csrf"]
    page.wait_for_selector("[data-testid=outlet-name]")
    assert page.inner_text("[data-testid=outlet-name]") == f"服务网点：{me['outlet_name']}"
    assert rows(server.database_url, "SELECT outlet_id FROM outlet_devices WHERE device_id = ?", device) == [(me["outlet_id"],)]
    _shoot(page, "outlet-tied")
    looks(page, "outlet", "tied")  # zh-CN and English, 360 and 1280 px: every button on one or two lines

    # No signal: after a reload the phone still knows its outlet, opens a session and checks a trainee in.
    ctx.set_offline(True)
    page.reload()
    page.wait_for_selector("[data-testid=outlet-name]")
    assert me["outlet_name"] in page.inner_text("[data-testid=outlet-name]")
    page.fill("[data-testid=session-course]", course)
    page.click("[data-testid=session-start]")
    page.fill("[data-testid=trainee-number]", "T-0300")
    page.click("[data-testid=trainee-add]")
    page.wait_for_selector("text=签到成功")
    assert me["outlet_name"] in page.inner_text("[data-testid=outlet-name]")
    _shoot(page, "outlet-session-offline")
    looks(page, "outlet", "session-offline")
    assert rows(server.database_url, "SELECT id FROM training_sessions WHERE course = ?", course) == []

    # Signal again: the session and its attendance are applied, for this outlet, from this phone.
    ctx.set_offline(False)
    page.goto(server.base + "/records")
    page.wait_for_selector("[data-testid=record][data-kind=attendance]")
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=record]')].every(e => e.dataset.state === 'delivered')",
                           timeout=30000)
    (session_id, outlet_id, by), = rows(server.database_url, "SELECT id, outlet_id, device_id FROM training_sessions WHERE course = ?",
                                        course)
    assert (outlet_id, by) == (me["outlet_id"], device)
    assert rows(server.database_url, "SELECT trainee FROM attendance WHERE session_id = ?", session_id) == [("no:T-0300",)]

    # Signing out unties the phone (after sending what it holds); the outlet view then asks for sign-in again.
    page.goto(server.base + "/account")
    page.wait_for_selector("[data-testid=to-outlet]")
    with page.expect_response("**/api/sync/devices/outlet/unbind") as untie:
        page.click("[data-testid=signout]")
    assert untie.value.status == 200, untie.value.text()
    page.wait_for_url("**/signin")
    assert rows(server.database_url, "SELECT outlet_id FROM outlet_devices WHERE device_id = ?", device) == []
    page.goto(server.base + "/outlet")
    page.wait_for_selector("[data-testid=outlet-need-signin]")


def test_signing_out_offline_unties_the_phone_once_online(server, launch) -> None:  # type: ignore[no-untyped-def]
    """Sign-out works with no signal: the phone forgets its outlet at once, and its saved records go before the
    untie, both at the next sync."""
    staff = outlet_staff(server)
    course = f"母婴护理 {uuid.uuid4().hex[:4]}"
    ctx = launch()
    page = ctx.new_page()
    sign_in_outlet_phone(ctx, server, staff)
    first_visit(page, server.base + "/outlet")
    page.wait_for_selector("[data-testid=outlet-name]", timeout=20000)
    device = device_id(page)
    page.goto(server.base + "/account")
    page.wait_for_selector("[data-testid=signout]")

    # No signal from here; the app stays open (who is signed in was read online), as on a phone in a training room.
    ctx.set_offline(True)
    page.click("[data-testid=to-outlet]")
    page.fill("[data-testid=session-course]", course)
    page.click("[data-testid=session-start]")
    page.wait_for_selector("[data-testid=trainee-number]")
    page.go_back()
    page.click("[data-testid=signout]")
    page.wait_for_url("**/signin")
    page.goto(server.base + "/outlet")
    page.wait_for_selector("[data-testid=outlet-need-signin]")  # forgotten on the phone at once
    assert rows(server.database_url, "SELECT outlet_id FROM outlet_devices WHERE device_id = ?", device) != []

    ctx.set_offline(False)
    page.goto(server.base + "/records")
    page.wait_for_selector("[data-testid=record][data-kind=session][data-state=delivered]", timeout=30000)
    for _ in range(60):  # the untie follows the records, in the same sync
        if rows(server.database_url, "SELECT outlet_id FROM outlet_devices WHERE device_id = ?", device) == []:
            break
        page.wait_for_timeout(500)
    assert rows(server.database_url, "SELECT outlet_id FROM outlet_devices WHERE device_id = ?", device) == []
    assert len(rows(server.database_url, "SELECT id FROM training_sessions WHERE course = ?", course)) == 1
