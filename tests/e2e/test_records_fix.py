"""Records that need attention, in real Chromium: the server's reason in the person's language; a correction is a new
record (new id, signed anew) that replaces the refused one, which stays on the phone under 已作废; a discard asks
first. Records saved online leave at once. The outlet's trainee-number field checks the server's rule on the phone.

Screenshots at 360 × 740 go to `test-results/e2e/` (or $DOORPASS_E2E_ARTEFACTS; gitignored).
"""

from __future__ import annotations

import csv
import datetime
import io
import time
import uuid
from pathlib import Path

import segno

from tests.dbquery import rows
from tests.e2e.conftest import (
    ARTEFACTS,
    device_id,
    enroll_in_browser,
    first_visit,
    lists_loaded,
    looks,
    outlet_staff,
    set_lang,
    tie_outlet_phone,
    visit_code,
)

REC = "[data-testid=record]"


def _shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(150)
    page.screenshot(path=str(ARTEFACTS / f"{name}-360.png"), full_page=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}-360-fold.png"))


def _open_session(page, course: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("[data-testid=session-course]", course)
    page.click("[data-testid=session-start]")
    page.wait_for_selector("[data-testid=trainee-number]")


def _add(page, number: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("[data-testid=trainee-number]", number)
    page.click("[data-testid=trainee-add]")


def test_refused_records_are_corrected_and_resent_or_discarded(server, launch) -> None:  # type: ignore[no-untyped-def]
    db = server.database_url
    staff = outlet_staff(server)
    course = f"养老护理 {uuid.uuid4().hex[:4]}"
    ctx = launch()
    page = ctx.new_page()
    first_visit(page, server.base + "/outlet")
    tie_outlet_phone(page, server, staff)
    device = device_id(page)

    # Offline: a session and two trainees. Meanwhile the phone's tie is gone on the server, so when the phone comes
    # back the session is refused (not this outlet's phone) and with it both attendances (no such session).
    ctx.set_offline(True)
    _open_session(page, course)
    for number in ("T-0042", "T-0043"):
        _add(page, number)
        page.wait_for_selector(f"text={number} 签到成功")
    (tie,) = rows(db, "SELECT device_id, outlet_id, account_id, bound_at FROM outlet_devices WHERE device_id = ?", device)
    rows(db, "DELETE FROM outlet_devices WHERE device_id = ?", device)
    page.goto(server.base + "/records")
    page.wait_for_selector(f"{REC}[data-state=saved]")
    ctx.set_offline(False)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=record]')].filter(e => e.dataset.state === 'attention').length === 3",
        timeout=30000)
    # The phone is this outlet's again (as after signing in anew): what was refused can now be put right.
    rows(db, "INSERT INTO outlet_devices (device_id, outlet_id, account_id, bound_at) VALUES (?, ?, ?, ?)", *tie)

    session = page.locator(f"{REC}[data-kind=session][data-state=attention]")
    attendance = page.locator(f"{REC}[data-kind=attendance][data-state=attention]")
    assert "没有登录这个服务网点" in session.locator("[data-testid=record-reason]").inner_text()
    assert "服务器未接收" in session.locator("[data-testid=record-reason]").inner_text()
    assert all("找不到这个培训场次" in attendance.nth(i).inner_text() for i in range(2))
    assert "3 条记录需处理" in page.inner_text("[data-testid=attention-help]")
    assert session.locator("[data-testid=record-fix]").inner_text() == "更正并重发"
    assert page.locator("[data-testid=only-discard]").count() == 0  # nothing here rests on stale proof
    _shoot(page, "records-attention")
    looks(page, "records", "attention")
    page.click(".bar-lang")  # the reason in English, from the server's own English
    assert "not signed in to a staff account of this outlet" in session.locator("[data-testid=record-reason]").inner_text()
    assert session.locator("[data-testid=record-fix]").inner_text() == "Fix and resend"
    _shoot(page, "records-attention-en")
    page.click(".bar-lang")

    # Correct the session (its course, or as it is) and resend: a new record, delivered; the refused one is kept.
    old_session = session.get_attribute("data-id")
    session.locator("[data-testid=record-fix]").click()
    form = page.locator("[data-testid=fix-form]")
    assert form.locator("[data-testid=fix-course]").input_value() == course
    _shoot(page, "records-fix-session")
    looks(page, "records", "fix-session", top=False)
    form.locator("[data-testid=fix-send]").click()
    page.wait_for_selector(f"{REC}[data-kind=session][data-state=delivered]", timeout=30000)
    new_session = page.locator(f"{REC}[data-kind=session][data-state=delivered]")
    assert new_session.get_attribute("data-id") != old_session
    assert "更正后重发" in new_session.inner_text()

    # Correct one trainee's number: the phone checks the server's rule first, then the new record is delivered.
    first = page.locator(f"{REC}[data-kind=attendance][data-state=attention]", has_text="T-0042")
    old_attendance = first.get_attribute("data-id")
    first.locator("[data-testid=record-fix]").click()
    field = page.locator("[data-testid=fix-trainee-number]")
    assert field.input_value() == "T-0042"
    field.fill("张三 001")
    page.click("[data-testid=fix-send]")
    assert "不是有效的学员编号" in page.inner_text("[data-testid=fix-error]")
    assert page.locator(f"{REC}[data-kind=attendance]").count() == 2  # nothing saved
    field.fill("t-0052")
    page.click("[data-testid=fix-send]")
    page.wait_for_selector(f"{REC}[data-kind=attendance][data-state=delivered]", timeout=30000)
    assert "No.T-0052" in page.locator(f"{REC}[data-kind=attendance][data-state=delivered]").inner_text()

    # Discard the other: it asks first; cancelling keeps it, confirming sets it aside (kept, with when).
    other = page.locator(f"{REC}[data-kind=attendance][data-state=attention]")
    other.locator("[data-testid=record-discard]").click()
    assert "不会再发送" in other.inner_text()
    _shoot(page, "records-discard-confirm")
    other.locator("[data-testid=discard-no]").click()
    assert other.locator("[data-testid=record-discard]").count() == 1
    other.locator("[data-testid=record-discard]").click()
    other.locator("[data-testid=discard-yes]").click()
    page.wait_for_function("() => !document.querySelector('[data-testid=record][data-state=attention]')")
    assert page.locator("[data-testid=attention-help]").count() == 0
    assert "需处理" not in page.inner_text("[data-testid=waiting-badge]")

    # The refused and discarded records stay on the phone (through a reload), apart, each saying when and why.
    page.reload()
    page.wait_for_selector("[data-testid=discarded]")
    page.click("[data-testid=discarded] summary")
    gone = page.locator(f"[data-testid=discarded] {REC}[data-state=discarded]")
    assert gone.count() == 3, page.inner_text("main")
    assert "已作废（3）" in page.inner_text("[data-testid=discarded] summary")
    assert all("作废于" in gone.nth(i).inner_text() for i in range(3))
    assert sum("由新记录替代" in gone.nth(i).inner_text() for i in range(3)) == 2
    assert {gone.nth(i).get_attribute("data-id") for i in range(3)} >= {old_session, old_attendance}
    _shoot(page, "records-after-fix")

    # The server holds the corrected session and trainee, not the discarded one.
    (sid,) = rows(db, "SELECT id FROM training_sessions WHERE course = ?", course)[0]
    assert rows(db, "SELECT trainee FROM attendance WHERE session_id = ?", sid) == [("no:T-0052",)]
    refused = rows(db, "SELECT id, status FROM sync_records WHERE id IN (?, ?)", old_session, old_attendance)
    assert sorted(s for _, s in refused) == ["rejected", "rejected"]


