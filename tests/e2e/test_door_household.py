"""The household's verdict at the door (issue 11): every status has its own screen at 360 × 740, the facts that decide
are above the fold, sound and vibration differ for valid and not valid, a second review of one visit is refused on the
phone, the typed pass number gets the visit code, and 关怀模式 makes text and targets large.

Screenshots go to test-results/e2e/ (conftest.ARTEFACTS): door-household-<case>.png, and for every status the verdict
in zh-CN and English at 360 and 1280 px wide, door-household-<status>-<lang>-<width>.png.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import segno

import crypto
from tests.e2e.conftest import artefact, first_visit, looks, set_lang
from tests.records import VERSIONS, Device, uuid7
from tests.served import Phone

W, H = 360, 740

# Records what the page asks of the vibrator and the speaker (WebAudio oscillators), before any of its own code runs.
RECORD_FEEDBACK = """
window.__vib = [];
navigator.vibrate = (p) => { window.__vib.push(Array.isArray(p) ? p : [p]); return true; };
window.__tones = [];
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...a) { window.__tones.push(this.type + ':' + this.frequency.value); return start.apply(this, a); };
"""


@pytest.fixture(scope="module")
def phones(server) -> dict[str, Phone]:  # type: ignore[no-untyped-def]
    """Worker phones of one seed-demo run (a later run re-issues the demo passes): valid, caution, red, and a valid
    one then revoked by the regulator."""
    server.codes("valid", 2)
    seed = server.seeds[-1]["activation_codes"]
    pick = lambda status, i=0: [c for c in seed if c["expected_status"] == status][i]  # noqa: E731
    out = {s: server.phone(code=pick(s)) for s in ("valid", "caution", "red")}
    out["revoked"] = server.phone(code=pick("valid", 1))
    status, body = server.call(f"/api/admin/passes/{out['revoked'].serial}/revoke", {"reason": "已离职"}, admin=True)
    assert status == 200, body
    return out


def unknown_issuer_frame(phone: Phone) -> str:
    """The phone's pass re-signed by an issuer key no trust list knows: well formed, from nobody we trust."""
    cred = crypto.decode_cred(phone.cred)
    forged = crypto.encode_cred(crypto.Credential(**{f: getattr(cred, f) for f in cred.__struct_fields__} | {"kid": "nobody-01"}))
    return crypto.make_live_qr(forged, crypto.sign_cred(crypto.new_signing_key(), forged), phone.secret, phone.priv, int(time.time()))


def qr_png(tmp_path: Path, text: str) -> str:
    path = tmp_path / f"qr-{abs(hash(text))}.png"
    segno.make(text, error="m", boost_error=False).save(str(path), scale=5, border=4)
    return str(path)


def household(server, launch):  # type: ignore[no-untyped-def]
    ctx = launch()
    ctx.add_init_script(RECORD_FEEDBACK)
    page = ctx.new_page()
    first_visit(page, server.base + "/verify")
    return ctx, page


def scan_photo(page, tmp_path: Path, text: str, *, online: bool = True):  # type: ignore[no-untyped-def]
    page.set_input_files("[data-testid=pick-photo]", qr_png(tmp_path, text))
    sel = "[data-testid=verdict][data-source=online]" if online else "[data-testid=verdict]"
    return page.wait_for_selector(sel, timeout=20000)


def in_fold(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    loc = page.locator(selector).first
    loc.wait_for(state="visible", timeout=10000)
    box = loc.bounding_box()
    assert box is not None, selector
    assert box["y"] >= 0 and box["y"] + box["height"] <= H, f"{selector} is not above the fold: {box}"
    assert box["x"] >= 0 and box["x"] + box["width"] <= W, f"{selector} is cut off at the side: {box}"


def shot(page, name: str, *, top: bool = True) -> None:  # type: ignore[no-untyped-def]
    if top:
        page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(artefact(f"door-household-{name}")))


def background(page) -> str:  # type: ignore[no-untyped-def]
    return page.evaluate("() => getComputedStyle(document.querySelector('[data-testid=verdict]')).backgroundColor")


