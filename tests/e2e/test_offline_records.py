"""Offline records in real Chromium: a check-in, a review and a training attendance made with the
network off wait on the phone (through a reload), then arrive once when it comes back."""

from __future__ import annotations

import os
import time
import uuid

import segno
from PIL import Image

from tests.dbquery import rows
from tests.e2e.camera import write_y4m
from tests.e2e.conftest import (
    device_id,
    enroll_in_browser,
    first_visit,
    lists_loaded,
    outlet_staff,
    tie_outlet_phone,
    visit_code,
)


def test_a_day_offline_then_delivered_once(any_db_server, launch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = any_db_server
    worker_code, other = server.codes("valid", 2)
    scanned = server.phone(code=other)          # the worker at the door, whose live code the camera sees
    ctx = launch(write_y4m(tmp_path / "cam.y4m", [scanned.live()], frames_each=20))
    page = ctx.new_page()
    enroll_in_browser(page, server.base, worker_code["code"])
    lists_loaded(page)
    staff = outlet_staff(server)                # the outlet staff signed in on this phone too
    tie_outlet_phone(page, server, staff)       # online, once: outlet staff signed in on this phone ties it

    ctx.set_offline(True)
    # the household: scan, verdict, review
    page.goto(server.base + "/verify")
    page.click("[data-testid=start-scan]")
    verdict = page.wait_for_selector("[data-testid=verdict]", timeout=20000)
    assert verdict.get_attribute("data-result") == "valid", page.inner_text("body")
    page.locator("[data-testid=visit-qr]").wait_for()
    page.click("[data-testid=write-review]")
    page.click("[data-testid=star-4]")
    page.click("text=准时")
    page.fill("textarea", "很细心")
    page.click("[data-testid=review-submit]")
    page.wait_for_selector("[data-testid=saved-toast]")

    # the worker: check in by scanning the household's visit code (from a photo here)
    page.goto(server.base + "/pass")
    refused = {  # codes the worker's phone refuses: an old app's code (it named the household's device), another
        # worker's pass, a code from more than an hour ago
        f"DPV1:{uuid.uuid4()}.household-device-1.{worker_code['serial']}": "这不是住户的上门签到码",
        visit_code(scanned.serial): "这不是住户的上门签到码",
        visit_code(worker_code["serial"], at=int(time.time()) - 2 * 3600): "已超过 1 小时",
    }
    for i, (text, said) in enumerate(refused.items()):
        png = tmp_path / f"refused-{i}.png"
        segno.make(text, error="m").save(str(png), scale=8, border=4)
        page.click("[data-testid=checkin-scan]")
        page.set_input_files("[data-testid=scanner-photo]", str(png))
        page.wait_for_selector(f"[role=alert] >> text={said}")
        assert page.locator("[data-testid=checkin-form]").count() == 0
    visit = tmp_path / "visit.png"
    code = visit_code(worker_code["serial"])    # another household's phone signed it
    segno.make(code, error="m").save(str(visit), scale=8, border=4)
    page.click("[data-testid=checkin-scan]")
    page.set_input_files("[data-testid=scanner-photo]", str(visit))
    page.fill("[data-testid=checkin-form] input >> nth=0", "和平小区 5 栋")
    page.click("[data-testid=checkin-submit]")
    page.wait_for_selector("[data-testid=checkout]")

    # outlet staff: open a session, a trainee by number, the same trainee again (recorded once)
    page.goto(server.base + "/outlet")
    assert staff["me"]["outlet_name"] in page.inner_text("[data-testid=outlet-name]")  # offline: the tie is on the phone
    page.fill("input[maxlength='100']", "家居保洁")
    page.click("[data-testid=session-start]")
    for _ in range(2):
        page.fill("[data-testid=trainee-number]", "T-0042")
        page.click("[data-testid=trainee-add]")
    page.wait_for_selector("text=已签到，不重复记录")
    assert page.locator("[data-testid=attendance-count]").inner_text() == "已签到 1 人"

    # still offline, after a reload: everything is on the phone, saying so
    page.goto(server.base + "/records")
    page.reload()
    page.wait_for_selector("[data-testid=record]")
    states = {page.locator("[data-testid=record]").nth(i).get_attribute("data-kind"): page.locator("[data-testid=record]").nth(i).get_attribute("data-state")
              for i in range(page.locator("[data-testid=record]").count())}
    assert states == {"review": "saved", "checkin": "saved", "session": "saved", "attendance": "saved"}, states
    assert page.locator("[data-testid=waiting-count]").inner_text() == "4 条等待发送"
    assert "已保存在手机" in page.locator("[data-testid=record]").first.inner_text()

    # back online: the online event sends them; each shows delivered
    ctx.set_offline(False)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=record]')].every(e => e.dataset.state === 'delivered')", timeout=30000)
    assert page.locator("[data-testid=waiting-count]").inner_text() == "0 条等待发送"
    assert "已送达" in page.locator("[data-testid=record]").first.inner_text()

    db, device = server.database_url, device_id(page)
    kinds = sorted(k for (k,) in rows(db, "SELECT kind FROM sync_records WHERE status = 'applied' AND device_id = ?", device))
    reviews = rows(db, "SELECT stars, tags, comment, serial FROM reviews WHERE serial = ?", scanned.serial)
    visits = rows(db, "SELECT serial, place, household_pseudonym, device_id, household_device FROM visits WHERE serial = ?",
                  worker_code["serial"])
    (session_id, outlet_id), = rows(db, "SELECT id, outlet_id FROM training_sessions WHERE device_id = ?", device)
    attendance = rows(db, "SELECT trainee FROM attendance WHERE session_id = ?", session_id)
    assert kinds == ["attendance", "checkin", "review", "session"]
    assert reviews == [(4, "punctual", "很细心", scanned.serial)]
    # the visit names the household's per-visit pseudonym, never a device; unconfirmed until that household reviews it
    assert visits == [(worker_code["serial"], "和平小区 5 栋", code.split(":")[1].split(".")[1], device, None)]
    assert attendance == [("no:T-0042",)]
    assert outlet_id == staff["me"]["outlet_id"]


