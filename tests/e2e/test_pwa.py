"""The PWA in real Chromium: installable, offline, a worker's live pass, a household's offline verdict."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
import segno
import zxingcpp
from PIL import Image

import crypto
from tests.e2e.camera import image_luma, write_planes, write_y4m
from tests.e2e.conftest import controlled, enroll_in_browser, first_visit, lists_loaded

VIEWS = {"/": "我是家庭用户", "/verify": "核验上门人员", "/pass": "上门服务证", "/enroll": "激活上门服务证"}


def test_installable_and_every_view_opens_offline(server, launch) -> None:  # type: ignore[no-untyped-def]
    ctx = launch()
    page = ctx.new_page()
    page.goto(server.base + "/")
    controlled(page)
    manifest = page.evaluate("fetch('/manifest.webmanifest').then(r => r.json())")
    assert manifest["lang"] == "zh-CN" and manifest["display"] == "standalone" and manifest["start_url"] == "/"
    assert {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    assert any(i.get("purpose") == "maskable" for i in manifest["icons"])
    cdp = ctx.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == [], errors
    lists_loaded(page)
    ctx.set_offline(True)
    for path, text in VIEWS.items():
        page.goto(server.base + path)
        page.wait_for_selector(f"text={text}", timeout=10000)
        page.wait_for_function("() => document.querySelector('[data-testid=net]').textContent.endsWith('离线')", timeout=10000)
    # the decoder's WebAssembly is precached too
    assert page.evaluate("caches.keys().then(async ks => { for (const k of ks) { const c = await caches.open(k); for (const r of await c.keys()) if (r.url.includes('zxing_reader')) return true; } return false; })")


def _decode_png(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert found, "no QR decoded from the screenshot"
    return found[0].text


def test_worker_enrolls_and_the_screenshotted_qr_verifies(server, launch) -> None:  # type: ignore[no-untyped-def]
    code = server.code("valid")
    ctx = launch()
    page = ctx.new_page()
    enroll_in_browser(page, server.base, code["code"])
    assert page.locator("[data-testid=pass-name]").inner_text() == code["name"]
    # Screen Wake Lock: refused by this browser profile, the pass says the screen may go dark; once allowed, it holds it.
    page.wait_for_selector("main[data-wake=off] >> text=屏幕可能会自动熄灭")
    ctx.new_cdp_session(page).send("Browser.grantPermissions", {"permissions": ["wakeLockScreen"], "origin": server.base})
    page.reload()
    page.wait_for_selector("[data-testid=pass-qr][data-step]", timeout=20000)
    page.wait_for_selector("main[data-wake=held]")
    assert page.locator("text=屏幕可能会自动熄灭").count() == 0
    qr = _decode_png(page.locator("[data-testid=pass-qr]").screenshot())
    assert qr.startswith("DP1:")
    status, answer = server.call("/api/verify", {"qr": qr})
    assert status == 200 and answer["result"] == "valid", answer
    digits = page.locator("[data-testid=pass-code]").inner_text().replace(" ", "")
    status, answer = server.call("/api/verify/code", {"serial": answer["holder"]["serial"], "code": digits})
    assert answer["result"] == "valid", answer

    # airplane mode: the pass still shows a fresh, verifiable frame
    ctx.set_offline(True)
    page.reload()
    page.wait_for_selector("[data-testid=pass-qr][data-step]", timeout=20000)
    page.wait_for_function("() => document.querySelector('[data-testid=net]').textContent.endsWith('离线')", timeout=10000)
    qr2 = _decode_png(page.locator("[data-testid=pass-qr]").screenshot())
    assert server.call("/api/verify", {"qr": qr2})[1]["result"] == "valid"


def test_worker_enrolls_by_scanning_the_agency_activation_qr(server, launch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    code = server.code("valid")  # seed-demo also drew each fresh code's activation QR (segno SVG) under var/demo/
    # The agency shows the QR on its screen: Chromium draws the SVG; an independent decoder reads the link.
    screen = launch().new_page()
    screen.set_content(Path(code["qr_file"]).read_text(encoding="utf-8"))
    png = screen.locator("svg").screenshot()
    assert _decode_png(png) == code["url"]
    # The worker's phone films that screen and enrolls from what its camera sees.
    page = launch(write_planes(tmp_path / "activation.y4m", [image_luma(png)], frames_each=20)).new_page()
    page.goto(server.base + "/enroll")
    page.click("[data-testid=enroll-scan]")
    page.wait_for_selector("[data-testid=pass-qr][data-step]", timeout=20000)
    assert page.locator("[data-testid=pass-name]").inner_text() == code["name"]
    qr = _decode_png(page.locator("[data-testid=pass-qr]").screenshot())
    assert server.call("/api/verify", {"qr": qr})[1]["result"] == "valid"


def test_household_is_warned_when_the_photo_does_not_match_the_pass(server, launch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    phone = server.phone("valid")
    page = launch(write_y4m(tmp_path / "cam.y4m", [phone.live()], frames_each=20)).new_page()
    # someone between the phone and the server swaps the photo: its digest no longer matches the signed pass
    page.route("**/api/passes/*/photo", lambda route: route.fulfill(status=200, content_type="image/png",
                                                                     body=_png_of(server.base)))
    first_visit(page, server.base + "/verify")
    page.click("[data-testid=start-scan]")
    page.wait_for_selector("[data-testid=verdict][data-result=valid]", timeout=20000)
    page.wait_for_selector("text=照片与证件不符！", timeout=10000)
    assert page.locator("[data-testid=verdict-photo]").count() == 0


def _png_of(text: str) -> bytes:
    out = io.BytesIO()
    segno.make(text).save(out, kind="png", scale=4)
    return out.getvalue()


def _household_scan(server, launch, tmp_path, qr: str) -> tuple[str, str, object]:  # type: ignore[no-untyped-def]
    cam = write_y4m(tmp_path / "cam.y4m", [qr], frames_each=20)
    ctx = launch(cam)
    page = ctx.new_page()
    first_visit(page, server.base + "/verify")
    ctx.set_offline(True)
    page.reload()
    page.wait_for_selector("text=核验上门人员")
    page.click("[data-testid=start-scan]")
    verdict = page.wait_for_selector("[data-testid=verdict]", timeout=20000)
    return verdict.get_attribute("data-result"), verdict.get_attribute("data-source"), page


def test_household_offline_green_verdict_from_the_camera(server, launch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    phone = server.phone("valid")
    result, source, page = _household_scan(server, launch, tmp_path, phone.live())
    assert (result, source) == ("valid", "offline")
    assert page.locator("[data-testid=verdict-headline]").inner_text() == "有效"
    assert page.locator("[data-testid=verdict-name]").inner_text()
    assert "状态截至" in page.locator("[data-testid=verdict-source]").inner_text()


def test_household_sees_a_two_minute_old_frame_as_stale(server, launch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    phone = server.phone("valid")
    result, source, page = _household_scan(server, launch, tmp_path, phone.live(int(time.time()) - 120))
    assert (result, source) == ("stale", "offline")
    assert "截图" in page.locator("[data-testid=verdict-explain]").inner_text()


def test_household_sees_a_revoked_pass_as_revoked(server, launch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    phone = server.phone("valid")
    status, _ = server.call(f"/api/admin/passes/{phone.serial}/revoke", {"reason": "已离职"}, admin=True)
    assert status == 200
    result, source, page = _household_scan(server, launch, tmp_path, phone.live())
    assert (result, source) == ("revoked", "offline")
    assert page.locator("[data-testid=verdict-headline]").inner_text() == "已注销"


@pytest.mark.parametrize("status", ["caution", "red"])
def test_household_sees_yellow_and_red_online_with_reason(server, launch, tmp_path, status) -> None:  # type: ignore[no-untyped-def]
    phone = server.phone(status)
    cam = write_y4m(tmp_path / "cam.y4m", [phone.live()], frames_each=20)
    page = launch(cam).new_page()
    page.goto(server.base + "/verify")
    lists_loaded(page)
    page.click("[data-testid=start-scan]")
    page.wait_for_selector("[data-testid=verdict][data-source=online]", timeout=20000)
    v = page.locator("[data-testid=verdict]")
    assert v.get_attribute("data-result") == status
    page.wait_for_selector("[data-testid=verdict-photo]", timeout=10000)  # fetched, and its digest matched the pass
    assert "原因" in v.inner_text()


def test_household_picks_a_photo_of_a_printed_card(server, launch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    phone = server.phone("valid")
    png = tmp_path / "card.png"
    segno.make(crypto.make_card(phone.cred, phone.sig), error="m", boost_error=False).save(str(png), scale=6, border=4)
    ctx = launch()
    page = ctx.new_page()
    first_visit(page, server.base + "/verify")
    ctx.set_offline(True)
    page.set_input_files("[data-testid=pick-photo]", str(png))
    verdict = page.wait_for_selector("[data-testid=verdict]", timeout=20000)
    assert verdict.get_attribute("data-result") == "valid"
    assert "纸质证卡" in page.locator("[data-testid=printed]").inner_text()


def test_household_types_pass_number_and_code_online(server, launch) -> None:  # type: ignore[no-untyped-def]
    import crypto

    phone = server.phone("valid")
    page = launch().new_page()
    page.goto(server.base + "/verify")
    lists_loaded(page)
    page.click("text=输入证号和动态码")
    page.fill("input[inputmode=numeric] >> nth=0", str(phone.serial))
    right = crypto.totp_code(phone.secret, int(time.time()) // 30)
    page.fill("input[inputmode=numeric] >> nth=1", f"{(right + 500_000) % 1_000_000:06d}")
    page.click("button[type=submit]")
    # a wrong code says only that, names no one, and leaves the form to try again
    assert "号码或验证码不对" in page.locator("[data-testid=verify-error]").inner_text(timeout=20000)
    assert page.locator("[data-testid=verdict]").count() == 0
    page.fill("input[inputmode=numeric] >> nth=1", f"{crypto.totp_code(phone.secret, int(time.time()) // 30):06d}")
    page.click("button[type=submit]")
    verdict = page.wait_for_selector("[data-testid=verdict][data-source=online]", timeout=20000)
    assert verdict.get_attribute("data-result") == "valid"
    page.click("[data-testid=verify-again]")
    page.locator("[data-testid=scanner]").wait_for()


def test_worker_phone_with_a_wrong_clock_still_shows_a_current_code(server, launch) -> None:  # type: ignore[no-untyped-def]
    code = server.code("valid")
    ctx = launch()
    page = ctx.new_page()
    page.clock.install(time=time.time() - 3600)  # the phone's clock is an hour slow
    page.goto(f"{server.base}/enroll?code={code['code']}")
    page.click("[data-testid=enroll-submit]")
    page.wait_for_selector("[data-testid=pass-qr][data-step]", timeout=20000)
    assert "已自动校正" in page.locator("[data-testid=clock-note]").inner_text()
    qr = _decode_png(page.locator("[data-testid=pass-qr]").screenshot())
    assert server.call("/api/verify", {"qr": qr})[1]["result"] == "valid"


def test_english_switch(server, launch) -> None:  # type: ignore[no-untyped-def]
    page = launch().new_page()
    page.goto(server.base + "/")
    page.click(".bar-lang[aria-label=English]")  # the slim status bar labels it "EN" (issue 11)
    page.wait_for_selector("text=I am a household")
    page.reload()
    page.wait_for_selector("text=I am a household")
    assert page.evaluate("document.documentElement.lang") == "en"


# A new release of the service worker: the same script plus one listener that names itself.
RELEASE_2 = b"""
self.addEventListener("message", (e) => { if (e.data === "release?") e.source.postMessage("release-2"); });
"""
# Which worker controls the page: "release-2", or "old" when no answer comes.
ASK_RELEASE = """new Promise(res => {
  navigator.serviceWorker.addEventListener("message", e => res(e.data));
  navigator.serviceWorker.controller.postMessage("release?");
  setTimeout(() => res("old"), 1500);
})"""


def test_a_new_version_waits_for_the_person_then_takes_over(server, launch) -> None:  # type: ignore[no-untyped-def]
    """Prompt to update: a new service worker is found, waits, the bar offers 更新, and only a tap swaps it in."""
    page = launch().new_page()
    page.goto(server.base + "/verify")
    controlled(page)
    old = page.evaluate("navigator.serviceWorker.ready.then(r => r.active.scriptURL)")
    sw = Path(server.tmp / "dist" / "sw.js")
    original = sw.read_bytes()
    try:
        sw.write_bytes(original + RELEASE_2)
        page.evaluate("navigator.serviceWorker.ready.then(r => r.update())")
        page.wait_for_selector(".update >> text=有新版本可用", timeout=20000)
        # Still the old worker in charge: nothing changes until the person chooses.
        assert page.evaluate("navigator.serviceWorker.ready.then(r => !!r.waiting)")
        assert page.evaluate(ASK_RELEASE) == "old"
        page.evaluate("window.__before_update = true")
        page.click(".update >> text=更新")
        page.wait_for_function("() => !window.__before_update && !!navigator.serviceWorker.controller", timeout=20000)
        page.wait_for_selector("text=核验上门人员")
        assert page.locator(".update").count() == 0
        state = page.evaluate(
            "navigator.serviceWorker.getRegistration().then(r => [!!r.waiting, r.active.state, r.active.scriptURL])")
        assert state == [False, "activated", old]
        assert page.evaluate(ASK_RELEASE) == "release-2"
    finally:
        sw.write_bytes(original)
