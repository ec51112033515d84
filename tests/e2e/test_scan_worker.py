"""The scanner at the door (issue 11 §scan): the code is read in a Web Worker from the fake camera, offline; the camera
opens ahead of the tap only where the site may already use it; a camera that cannot open says why and what to do,
in zh-CN and English. (Speed is measured by `make bench` — bench/scan.py — never asserted here.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.camera import write_y4m
from tests.e2e.conftest import first_visit

ARTIFACTS = Path(os.environ.get("DOORPASS_E2E_ARTIFACTS", "/tmp/doorpass-e2e-artifacts"))


def _marks(page, name: str) -> list:  # type: ignore[no-untyped-def]
    return page.evaluate("n => performance.getEntriesByName(n).map(e => e.detail ?? e.startTime)", name)


def test_offline_verdict_from_the_camera_is_decoded_in_the_worker(server, launch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    phone = server.phone("valid")
    ctx = launch(write_y4m(tmp_path / "cam.y4m", [phone.live()], frames_each=20))
    page = ctx.new_page()
    first_visit(page, server.base + "/verify")
    ctx.set_offline(True)
    page.reload()
    page.wait_for_selector("[data-testid=start-scan]")
    # camera permission is granted: once the page is idle the camera opens ahead of the tap
    page.wait_for_function("() => performance.getEntriesByName('scan:preopened').length > 0", timeout=15000)
    page.click("[data-testid=start-scan]")
    verdict = page.wait_for_selector("[data-testid=verdict]", timeout=20000)
    assert (verdict.get_attribute("data-result"), verdict.get_attribute("data-source")) == ("valid", "offline")
    # the frame was read by the worker (its replies are marked), the main thread never loaded zxing-wasm itself
    assert len(_marks(page, "scan:worker-decode")) >= 1
    assert len(_marks(page, "scan:decoded")) == 1
    scripts = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
    assert any("decode.worker" in s for s in scripts), scripts
    assert not any("/assets/reader-" in s for s in scripts), scripts
    assert any(w.url.split("/")[-1].startswith("decode.worker") for w in page.workers)


def test_no_camera_opens_ahead_without_permission(server, launch) -> None:  # type: ignore[no-untyped-def]
    ctx = launch()  # no camera permission: nothing may prompt or open before the tap
    page = ctx.new_page()
    first_visit(page, server.base + "/verify")
    page.wait_for_timeout(2500)  # past the idle warm-up
    assert _marks(page, "scan:preopened") == []
    # ... but the decoder's worker is warmed
    assert any(w.url.split("/")[-1].startswith("decode.worker") for w in page.workers)


def test_camera_not_found_says_what_to_do_in_both_languages(server, launch) -> None:  # type: ignore[no-untyped-def]
    ctx = launch()
    ctx.grant_permissions(["camera"])  # allowed, but this "phone" has no camera at all
    page = ctx.new_page()
    first_visit(page, server.base + "/verify")
    page.click("[data-testid=start-scan]")
    err = page.wait_for_selector("[data-testid=camera-error]", timeout=15000)
    assert err.get_attribute("data-error-name") == "NotFoundError"
    text = err.inner_text()
    assert "没有找到可用的摄像头" in text and "从相册选图" in text, text
    assert "Requested device not found" not in page.inner_text("body")
    retry = page.locator("[data-testid=camera-retry]")
    assert retry.inner_text() == "重试"
    box = retry.bounding_box()
    assert box and box["height"] >= 48
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "scan-camera-not-found-zh-360.png"))
    # a retry asks again (and fails the same way, with the same words, not a crash)
    retry.click()
    page.wait_for_selector("[data-testid=camera-error][data-error-name=NotFoundError]", timeout=15000)
    # the same in English
    page.evaluate("() => localStorage.setItem('lang', 'en')")
    page.reload()
    page.click("[data-testid=start-scan]")
    text = page.wait_for_selector("[data-testid=camera-error]", timeout=15000).inner_text()
    assert "No camera was found" in text and "Pick a photo" in text, text
    page.screenshot(path=str(ARTIFACTS / "scan-camera-not-found-en-360.png"))


@pytest.mark.parametrize(("name", "zh", "en"), [
    ("NotAllowedError", "没有获得摄像头权限", "not allowed for this site"),
    ("NotReadableError", "正被其他应用占用", "busy in another app"),
    ("OverconstrainedError", "不支持所需的设置", "does not support the settings"),
    ("SecurityError", "https 安全连接", "secure https connection"),
    ("SomethingNewError", "摄像头打不开", "could not be opened"),
])
def test_each_camera_error_says_what_to_do(server, launch, name, zh, en) -> None:  # type: ignore[no-untyped-def]
    ctx = launch()
    # the phone's browser refuses the camera this way (as a phone whose user said no, or whose camera is busy, would)
    ctx.add_init_script(f"navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('raw english', '{name}'));")
    page = ctx.new_page()
    first_visit(page, server.base + "/verify")
    for lang, words in (("zh-CN", zh), ("en", en)):
        page.evaluate("l => localStorage.setItem('lang', l)", lang)
        page.reload()
        page.click("[data-testid=start-scan]")
        err = page.wait_for_selector("[data-testid=camera-error]", timeout=15000)
        assert err.get_attribute("data-error-name") == name
        assert words in err.inner_text(), err.inner_text()
        assert "raw english" not in page.inner_text("body")