def test_records_saved_online_leave_at_once(server, launch) -> None:  # type: ignore[no-untyped-def]
    """Online, a session and a trainee reach the server right after saving: the outlet screen shows them delivered
    without a send button, a reload or the minute's timer."""
    staff = outlet_staff(server)
    course = f"母婴护理 {uuid.uuid4().hex[:4]}"
    page = launch().new_page()
    first_visit(page, server.base + "/outlet")
    tie_outlet_phone(page, server, staff)
    _open_session(page, course)
    assert staff["me"]["outlet_name"] in page.inner_text("[data-testid=outlet-name]")  # the session screen names it too
    _add(page, "T-0200")
    page.wait_for_selector("text=T-0200 签到成功")
    page.wait_for_selector(".reclist .chip.delivered", timeout=20000)
    (sid,) = rows(server.database_url, "SELECT id FROM training_sessions WHERE course = ?", course)[0]
    assert rows(server.database_url, "SELECT trainee FROM attendance WHERE session_id = ?", sid) == [("no:T-0200",)]

    # The phone's own CSV: one column each for the trainee number, the pass number and the name.
    with page.expect_download() as download:
        page.click("[data-testid=export-csv]")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert table[0][2:6] == ["服务网点 outlet", "学员编号 trainee number", "证号 pass", "姓名 name"], table[0]
    assert table[1][:6] == [course, table[1][1], staff["me"]["outlet_name"], "T-0200", "", ""], table


def test_the_trainee_number_is_checked_on_the_phone(server, launch) -> None:  # type: ignore[no-untyped-def]
    """张三 001 is no trainee number: the phone says what shape is needed (zh-CN, English) and saves nothing; the
    field's pattern compiles under Chromium's `v` flag (no console error) and matches the server's rule."""
    staff = outlet_staff(server)
    page = launch().new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    first_visit(page, server.base + "/outlet")
    tie_outlet_phone(page, server, staff)
    _open_session(page, f"收纳整理 {uuid.uuid4().hex[:4]}")
    field = page.locator("[data-testid=trainee-number]")
    _add(page, "张三 001")
    message = page.inner_text("[data-testid=outlet-message]")
    assert "不是有效的学员编号" in message and "T-0042" in message, message
    assert "签到成功" not in page.inner_text("main")
    assert field.input_value() == "张三 001"  # kept, to be put right
    assert field.evaluate("e => e.matches(':invalid')")  # the browser applies the pattern: it compiled
    assert page.locator("[data-testid=attendance-count]").inner_text() == "已签到 0 人"
    _shoot(page, "outlet-number-bad")
    page.click(".bar-lang")
    _add(page, "张三 001")
    assert "is not a trainee number" in page.inner_text("[data-testid=outlet-message]")
    page.click(".bar-lang")
    _add(page, "t-0042")
    page.wait_for_selector("text=T-0042 签到成功")
    assert not field.evaluate("e => e.matches(':invalid')")
    assert page.locator("[data-testid=attendance-count]").inner_text() == "已签到 1 人"
    assert not [e for e in errors if "pattern" in e.lower()], errors


