"""The worker's pass at the door (issue 11), in real Chromium at 360 × 740: every status has its own screen, what
matters is above the fold, the QR carries the 安心码 colour and still decodes (zxing-cpp on the rendered canvas).

Screenshots go to test-results/e2e/ (conftest.ARTEFACTS): door-worker-<case>.png, and for every status the screen in
zh-CN and English at 360 and 1280 px wide, door-worker-<status>-<lang>-<width>.png.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
import segno
import zxingcpp
from PIL import Image

from tests.e2e.conftest import artefact, enroll_in_browser, lists_loaded, looks, set_lang, visit_code

W, H = 360, 740
# The module colour each status draws (pwa/src/views/Pass.tsx, QR_DARK), as RGB.
DARK = {"valid": (0x0B, 0x5D, 0x3B), "caution": (0x97, 0x68, 0x00), "red": (0xA4, 0x16, 0x1A)}
KV_PUT = """([k, v]) => new Promise((res, rej) => { const o = indexedDB.open('doorpass'); o.onsuccess = () => {
  const tx = o.result.transaction('kv', 'readwrite'); if (v === null) tx.objectStore('kv').delete(k); else tx.objectStore('kv').put(v, k);
  tx.oncomplete = () => { o.result.close(); res(true); }; tx.onerror = () => rej(tx.error); }; })"""


def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    path = artefact(f"door-worker-{name}")
    page.screenshot(path=str(path))
    return path


def box(page, selector: str) -> dict:  # type: ignore[no-untyped-def]
    b = page.locator(selector).bounding_box()
    assert b is not None, f"{selector} is not on screen"
    return b


def above_fold(page, selector: str) -> dict:  # type: ignore[no-untyped-def]
    b = box(page, selector)
    assert b["x"] >= 0 and b["y"] >= 0 and b["x"] + b["width"] <= W and b["y"] + b["height"] <= H, (selector, b)
    return b


def decode(png: bytes) -> str:
    """The QR read by zxing-cpp from the colour screenshot as it is (zxing makes its own grey)."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("RGB"))
    assert found, "zxing-cpp read no QR from the screenshot"
    return found[0].text


def module_colour(png: bytes) -> tuple[float, float, float]:
    """The mean colour of the dark (module) pixels of a QR screenshot."""
    raw = Image.open(io.BytesIO(png)).convert("RGB").tobytes()
    dark = [p for p in zip(raw[0::3], raw[1::3], raw[2::3], strict=True) if sum(p) < 3 * 170]
    assert len(dark) > 1000, "no dark modules"
    return tuple(sum(p[i] for p in dark) / len(dark) for i in range(3))  # type: ignore[return-value]


def assert_slim_bar(page) -> None:  # type: ignore[no-untyped-def]
    """The status bar is one row: its height is one touch target, every item on the same line, none wrapped."""
    bar = box(page, "header.bar")
    assert bar["height"] <= 56, bar
    tops = page.eval_on_selector_all(".bar-row > *", "els => els.map(e => [e.getBoundingClientRect().top, e.getBoundingClientRect().height, e.getBoundingClientRect().right])")
    assert len(tops) == 5
    assert max(t for t, _, _ in tops) - min(t for t, _, _ in tops) <= 4, tops
    assert all(h <= 52 for _, h, _ in tops) and all(r <= W for _, _, r in tops), tops


def assert_sticky_bar(page) -> None:  # type: ignore[no-untyped-def]
    """The status bar stays at the top, one slim row, while the page scrolls; at the top it covers nothing (the page
    starts below it), and what is scrolled into view lands below it, not under it."""
    page.evaluate("() => window.scrollTo(0, 0)")
    bar = box(page, "header.bar")
    assert bar["y"] == 0, bar
    assert box(page, "main")["y"] >= bar["y"] + bar["height"] - 0.5, (box(page, "main"), bar)
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_timeout(100)
    assert page.evaluate("() => window.scrollY") > 100, "the page is too short to scroll"
    bar = box(page, "header.bar")
    assert abs(bar["y"]) < 0.5 and bar["height"] <= 56, bar
    assert_slim_bar(page)
    assert page.evaluate("() => document.elementFromPoint(180, 20).closest('header.bar') !== null")
    # an element scrolled into view (a link, a screen reader's focus) is not hidden under the bar
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    page.eval_on_selector("[data-testid=passcard]", "e => e.scrollIntoView()")
    page.wait_for_timeout(100)
    assert box(page, "[data-testid=passcard]")["y"] >= box(page, "header.bar")["height"] - 0.5
    page.evaluate("() => window.scrollTo(0, 0)")


