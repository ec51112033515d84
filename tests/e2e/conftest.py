"""Real Chromium (Debian's /usr/bin/chromium, driven by Playwright) against a real server process.

The session builds the PWA with this server's root key pinned, serves it with
`python -m server serve`, and seeds the demo data.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import crypto
from tests.conftest import ROOT

CHROMIUM = os.environ.get("DOORPASS_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(items):  # type: ignore[no-untyped-def]
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, base: str, token: str, codes: list[dict]) -> None:
        self.base, self.token, self.codes = base, token, codes

    def call(self, path: str, body: dict | None = None, admin: bool = False) -> tuple[int, dict]:
        headers = {"content-type": "application/json"}
        if admin:
            headers["authorization"] = f"Bearer {self.token}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method="GET" if body is None else "POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def code(self, status: str) -> dict:
        """A fresh one-time activation code for a demo worker whose pass reads `status`."""
        out = subprocess.run([sys.executable, "-m", "server", "seed-demo", "--base-url", self.base], env=self.env,
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return next(c for c in json.loads(out.stdout)["activation_codes"] if c["expected_status"] == status)

    def phone(self, status: str = "valid") -> "Phone":
        """A worker's phone enrolled from Python (for household tests)."""
        priv = crypto.new_signing_key()
        code = self.code(status)
        st, body = self.call("/api/enroll", {"code": code["code"], "device_pub": crypto.b64u_encode(crypto.public_key(priv))})
        assert st == 200, body
        return Phone(priv, body["serial"], crypto.b64u_decode(body["cred"]), crypto.b64u_decode(body["issuer_sig"]), body["secret"])


class Phone:
    def __init__(self, priv: bytes, serial: int, cred: bytes, sig: bytes, secret: str) -> None:
        self.priv, self.serial, self.cred, self.sig, self.secret = priv, serial, cred, sig, secret

    def live(self, at: int | None = None) -> str:
        return crypto.make_live_qr(self.cred, self.sig, self.secret, self.priv, int(time.time()) if at is None else at)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (.ci/run installs Debian's chromium)")
    if not (ROOT / "pwa" / "node_modules").is_dir():
        pytest.skip("pwa/node_modules missing (make test installs it)")
    tmp = tmp_path_factory.mktemp("e2e")
    port = _free_port()
    env = {**os.environ, "DOORPASS_VAR": str(tmp / "var"), "DOORPASS_PORT": str(port),
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'var' / 'doorpass.db'}", "DOORPASS_PWA_DIST": str(tmp / "dist")}
    env.pop("DOORPASS_ADMIN_TOKEN", None)
    run = lambda *a: subprocess.run([sys.executable, "-m", "server", *a], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)  # noqa: E731
    root = run("root-pub")
    assert root.returncode == 0, root.stderr
    build = subprocess.run(["npx", "vite", "build", "--outDir", str(tmp / "dist"), "--emptyOutDir", "--logLevel", "warn"],
                           cwd=ROOT / "pwa", env={**env, "DOORPASS_ROOT_PUB": root.stdout.strip()},
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    base = f"http://127.0.0.1:{port}"
    seeded = run("seed-demo", "--base-url", base)
    assert seeded.returncode == 0, seeded.stderr
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "server", "serve"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/api/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    s = Server(base, (tmp / "var" / "admin.token").read_text().strip(), json.loads(seeded.stdout)["activation_codes"])
    s.env = env  # type: ignore[attr-defined]
    s.tmp = tmp  # type: ignore[attr-defined]
    yield s
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
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
            viewport={"width": 360, "height": 740}, device_scale_factor=2, locale="zh-CN",
            permissions=["camera"] if camera else [],
        )
        contexts.append(ctx)
        return ctx

    yield _launch
    for ctx in contexts:
        ctx.close()


def controlled(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the service worker controls the page (reloading once after its first install)."""
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("!!navigator.serviceWorker.controller"):
        page.reload()
    page.wait_for_function("!!navigator.serviceWorker.controller", timeout=15000)


def lists_loaded(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function("document.querySelector('[data-testid=lists-age]')?.textContent.includes('更新于')", timeout=15000)