GREY = "rgb(74, 74, 74)"  # the old colour of every "not a status" screen


@pytest.mark.parametrize("case", ["valid", "caution", "red", "revoked", "revoked-offline", "stale", "unknown_issuer", "malformed",
                                  "red-en", "revoked-en"])
def test_every_household_status_has_its_own_screen(server, launch, tmp_path, phones, case) -> None:  # type: ignore[no-untyped-def]
    ctx, page = household(server, launch)
    now = int(time.time())
    text = {
        "valid": lambda: phones["valid"].live(now), "caution": lambda: phones["caution"].live(now),
        "red": lambda: phones["red"].live(now), "revoked": lambda: phones["revoked"].live(now),
        "revoked-offline": lambda: phones["revoked"].live(now), "red-en": lambda: phones["red"].live(now),
        "revoked-en": lambda: phones["revoked"].live(now), "stale": lambda: phones["valid"].live(now - 180),
        "unknown_issuer": lambda: unknown_issuer_frame(phones["valid"]), "malformed": lambda: "https://example.com/hello",
    }[case]()
    online = case != "revoked-offline"
    english = case.endswith("-en")
    if english:
        page.evaluate("() => localStorage.setItem('lang', 'en')")
        page.reload()
        page.wait_for_selector("text=Check who is at the door")
    if not online:
        ctx.set_offline(True)
    v = scan_photo(page, tmp_path, text, online=online)
    result = case.removesuffix("-offline").removesuffix("-en")
    assert v.get_attribute("data-result") == result, page.inner_text("body")
    head = page.locator("[data-testid=verdict-headline]").inner_text()
    door = page.locator("[data-testid=verdict-door]").inner_text()
    assert head in page.locator("[data-testid=verdict-live]").inner_text()  # announced to screen readers
    in_fold(page, "[data-testid=verdict-headline]")
    in_fold(page, "[data-testid=verdict-door]")
    if result == "valid":
        page.wait_for_selector("[data-testid=verdict-photo]", timeout=10000)
    shot(page, case)
    if not english:  # the verdict in zh-CN and English at 360 and 1280 px: every button on one or two lines
        if result == "valid":
            page.wait_for_selector("[data-testid=visit-qr][data-ready]")
        looks(page, "household", case)
    colour = v.get_attribute("data-colour")
    calm = page.locator("[data-testid=verdict-holder]:not(.warn)")
    feel = "ok" if result == "valid" else "caution" if result == "caution" else "alarm"
    if english:  # the same screen in English: the words that decide, above the fold
        assert door == {"red": "Be careful: better not open yet", "revoked": "Do not open the door"}[result]
        assert colour == {"red": "red", "revoked": "alarm"}[result]
        in_fold(page, "[data-testid=report]")
        in_fold(page, "[data-testid=hotline]")
        assert "Call hotline 12345" in page.locator("[data-testid=hotline]").inner_text()
    elif result == "valid":
        assert (colour, head, door) == ("green", "有效", "可以开门")
        page.wait_for_selector("[data-testid=verdict-photo]", timeout=10000)
        for key in ("verdict-photo", "verdict-name", "verdict-agency", "verdict-agency-phone", "verdict-serial"):
            in_fold(page, f"[data-testid={key}]")
        assert page.locator("[data-testid=verdict-serial]").inner_text() == str(phones["valid"].serial)
        assert page.locator("[data-testid=verdict-agency-phone]").get_attribute("href").startswith("tel:0")
        assert "有效" in page.locator("[data-testid=verdict-health]").inner_text()
        assert "培训" in page.locator("[data-testid=verdict-training]").inner_text()
        assert page.locator("[data-testid=verdict-rating]").inner_text() == "暂无确认上门后的评价"
        page.wait_for_selector("[data-testid=visit-qr][data-ready]")
        assert page.locator("[data-testid=report]").count() == 0
    elif result == "caution":
        assert colour == "yellow" and background(page) == "rgb(245, 196, 0)"
        assert "健康体检" in page.locator("[data-testid=verdict-reason]").inner_text()
        for lang in ("zh-CN", "en"):  # what it means, the reason and what to do, whole, above the fold in both languages
            set_lang(page, lang)
            page.evaluate("() => window.scrollTo(0, 0)")
            for key in ("verdict-explain", "verdict-reason", "verdict-todo", "verdict-name"):
                in_fold(page, f"[data-testid={key}]")
            # the agency's reason in the language on screen, switched with it
            reason = page.locator("[data-testid=verdict-reason]").inner_text()
            assert ("Health check" in reason) if lang == "en" else ("健康体检" in reason), reason
        set_lang(page, "zh-CN")
        page.wait_for_selector("[data-testid=visit-qr][data-ready]")
    elif result == "red":
        assert colour == "red" and "不要开门" in door
        assert calm.count() == 0 and page.locator("[data-testid=verdict-holder].warn").count() == 1
        for key in ("verdict-reason", "report", "hotline"):
            in_fold(page, f"[data-testid={key}]")
        assert "投诉" in page.locator("[data-testid=verdict-reason]").inner_text()
        assert page.locator("[data-testid=verdict-agency-phone]").get_attribute("href").startswith("tel:0")
        # The visit code only after a clear warning, and a tap that says the risk is understood.
        assert page.locator("[data-testid=visit-qr]").count() == 0
        assert "红码" in page.locator("[data-testid=red-visit]").inner_text()
        page.click("[data-testid=red-visit-open]")
        page.wait_for_selector("[data-testid=visit-qr][data-ready]")
        page.evaluate("() => window.scrollTo(0, 0)")
    elif result == "revoked":
        assert colour == "alarm" and door == "请勿开门" and background(page) not in (GREY, "rgba(0, 0, 0, 0)")
        for key in ("hotline", "report", "verdict-agency-phone", "verdict-name"):
            in_fold(page, f"[data-testid={key}]")
        assert page.locator("[data-testid=hotline]").get_attribute("href") == "tel:12345"
        assert calm.count() == 0 and page.locator("[data-testid=visit-qr]").count() == 0
        assert "12345" in page.locator("[data-testid=hotline]").inner_text()
        # one tap opens the complaint, about the person's identity
        page.click("[data-testid=report]")
        assert page.locator("[data-testid=complaint-form] select").input_value() == "identity"
        page.evaluate("() => window.scrollTo(0, 0)")
    elif result == "stale":
        assert colour == "ask" and door == "请对方出示实时二维码" and background(page) != GREY
        assert "截图" in page.locator("[data-testid=verdict-explain]").inner_text()
        in_fold(page, "[data-testid=verdict-todo]")
        in_fold(page, "[data-testid=verify-again]")
        assert page.locator("[data-testid=verdict-holder]").count() == 0 and page.locator("[data-testid=visit-qr]").count() == 0
    elif result == "unknown_issuer":
        assert colour == "red" and "假证" in door
        in_fold(page, "[data-testid=hotline]")
        assert page.locator("[data-testid=verdict-holder]").count() == 0 and page.locator("[data-testid=visit-qr]").count() == 0
    elif result == "malformed":
        assert door == "这不是安心上门证的二维码" and page.locator("[data-testid=verdict-holder]").count() == 0
        in_fold(page, "[data-testid=verdict-todo]")
    # Sound and vibration: one for "open", another for the rest.
    page.wait_for_function("() => window.__vib.length > 0")
    assert v.get_attribute("data-feedback") == feel
    vib = page.evaluate("() => window.__vib[0]")
    assert vib == {"ok": [120], "caution": [200, 120, 200], "alarm": [500, 150, 500, 150, 500]}[feel]
    tones = page.evaluate("() => window.__tones")
    assert tones and all(x.startswith({"ok": "sine", "caution": "triangle", "alarm": "square"}[feel]) for x in tones), tones
    # 200 % text: nothing runs off the side, the headline still first.
    page.evaluate("() => { document.documentElement.style.fontSize = '36px'; }")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= W
    in_fold(page, "[data-testid=verdict-headline]")
    shot(page, f"{case}-200pct")