def one_line(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    """The element's text sits on one line: all its text boxes share one top."""
    tops = page.eval_on_selector(selector, """e => { const r = document.createRange(); r.selectNodeContents(e);
      return [...new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)))]; }""")
    assert len(tops) == 1, (selector, tops, page.inner_text(selector))


def open_pass(page, server, status: str) -> dict:  # type: ignore[no-untyped-def]
    code = server.code(status)
    enroll_in_browser(page, server.base, code["code"])
    lists_loaded(page)
    page.wait_for_selector(f"main.pass[data-status={status}] [data-testid=pass-qr][data-step]", timeout=20000)
    # the QR drawn in the status colour (a redraw after the lists came sets data-step again)
    page.wait_for_timeout(300)
    return code


@pytest.mark.parametrize("status", ["valid", "caution", "red"])
def test_worker_screen_for_each_colour(server, launch, status: str) -> None:  # type: ignore[no-untyped-def]
    page = launch().new_page()
    assert page.viewport_size == {"width": W, "height": H}
    code = open_pass(page, server, status)
    shot(page, status)  # kept even when an assertion below fails

    # above the fold: the QR (≥ 60 % of the width), the six-digit code and the countdown
    qr = above_fold(page, "[data-testid=pass-qr]")
    assert qr["width"] >= 0.6 * W, qr
    above_fold(page, "[data-testid=pass-code]")
    above_fold(page, "[data-testid=pass-countdown]")
    assert page.locator("[data-testid=pass-code]").inner_text().replace(" ", "").isdigit()
    # who, from whom, what colour: in one glance above the QR
    for sel in ("[data-testid=passcard] .photo", "[data-testid=pass-name]", "[data-testid=pass-agency]", "[data-testid=pass-status]"):
        seen = above_fold(page, sel)
        assert seen["y"] + seen["height"] <= qr["y"], (sel, seen, qr)
    assert page.locator("[data-testid=pass-name]").inner_text() == code["name"]
    assert_slim_bar(page)
    one_line(page, "[data-testid=pass-valid-until]")
    assert page.locator("[data-testid=pass-valid-until]").inner_text().count("-") == 2

    # the rendered canvas carries the colour and still decodes, and the server reads the same status from it
    png = page.locator("[data-testid=pass-qr]").screenshot()
    r, g, b = module_colour(png)
    er, eg, eb = DARK[status]
    assert abs(r - er) < 40 and abs(g - eg) < 40 and abs(b - eb) < 40, ((r, g, b), DARK[status])
    text = decode(png)
    st, answer = server.call("/api/verify", {"qr": text})
    assert st == 200 and answer["result"] == status, answer

    texts = {
        "valid": ("绿码", "请向住户出示此二维码"),
        "caution": ("黄码", "住户会看到黄码提示"),
        "red": ("红码", "住户扫码会看到红码警示"),
    }[status]
    assert texts[0] in page.inner_text("[data-testid=pass-status]")
    assert page.inner_text("[data-testid=pass-show]") == texts[1] or texts[1] in page.inner_text("[data-testid=pass-show]")
    if status == "valid":
        assert page.locator("[data-testid=pass-why]").count() == 0
    else:  # what it means, what to do, where the reason is, whom to call
        why = page.inner_text("[data-testid=pass-why]")
        assert ("联系所属企业" in why) and ("原因" in why), why
    if status == "red":
        assert page.locator("[data-testid=checkin-scan]").count() == 0
    else:  # the check-in sits right below the code and countdown, above the fold
        scan = above_fold(page, "[data-testid=checkin-scan]")
        cd = box(page, "[data-testid=pass-countdown]")
        assert 0 <= scan["y"] - (cd["y"] + cd["height"]) <= 40, (scan, cd)
    looks(page, "worker", status)
    if status != "valid":  # why and what to do, whole, above the fold with the QR, code and countdown, in both languages
        for lang in ("zh-CN", "en"):
            set_lang(page, lang)
            for sel in ("[data-testid=pass-why] h2", "[data-testid=pass-why-do]", "[data-testid=pass-why-reason]",
                        "[data-testid=pass-qr]", "[data-testid=pass-code]", "[data-testid=pass-countdown]"):
                above_fold(page, sel)
        set_lang(page, "zh-CN")

    # tap to enlarge: a full-screen QR that still decodes; tap again to close
    page.click("[data-testid=pass-qr-tap]")
    page.wait_for_selector("[data-testid=pass-qr-big][data-step]")
    big = above_fold(page, "[data-testid=pass-qr-big]")
    assert big["width"] >= 0.85 * W, big
    page.wait_for_timeout(200)
    assert server.call("/api/verify", {"qr": decode(page.locator("[data-testid=pass-qr-big]").screenshot())})[1]["result"] == status
    shot(page, f"{status}-enlarged")
    page.click("[data-testid=pass-qr-overlay]", position={"x": 20, "y": 20})
    page.wait_for_selector("[data-testid=pass-qr-overlay]", state="detached")

    if status == "red":
        # the agency's phone, when the phone holds the agencies' directory
        agency_id = answer["holder"]["agency"]["id"]
        page.evaluate(KV_PUT, ["agency_directory", [{"id": agency_id, "name": answer["holder"]["agency"]["name"], "phone": "021-00000001"}]])
        page.reload()
        page.wait_for_selector("[data-testid=agency-phone]")
        assert page.get_attribute("[data-testid=agency-phone]", "href", timeout=5000).startswith("tel:")


def test_checkout_button_and_dates_stay_on_one_line(server, launch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page = launch().new_page()
    code = open_pass(page, server, "valid")
    visit = tmp_path / "visit.png"
    segno.make(visit_code(code["serial"]), error="m").save(str(visit), scale=8, border=4)
    page.click("[data-testid=checkin-scan]")
    page.set_input_files("[data-testid=scanner-photo]", str(visit))
    page.click("[data-testid=checkin-submit]")
    page.wait_for_selector("[data-testid=checkout]")
    one_line(page, "[data-testid=checkout]")
    assert box(page, "[data-testid=checkout]")["width"] >= 48
    one_line(page, "[data-testid=pass-valid-until]")
    # English too: the bar stays one row
    page.click(".bar-lang")
    page.wait_for_selector("text=Show this QR to the household")
    assert_slim_bar(page)
    one_line(page, "[data-testid=checkout]")
    page.locator("[data-testid=checkout]").scroll_into_view_if_needed()
    shot(page, "valid-en-checkout")
    assert_sticky_bar(page)
    # the details of the bar open on a tap on the network dot
    page.click("[data-testid=net]")
    assert "waiting to send" in page.inner_text("[data-testid=bar-details]")


def test_revoked_worker_sees_no_qr_and_why(server, launch) -> None:  # type: ignore[no-untyped-def]
    page = launch().new_page()
    open_pass(page, server, "valid")
    text = decode(page.locator("[data-testid=pass-qr]").screenshot())
    serial = server.call("/api/verify", {"qr": text})[1]["holder"]["serial"]
    st, body = server.call(f"/api/admin/passes/{serial}/revoke", {"reason": "离职"}, admin=True)
    assert st == 200, body
    # the phone refreshes its lists (as it does on opening or a tap on the lists' age)
    # (a tap while the refresh the page started on opening is still running does nothing: tap again until it lands)
    for _ in range(8):
        page.click("[data-testid=lists-age]")
        try:
            page.wait_for_selector("main.pass[data-status=revoked]", timeout=2500)
            break
        except Exception:  # not yet: tap again
            continue
    page.wait_for_selector("main.pass[data-status=revoked]", timeout=5000)
    assert page.locator("[data-testid=pass-qr]").count() == 0
    assert page.locator("[data-testid=pass-code]").count() == 0
    assert page.locator("[data-testid=checkin-scan]").count() == 0
    assert page.locator("text=请向住户出示此二维码").count() == 0
    msg = above_fold(page, "[data-testid=pass-revoked] h2")
    assert page.inner_text("[data-testid=pass-revoked] h2") == "此上门服务证已注销" and msg["y"] < H / 2
    said = page.inner_text("[data-testid=pass-revoked]")
    assert "原因" in said and "所属企业" in said, said
    assert "已注销" in page.inner_text("[data-testid=pass-status]")
    assert_slim_bar(page)
    shot(page, "revoked")
    looks(page, "worker", "revoked")
    # offline, after a reload: still revoked, still no QR
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("main.pass[data-status=revoked]", timeout=15000)
    assert page.locator("[data-testid=pass-qr]").count() == 0
    page.click(".bar-lang")
    page.wait_for_selector("text=This door-service pass has been revoked")


def test_missing_or_stale_lists_are_said(server, launch) -> None:  # type: ignore[no-untyped-def]
    page = launch().new_page()
    open_pass(page, server, "valid")
    page.context.set_offline(True)
    # lists last fetched three days ago
    page.evaluate(KV_PUT, ["lists_fetched_at", int(time.time()) - 3 * 86400 - 60])
    page.reload()
    page.wait_for_selector("[data-testid=pass-lists-note]", timeout=15000)
    assert "3 天未更新" in page.inner_text("[data-testid=pass-lists-note]")
    above_fold(page, "[data-testid=pass-qr]")
    # no status list at all: the colour is unknown, and the phone says so
    page.evaluate(KV_PUT, ["status", None])
    page.reload()
    page.wait_for_selector("main.pass[data-status=unknown] [data-testid=pass-qr][data-step]", timeout=15000)
    assert "无法显示安心码颜色" in page.inner_text("[data-testid=pass-lists-note]")
    assert "颜色未知" in page.inner_text("[data-testid=pass-status]")
    decode(page.locator("[data-testid=pass-qr]").screenshot())
    shot(page, "no-lists")