def test_a_record_whose_proof_is_stale_can_only_be_discarded(server, launch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A check-in made offline reaches the server more than 7 days after the household's verification: the server
    refuses it (its visit code is no longer proof) and no correction can make it good (a correction keeps the moment
    the proof was made). The phone says so in the person's words and offers only 作废; once discarded it stays under
    已作废, is never sent again, and nothing waits to be sent."""
    code = server.code("valid")
    ctx = launch()
    page = ctx.new_page()
    enroll_in_browser(page, server.base, code["code"])
    lists_loaded(page)
    pushed: list[str] = []  # every push's body, from the page and its service worker
    ctx.on("request", lambda r: pushed.append(r.post_data or "") if r.url.endswith("/api/sync/push") else None)

    # Eight days ago, offline: the household verified, the worker scanned its visit code and checked in.
    ctx.set_offline(True)
    then = time.time() - 8 * 86400
    page.clock.set_system_time(datetime.datetime.fromtimestamp(then, tz=datetime.UTC))
    visit = tmp_path / "visit.png"
    segno.make(visit_code(code["serial"], at=int(then)), error="m").save(str(visit), scale=8, border=4)
    page.click("[data-testid=checkin-scan]")
    page.set_input_files("[data-testid=scanner-photo]", str(visit))
    page.click("[data-testid=checkin-submit]")
    page.wait_for_selector("[data-testid=checkout]")

    # Today, back online: the record leaves and is refused.
    page.clock.set_system_time(datetime.datetime.now(tz=datetime.UTC))
    page.goto(server.base + "/records")
    ctx.set_offline(False)
    page.wait_for_selector(f"{REC}[data-kind=checkin][data-state=attention]", timeout=30000)
    rec = page.locator(f"{REC}[data-kind=checkin][data-state=attention]")
    record_id = rec.get_attribute("data-id")
    assert any(record_id in body for body in pushed), "the check-in was never pushed"
    reason = rec.locator("[data-testid=record-reason]").inner_text()
    assert "服务器未接收" in reason and "7 天后才送达" in reason and "不能再作为凭证" in reason, reason
    only = rec.locator("[data-testid=only-discard]").inner_text()
    assert only.startswith("只能作废") and "上门码已超过 7 天" in only, only
    assert rec.locator("[data-testid=record-fix]").count() == 0  # no correction offered: it could not land
    assert rec.locator("[data-testid=record-discard]").inner_text() == "作废"
    assert "1 条记录需处理：凭证已过期，只能作废" in page.inner_text("[data-testid=attention-help]")
    looks(page, "records", "only-discard")
    set_lang(page, "en")
    assert "more than 7 days after the visit" in rec.locator("[data-testid=record-reason]").inner_text()
    assert rec.locator("[data-testid=only-discard]").inner_text().startswith("Can only be discarded")
    # the bar's badge keeps its count in view at 360 px (not cut short)
    assert page.inner_text("[data-testid=waiting-badge]") == "1 to fix"
    assert page.eval_on_selector("[data-testid=waiting-badge]", "e => e.scrollWidth <= e.clientWidth")
    set_lang(page, "zh-CN")

    # Discard, confirmed: set aside under 已作废, with when and why; nothing waits; it is not sent again.
    rec.locator("[data-testid=record-discard]").click()
    assert "不会再发送" in rec.inner_text()
    rec.locator("[data-testid=discard-yes]").click()
    page.wait_for_selector("[data-testid=discarded]")
    assert page.locator(f"{REC}[data-state=attention]").count() == 0
    assert page.inner_text("[data-testid=waiting-count]") == "0 条等待发送"
    assert "需处理" not in page.inner_text("[data-testid=waiting-badge]")
    before = len(pushed)
    page.click("[data-testid=send-now]")
    page.reload()
    page.wait_for_selector("[data-testid=discarded]")
    page.click("[data-testid=discarded] summary")
    gone = page.locator(f"[data-testid=discarded] {REC}[data-id='{record_id}']")
    assert gone.get_attribute("data-state") == "discarded"
    assert "作废于" in gone.inner_text() and "7 天后才送达" in gone.inner_text()
    assert page.inner_text("[data-testid=waiting-count]") == "0 条等待发送"
    page.wait_for_timeout(1500)
    assert not [b for b in pushed[before:] if record_id in b], "a discarded record was sent again"
    assert rows(server.database_url, "SELECT status FROM sync_records WHERE id = ?", record_id) == [("rejected",)]
    page.screenshot(path=str(ARTEFACTS / "records-only-discard-after-360.png"), full_page=True)