def test_a_second_review_of_one_visit_is_refused_on_the_phone(server, launch, tmp_path, phones) -> None:  # type: ignore[no-untyped-def]
    ctx, page = household(server, launch)
    ctx.set_offline(True)
    frame = phones["valid"].live()
    scan_photo(page, tmp_path, frame, online=False)
    page.click("[data-testid=write-review]")
    page.click("[data-testid=star-4]")
    page.click("[data-testid=review-submit]")
    page.wait_for_selector("[data-testid=saved-toast]")
    # The same visit again: refused at once, no form, a clear reason.
    page.click("[data-testid=write-review]")
    refused = page.locator("[data-testid=dup-refused]")
    assert "已经在本机写过评价" in refused.inner_text(timeout=5000)
    assert page.locator("[data-testid=review-form]").count() == 0
    # The same shown code scanned again (a new visit id, the same frame): the server would refuse it too.
    page.goto(server.base + "/verify")
    scan_photo(page, tmp_path, frame, online=False)
    page.click("[data-testid=write-review]")
    assert "已经在本机写过评价" in page.locator("[data-testid=dup-refused]").inner_text(timeout=5000)
    # A complaint about the same visit is still one the server takes; a second one is not.
    page.click("[data-testid=write-complaint]")
    page.fill("[data-testid=complaint-form] textarea", "迟到一小时")
    page.click("[data-testid=complaint-submit]")
    page.wait_for_selector("[data-testid=saved-toast]")
    page.click("[data-testid=write-complaint]")
    assert "已经在本机投诉过" in page.locator("[data-testid=dup-refused]").inner_text(timeout=5000)
    kinds = page.evaluate("""() => new Promise(res => { const o = indexedDB.open('doorpass'); o.onsuccess = () => {
      const q = o.result.transaction('outbox').objectStore('outbox').getAll(); q.onsuccess = () => res(q.result.map(r => r.kind)); }; })""")
    assert sorted(kinds) == ["complaint", "review"], kinds
    page.locator("[data-testid=dup-refused]").scroll_into_view_if_needed()
    shot(page, "duplicate-refused", top=False)


