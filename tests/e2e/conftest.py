"""Real Chromium (Debian's /usr/bin/chromium, driven by Playwright) against a real server process.

The session builds the PWA with this server's root key pinned, serves it with
`python -m server serve`, and seeds the demo data.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tests.conftest import DATABASES, PG_HOST, PG_PORT, _pg_create, _pg_drop, _ran
from tests.dbquery import run_sync
from tests.served import ROOT, Served

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
