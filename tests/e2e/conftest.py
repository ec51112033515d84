"""Real Chromium (Debian's /usr/bin/chromium, driven by Playwright) against a real server process.

The session builds the PWA with this server's root key pinned, serves it with
`python -m server serve`, and seeds the demo data.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pyotp
import pytest

import crypto
from tests.conftest import DATABASES, PG_HOST, PG_PORT, _pg_create, _pg_drop, _ran
from tests.dbquery import run_sync
from tests.served import ROOT, Served, next_step

ARTEFACTS = Path(os.environ.get("DOORPASS_E2E_ARTEFACTS", ROOT / "test-results" / "e2e"))
"""Every browser test's screenshots: one folder under the repository (gitignored; CI keeps it)."""
CHROMIUM = os.environ.get("DOORPASS_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]

@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (.ci/run installs Debian's chromium)")
    if not (ROOT / "pwa" / "node_modules").is_dir():
        pytest.skip("pwa/node_modules missing (make test installs it)")
    s = Served(tmp_path_factory.mktemp("e2e"), build_pwa=True)
    yield s
    s.stop()


@pytest.fixture(scope="module", params=DATABASES)
def any_db_server(request: pytest.FixtureRequest, server, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The browser tests' server on each database in turn: the session's SQLite one, then one on a fresh
    PostgreSQL database (its own keys, so its own PWA build)."""
    _ran.add(request.param)
    if request.param == "sqlite":
        yield server
        return
    name = f"doorpass_e2e_{uuid.uuid4().hex[:10]}"
    run_sync(_pg_create(name))
    try:
        s = Served(tmp_path_factory.mktemp("e2e-pg"), f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}",
                   build_pwa=True)
        yield s
        s.stop()
    finally:
        run_sync(_pg_drop(name))


@pytest.fixture(scope="module")
def playwright_instance():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture
def launch(playwright_instance, tmp_path):  # type: ignore[no-untyped-def]
    """Chromium with a fresh (non-incognito) profile, as a phone's browser; optionally a fake camera fed from a Y4M file."""
    contexts = []

    def _launch(camera: Path | None = None):  # type: ignore[no-untyped-def]
        args = list(FLAGS)
        if camera is not None:
            args += ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                     f"--use-file-for-fake-video-capture={camera}"]
        ctx = playwright_instance.chromium.launch_persistent_context(
            str(tmp_path / f"profile-{len(contexts)}"), executable_path=CHROMIUM, args=args, headless=True,
            viewport={"width": 360, "height": 740}, device_scale_factor=2, locale="zh-CN", timezone_id="Asia/Shanghai",
            permissions=["camera"] if camera else [],
        )
        contexts.append(ctx)
        return ctx

    yield _launch
    for ctx in contexts:
        ctx.close()


def controlled(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the service worker controls the page (reloading once after its first install)."""
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("!!navigator.serviceWorker.controller"):
        page.reload()
    page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=15000)


def lists_loaded(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function("() => document.querySelector('[data-testid=lists-age]')?.textContent.includes('更新于')", timeout=15000)


def enroll_in_browser(page, base: str, code: str) -> None:  # type: ignore[no-untyped-def]
    """Open the activation link, let the service worker take over, enroll, and wait for the live pass."""
    page.goto(f"{base}/enroll?code={code}")
    controlled(page)
    page.click("[data-testid=enroll-submit]")
    page.wait_for_selector("[data-testid=pass-qr][data-step]", timeout=20000)


def first_visit(page, url: str) -> None:  # type: ignore[no-untyped-def]
    """A phone's first, online visit: the service worker takes over and the lists are on the phone."""
    page.goto(url)
    controlled(page)
    lists_loaded(page)


def device_id(page) -> str:  # type: ignore[no-untyped-def]
    """This phone's device id (IndexedDB `kv`), derived from its device key (docs/devices.md)."""
    return page.evaluate("""new Promise(res => { const o = indexedDB.open('doorpass'); o.onsuccess = () => {
      const q = o.result.transaction('kv').objectStore('kv').get('device_id'); q.onsuccess = () => res(q.result); }; })""")


_last_step = [0]


def _fresh_code(secret: str) -> str:
    """An authenticator code of a 30 s step not used before by these tests (`next_step`)."""
    _last_step[0] = next_step(_last_step[0])
    return pyotp.TOTP(secret).at(_last_step[0] * 30)


def _me(server, cookie: str) -> dict | None:  # type: ignore[no-untyped-def]
    """What /api/auth/me says of a session cookie; None when the session is over (signed out, expired)."""
    req = urllib.request.Request(server.base + "/api/auth/me", headers={"cookie": f"dp_session={cookie}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError:
        return None


OUTLET_PASSWORD = "outlet-phone-password-1"


def outlet_staff(server) -> dict:  # type: ignore[no-untyped-def]
    """A new signed-in session of the demo outlet staff account, ready to work (its own password and two factors set
    up, as the account page does), without a seed-demo run when it can: a run re-issues the demo passes not yet bound
    and revokes the others, and ends the demo accounts' sessions (a phone's tie to the outlet stays). The first
    session of a seed run changes the handed-out password and sets up two factors; later ones sign in with both.
    Answers the session `cookie` value, `csrf`, and `me` (with `outlet_id`, `outlet_name`)."""
    held = getattr(server, "_outlet_staff", None)
    for attempt in range(2):
        if attempt:  # the account was locked (a test of wrong passwords) or changed elsewhere: start afresh
            server.seeds.append(json.loads(server.cli("seed-demo", "--base-url", server.base)))
            held = None
        account = next(a for a in server.seeds[-1]["accounts"] if a["role"] == "outlet_staff")
        if held is not None and held[0] == len(server.seeds) and held[2] is not None:
            # The session an earlier test signed in is reused while it lasts (every sign-in spends an authenticator
            # step, and the steps run out every 30 s); a test that signed it out gets a new one.
            me = _me(server, held[2]["cookie"])
            if me is not None and me.get("role") == "outlet_staff":
                return {**held[2], "csrf": me["csrf_token"], "me": me}
        if held is not None and held[0] == len(server.seeds):
            st, me, cookie = server._post_json("/api/auth/sign-in", {"username": account["username"], "password": OUTLET_PASSWORD,
                                                                     "otp": _fresh_code(held[1])}, {})
            if st != 200:
                continue
            staff = {"cookie": cookie.split("=", 1)[1], "csrf": me["csrf_token"], "me": me, "username": account["username"]}
            server._outlet_staff = (held[0], held[1], staff)
            return staff
        st, me, cookie = server._post_json("/api/auth/sign-in", {"username": account["username"], "password": account["password"]}, {})
        if st != 200:
            continue
        headers = {"cookie": cookie, "x-csrf-token": me["csrf_token"]}
        st, ok, _ = server._post_json("/api/auth/password", {"current_password": account["password"],
                                                             "new_password": OUTLET_PASSWORD}, headers)
        assert st == 200, ok
        st, setup, _ = server._post_json("/api/auth/totp/setup", {}, headers)
        assert st == 200, setup
        st, codes, _ = server._post_json("/api/auth/totp/confirm", {"code": _fresh_code(setup["secret"])}, headers)
        assert st == 200, codes
        assert me["role"] == "outlet_staff" and me["outlet_id"], me
        staff = {"cookie": cookie.split("=", 1)[1], "csrf": me["csrf_token"], "me": me, "username": account["username"]}
        server._outlet_staff = (len(server.seeds), setup["secret"], staff)
        return staff
    raise AssertionError(f"the demo outlet staff account does not sign in: {me}")


def sign_in_outlet_phone(ctx, server, staff: dict) -> None:  # type: ignore[no-untyped-def]
    """The outlet staff's session on this phone's browser (as if signed in on it: the HttpOnly cookie)."""
    ctx.add_cookies([{"name": "dp_session", "value": staff["cookie"], "url": server.base, "httpOnly": True, "sameSite": "Strict"}])


def tie_outlet_phone(page, server, staff: dict) -> None:  # type: ignore[no-untyped-def]
    """Sign the outlet staff in on this phone and open the outlet view online: the phone ties itself to the outlet
    and shows its name."""
    sign_in_outlet_phone(page.context, server, staff)
    page.goto(server.base + "/outlet")
    try:
        page.wait_for_selector("[data-testid=outlet-name], [data-testid=outlet-tie-error]", timeout=20000)
    except Exception as e:
        raise AssertionError(page.inner_text("body")) from e
    assert page.locator("[data-testid=outlet-tie-error]").count() == 0, page.inner_text("main")
    assert staff["me"]["outlet_name"] in page.inner_text("[data-testid=outlet-name]")


def visit_code(serial: int, at: int | None = None, household_priv: bytes | None = None) -> str:
    """A household's DPV2 visit code for pass `serial` (docs/devices.md), signed by a household device key."""
    from server.domain.records import visitcode

    return visitcode.make(household_priv or crypto.new_signing_key(), str(uuid.uuid4()),
                          crypto.b64u_encode(os.urandom(16)), serial, int(time.time()) if at is None else at)


def artefact(name: str) -> Path:
    """Where a screenshot named `name` (without .png) is kept."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS / f"{name}.png"


# Every visible button-like target of the page outside the status bar: its text, how many lines its words take (the
# most distinct line tops of any one of its text nodes: a label and a state pill side by side are one line each) and
# its content height against the line height (which counts every line, however the words are split into nodes).
BUTTONS = """() => [...document.querySelectorAll('button, a.button, label.button, label.big')]
  .filter(e => e.offsetParent !== null && !e.closest('.bar') && !e.classList.contains('qr-tap') && e.textContent.trim())
  .map(e => { const cs = getComputedStyle(e); let lines = 0;
    const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      if (!n.textContent.trim()) continue;
      const r = document.createRange(); r.selectNodeContents(n);
      const tops = [...r.getClientRects()].filter(x => x.width > 1 && x.height > 1).map(x => x.top).sort((a, b) => a - b);
      let k = 0, last = -1e9; for (const t of tops) { if (t - last > 3) { k++; last = t; } }
      lines = Math.max(lines, k); }
    const lh = parseFloat(cs.lineHeight) || 1.2 * parseFloat(cs.fontSize);
    const inner = e.getBoundingClientRect().height - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom)
      - parseFloat(cs.borderTopWidth) - parseFloat(cs.borderBottomWidth);
    return { text: e.textContent.trim().slice(0, 40), lines, ratio: inner / lh, height: e.getBoundingClientRect().height }; })"""


def buttons_fit(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """Assert that every button's words take one or two lines (never three or one word a line) and that nothing runs
    off the side of the page; answers what was measured."""
    found = page.evaluate(BUTTONS)
    tall = [b for b in found if b["lines"] > 2 or b["ratio"] >= 2.5]
    assert not tall, tall
    width = page.viewport_size["width"]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    return found  # type: ignore[no-any-return]


def set_lang(page, lang: str) -> None:  # type: ignore[no-untyped-def]
    """Switch the page's language the way a person does (the bar's language button), without a reload."""
    current = page.evaluate("() => localStorage.getItem('lang') || 'zh-CN'")
    if current != lang:
        page.click(".bar-lang")
        page.wait_for_function(f"() => document.documentElement.lang === '{lang}'")


def looks(page, side: str, status: str, *, widths: tuple[int, ...] = (360, 1280), top: bool = True) -> list[Path]:  # type: ignore[no-untyped-def]
    """Screenshots of one screen in zh-CN and English at each width (360 × 740 as a phone, 1280 × 800 as a desktop),
    named door-<side>-<status>-<lang>-<width>.png; at each, the buttons fit (`buttons_fit`). Leaves the page as it
    found it (its language, 360 × 740)."""
    was = page.evaluate("() => localStorage.getItem('lang') || 'zh-CN'")
    shots = []
    for lang in ("zh-CN", "en"):
        set_lang(page, lang)
        for width in widths:
            page.set_viewport_size({"width": width, "height": 740 if width <= 480 else 800})
            if top:
                page.evaluate("() => window.scrollTo(0, 0)")
            page.wait_for_timeout(100)
            buttons_fit(page)
            path = artefact(f"door-{side}-{status}-{'zh' if lang == 'zh-CN' else 'en'}-{width}")
            page.screenshot(path=str(path))
            shots.append(path)
    page.set_viewport_size({"width": 360, "height": 740})
    set_lang(page, was)
    return shots