def test_typed_pass_number_gets_photo_and_visit_code(server, launch, phones) -> None:  # type: ignore[no-untyped-def]
    ctx, page = household(server, launch)
    phone = phones["caution"]
    looks(page, "household", "verify-entry")
    page.click("text=输入证号和动态码")
    looks(page, "household", "verify-typed")
    page.fill("input[inputmode=numeric] >> nth=0", str(phone.serial))
    page.fill("input[inputmode=numeric] >> nth=1", f"{crypto.totp_code(phone.secret, int(time.time()) // 30):06d}")
    page.click("button[type=submit]")
    v = page.wait_for_selector("[data-testid=verdict][data-source=online]", timeout=20000)
    assert v.get_attribute("data-result") == "caution"
    page.wait_for_selector("[data-testid=verdict-photo]", timeout=10000)
    assert "照片需联网查看" not in page.inner_text("body")
    page.wait_for_selector("[data-testid=visit-qr][data-ready]")
    # No frame, so nothing the server would take as proof of a visit: said on screen, no review button.
    assert "不能在此写评价" in page.locator("[data-testid=typed-no-review]").inner_text()
    assert page.locator("[data-testid=write-review]").count() == 0
    shot(page, "typed-caution")


def test_care_mode_large_text_large_targets_and_read_aloud(server, launch, tmp_path, phones) -> None:  # type: ignore[no-untyped-def]
    ctx, page = household(server, launch)
    page.goto(server.base + "/")
    switch = page.locator("[data-testid=care-switch]")
    assert switch.get_attribute("aria-checked") == "false"
    assert "care" not in (page.get_attribute("html", "class") or "")
    switch.click()
    assert switch.get_attribute("aria-checked") == "true"
    page.reload()  # kept on the phone, applied to every page
    page.wait_for_selector("[data-testid=care-switch][aria-checked=true]")
    assert "care" in page.get_attribute("html", "class").split()
    size = lambda sel: page.evaluate(f"() => parseFloat(getComputedStyle(document.querySelector('{sel}')).fontSize)")  # noqa: E731
    assert size(".tagline") >= 24 and size(".big span") >= 24
    shot(page, "care-home")
    page.goto(server.base + "/verify")
    page.wait_for_selector("[data-testid=start-scan]")
    assert size("main.verify h1") >= 24

    def small_targets() -> list:  # type: ignore[type-arg]
        return page.evaluate("""() => [...document.querySelectorAll('button, a[href], label.big, input:not([type=file]), select, textarea')]
          .filter(e => e.offsetParent !== null && !e.closest('.bar'))
          .map(e => [e.textContent.trim().slice(0, 20), e.getBoundingClientRect().width, e.getBoundingClientRect().height])
          .filter(([, w, h]) => w < 60 || h < 60)""")

    assert small_targets() == []
    shot(page, "care-verify")
    v = scan_photo(page, tmp_path, phones["valid"].live())
    assert v.get_attribute("data-result") == "valid"
    page.wait_for_selector("[data-testid=visit-qr][data-ready]")
    assert small_targets() == []
    assert size("[data-testid=verdict-source]") >= 24 and size("[data-testid=verdict-agency]") >= 24
    has_voice = page.evaluate("() => speechSynthesis.getVoices().some(v => /^zh[-_](CN|Hans)/i.test(v.lang))")
    if has_voice:
        page.wait_for_selector("[data-testid=read-again]")
    else:  # said plainly on screen when there is no Mandarin voice
        assert "没有中文语音" in page.locator("[data-testid=no-voice]").inner_text(timeout=5000)
    shot(page, "care-valid")
    page.click("[data-testid=write-review]")
    assert small_targets() == []
    # Off again: back to normal sizes.
    page.goto(server.base + "/")
    page.click("[data-testid=care-switch]")
    assert "care" not in (page.get_attribute("html", "class") or "").split()
    assert size(".tagline") < 24