def test_complaint_with_a_phone_sized_photo_offline(server, launch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A household complains offline with a big camera photo: a file that is no image gets a readable error and
    keeps the text; a 12-megapixel photo is shrunk to fit; the complaint arrives once when back online."""
    phone = server.phone("valid")
    ctx = launch(write_y4m(tmp_path / "cam.y4m", [phone.live()], frames_each=20))
    page = ctx.new_page()
    first_visit(page, server.base + "/verify")
    ctx.set_offline(True)
    page.click("[data-testid=start-scan]")
    page.wait_for_selector("[data-testid=verdict][data-result=valid]", timeout=20000)
    page.click("text=投诉")
    page.select_option("[data-testid=complaint-form] select", "conduct")
    page.fill("[data-testid=complaint-form] textarea", "进门没有换鞋，态度不好")

    not_image = tmp_path / "note.jpg"
    not_image.write_bytes(b"this is not a picture")
    page.set_input_files("[data-testid=complaint-photo]", str(not_image))
    page.click("[data-testid=complaint-submit]")
    assert "无法读取或太大" in page.locator("[data-testid=save-error]").inner_text()
    assert page.locator("[data-testid=complaint-form] textarea").input_value() == "进门没有换鞋，态度不好"

    big = tmp_path / "IMG_0001.png"  # 4000×3000 of noise: its JPEG at 1280 px is far over 512 KB
    Image.frombytes("RGB", (4000, 3000), os.urandom(4000 * 3000 * 3)).save(big, compress_level=1)
    page.set_input_files("[data-testid=complaint-photo]", str(big))
    page.click("[data-testid=complaint-submit]")
    page.wait_for_selector("[data-testid=saved-toast]", timeout=30000)

    page.goto(server.base + "/records")
    page.wait_for_selector("[data-testid=record][data-kind=complaint][data-state=saved]")
    ctx.set_offline(False)
    page.wait_for_selector("[data-testid=record][data-kind=complaint][data-state=delivered]", timeout=30000)
    held = rows(server.database_url, "SELECT category, text, length(photo) FROM complaints WHERE serial = ?", phone.serial)
    assert len(held) == 1 and held[0][:2] == ("conduct", "进门没有换鞋，态度不好")
    assert 0 < held[0][2] <= 512 * 1024, held


def test_long_waits_and_refusals_are_shown_not_dropped(server, launch) -> None:  # type: ignore[no-untyped-def]
    """Records that wait more than three days raise a warning; those the server refuses (a session from a phone no
    longer tied to its outlet, and so its attendance) show 需处理 with their reasons, stay on the phone, and are counted
    in the bar."""
    staff = outlet_staff(server)
    ctx = launch()
    page = ctx.new_page()
    page.clock.install()
    first_visit(page, server.base + "/outlet")
    tie_outlet_phone(page, server, staff)
    ctx.set_offline(True)
    page.fill("input[maxlength='100']", "母婴护理")
    page.click("[data-testid=session-start]")
    page.fill("[data-testid=trainee-number]", "T-0007")
    page.click("[data-testid=trainee-add]")
    page.wait_for_selector("text=已签到")
    # Meanwhile the outlet's tie to this phone is gone on the server (as when its account leaves the outlet).
    rows(server.database_url, "DELETE FROM outlet_devices WHERE device_id = ?", device_id(page))

    page.clock.set_system_time(time.time() + 4 * 86400)  # four days later, still no signal
    page.goto(server.base + "/records")
    assert "超过 3 天" in page.locator("[data-testid=old-warning]").inner_text()
    assert page.locator("[data-testid=waiting-count]").inner_text() == "2 条等待发送"

    ctx.set_offline(False)
    page.click("[data-testid=send-now]")
    session = page.locator("[data-testid=record][data-kind=session]")
    page.wait_for_selector("[data-testid=record][data-kind=session][data-state=attention]", timeout=30000)
    assert "需处理" in session.inner_text() and "没有登录这个服务网点" in session.inner_text(), session.inner_text()
    # attendance needs its session: refused with it, and says why
    page.wait_for_selector("[data-testid=record][data-kind=attendance][data-state=attention]", timeout=30000)
    assert "找不到这个培训场次" in page.locator("[data-testid=record][data-kind=attendance]").inner_text()
    assert page.locator("[data-testid=old-warning]").count() == 0  # nothing waits any more
    assert "需处理 2" in page.locator("[data-testid=waiting-badge]").inner_text()
    page.reload()  # the refused record stays on the phone with its reason
    page.wait_for_selector("[data-testid=record][data-kind=session][data-state=attention]")
    assert "没有登录这个服务网点" in page.locator("[data-testid=record][data-kind=session]").inner_text()


def test_a_second_staff_phone_joins_the_outlets_session(server, launch) -> None:  # type: ignore[no-untyped-def]
    """Two staff at one outlet: one opens the session; the other finds it through the pull, joins, and checks a
    trainee in offline, into that same session."""
    course = f"收纳整理 {uuid.uuid4().hex[:4]}"
    staff = outlet_staff(server)  # signed in on both phones
    opener = launch().new_page()
    first_visit(opener, server.base + "/outlet")
    tie_outlet_phone(opener, server, staff)
    opener.fill("input[maxlength='100']", course)
    opener.click("[data-testid=session-start]")
    opener.wait_for_selector("[data-testid=trainee-number]")  # saved on the phone: the session screen opens
    opener.goto(server.base + "/records")
    opener.wait_for_selector("[data-testid=record][data-kind=session][data-state=delivered]", timeout=30000)

    ctx = launch()
    helper = ctx.new_page()
    first_visit(helper, server.base + "/outlet")
    tie_outlet_phone(helper, server, staff)
    helper.click("[data-testid=sessions-find]")
    helper.click(f"[data-testid=session-join] >> text={course}", timeout=20000)
    ctx.set_offline(True)
    helper.fill("[data-testid=trainee-number]", "T-0100")
    helper.click("[data-testid=trainee-add]")
    helper.wait_for_selector("text=签到成功")
    ctx.set_offline(False)
    helper.goto(server.base + "/records")
    helper.wait_for_selector("[data-testid=record][data-kind=attendance][data-state=delivered]", timeout=30000)

    (session_id,), = rows(server.database_url, "SELECT id FROM training_sessions WHERE course = ?", course)
    assert rows(server.database_url, "SELECT trainee FROM attendance WHERE session_id = ?", session_id) == [("no:T-0100",)]