# A Mandarin voice for headless Chromium, which has none: getVoices answers one zh-CN voice, and speak() records what
# it was given (text, language, voice) instead of speaking. Installed before any of the page's own code runs.
FAKE_SPEECH = """
window.__spoken = [];
const zh = { name: 'Fake Mandarin', lang: 'zh-CN', voiceURI: 'fake-zh-CN', localService: true, default: true };
window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; this.lang = ''; this.voice = null;
  this.rate = 1; this.pitch = 1; this.volume = 1; } };
Object.defineProperty(window, 'speechSynthesis', { configurable: true, value: {
  getVoices: () => [zh], speaking: false, pending: false, paused: false,
  speak: (u) => { window.__spoken.push({ text: u.text, lang: u.lang, voice: u.voice && u.voice.name }); },
  cancel() {}, pause() {}, resume() {}, addEventListener() {}, removeEventListener() {} } });
"""


def test_care_mode_reads_the_verdict_aloud_in_mandarin(server, launch, tmp_path, phones) -> None:  # type: ignore[no-untyped-def]
    """With a zh-CN voice (a fake one: headless Chromium has none), 关怀模式 speaks the verdict in Mandarin with the
    verdict's own words, for valid and for revoked, even when the screen is in English; "read again" says it again."""
    ctx = launch()
    ctx.add_init_script(FAKE_SPEECH)
    page = ctx.new_page()
    first_visit(page, server.base + "/")
    page.click("[data-testid=care-switch]")
    page.goto(server.base + "/verify")
    page.wait_for_selector("[data-testid=start-scan]")
    spoken = lambda: page.evaluate("() => window.__spoken")  # noqa: E731

    v = scan_photo(page, tmp_path, phones["valid"].live())
    assert v.get_attribute("data-result") == "valid"
    page.wait_for_function("() => window.__spoken.length > 0")
    page.wait_for_selector("[data-testid=read-again]")
    assert page.locator("[data-testid=no-voice]").count() == 0
    said = spoken()[-1]
    assert said["lang"] == "zh-CN" and said["voice"] == "Fake Mandarin", said
    name = page.locator("[data-testid=verdict-name]").inner_text()
    for words in ("有效", "可以开门", name):
        assert words in said["text"], (words, said)
    assert "请勿开门" not in said["text"]
    n = len(spoken())
    page.click("[data-testid=read-again]")
    page.wait_for_function(f"() => window.__spoken.length > {n}")
    assert spoken()[-1]["text"] == said["text"]
    shot(page, "care-spoken-valid")

    # Revoked, with the screen in English: still read in Mandarin, the alarm's words.
    page.goto(server.base + "/verify")
    page.wait_for_selector("[data-testid=start-scan]")
    set_lang(page, "en")
    n = len(spoken())
    v = scan_photo(page, tmp_path, phones["revoked"].live())
    assert v.get_attribute("data-result") == "revoked"
    page.wait_for_function(f"() => window.__spoken.length > {n}")
    said = spoken()[-1]
    assert said["lang"] == "zh-CN" and said["voice"] == "Fake Mandarin", said
    for words in ("已注销", "请勿开门"):
        assert words in said["text"], (words, said)
    assert "可以开门" not in said["text"] and "Revoked" not in said["text"]
    assert "Do not open the door" in page.locator("[data-testid=verdict-door]").inner_text()  # the screen stays English
    shot(page, "care-spoken-revoked-en")


def _push(base: str, device: Device, records: list[dict]) -> list[dict]:
    """Push signed records from a phone driven from Python (registered first), as the PWA's outbox does."""
    device.register(base)
    body, headers = device.push_request({"device_id": device.id, "records": records, **VERSIONS})
    r = httpx.post(f"{base}/api/sync/push", content=body, headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["receipts"]  # type: ignore[no-any-return]


def test_the_verdict_shows_the_rating_from_confirmed_visits(server, launch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A worker checks in with a household's visit code and that household's review of the visit confirms it; another
    phone's review with no check-in behind it does not count. The household scanning the pass online sees ★★★★☆ 4.0
    from 1 confirmed visit."""
    worker = server.phone("valid")
    now = int(time.time())
    home, stranger = Device(), Device()
    visit = uuid7()
    checkin = {**worker.device.record("checkin", visit_id=visit, serial=worker.serial, service="cleaning",
                                      visit_code=home.visit_code(visit, worker.serial, now)), "at": now}
    assert [r["status"] for r in _push(server.base, worker.device, [checkin])] == ["applied"]
    review = {**home.record("review", frame=worker.live(now), visit_id=visit, stars=4, tags=[], comment="准时"), "at": now}
    unconfirmed = {**stranger.record("review", frame=worker.live(now), stars=1, tags=[], comment="没来过"), "at": now}
    receipts = _push(server.base, home, [review]) + _push(server.base, stranger, [unconfirmed])
    assert [r["status"] for r in receipts] == ["applied", "applied"], receipts
    st, rating = server.call(f"/api/passes/{worker.serial}/rating")
    assert st == 200 and rating["confirmed_count"] == 1 and rating["average"] == 4.0, rating

    ctx, page = household(server, launch)
    v = scan_photo(page, tmp_path, worker.live())
    assert v.get_attribute("data-result") == "valid"
    shown = page.locator("[data-testid=verdict-rating]")
    page.wait_for_function("() => /确认上门/.test(document.querySelector('[data-testid=verdict-rating]')?.textContent ?? '')")
    text = shown.inner_text()
    assert "★★★★☆" in text and "4.0 分" in text and "（1 次确认上门）" in text, text
    assert "2.5" not in text and "2 次" not in text, text
    page.locator("[data-testid=verdict-rating]").scroll_into_view_if_needed()
    shot(page, "rating-confirmed", top=False)
    set_lang(page, "en")
    assert "4.0 (confirmed visits: 1)" in shown.inner_text()
