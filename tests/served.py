"""A real DoorPass server process, as a newcomer would run it: init, seed-demo, (PWA build), serve.

Used by the integration tests, the browser tests and the benchmarks.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

import pyotp

import crypto
from tests.records import Device

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/api/health", timeout=1)
            return True
        except OSError:
            time.sleep(0.1)
    return False


class Phone:
    """A worker's phone driven from Python: its device key and what enrollment gave it."""

    def __init__(self, priv: bytes, serial: int, cred: bytes, sig: bytes, secret: str) -> None:
        self.priv, self.serial, self.cred, self.sig, self.secret = priv, serial, cred, sig, secret
        self.device = Device(priv)
        """The phone as a sync device: its device key is the pass's (docs/devices.md)."""

    def live(self, at: int | None = None) -> str:
        return crypto.make_live_qr(self.cred, self.sig, self.secret, self.priv, int(time.time()) if at is None else at)

    def card(self) -> str:
        return crypto.make_card(self.cred, self.sig)


def next_step(last: int) -> int:
    """The next 30 s authenticator step after `last` whose code the server takes now: it takes one step of drift either
    way, each step once per account, in increasing order. So three codes are at hand at once (the step before, this one
    and the next) before anyone has to wait for the clock; the step before is used only early in this one, well before
    it leaves the window."""
    while True:
        t = time.time()
        now = int(t) // 30
        step = max(now - 1 if t % 30 < 20 else now, last + 1)
        if step <= now + 1:
            return step
        time.sleep(1)


def status_etag(base: str) -> str:
    with urllib.request.urlopen(base + "/api/status", timeout=5) as r:
        return str(r.headers.get("ETag"))


def wait_for_new_status(base: str, before: str, seconds: float = 10) -> None:
    """Until the server at `base` serves a status list other than `before`. A seed-demo run is another process: the
    server sees its re-signed status list within the lists' staleness bound (server/domain/lists/services.py MAX_AGE
    on SQLite); until then a household would read the new passes as revoked."""
    deadline = time.monotonic() + seconds
    while status_etag(base) == before and time.monotonic() < deadline:
        time.sleep(0.1)


class ServerProcess:
    """`python -m server serve` with `env`, answering at `base`: started, started again after a kill or a stop (same
    port, same database), stopped; its output appended to `log_path` across restarts."""

    def __init__(self, env: dict[str, str], base: str, log_path: Path, *, workers: int = 1) -> None:
        self.env, self.base, self.log_path, self.workers = env, base, log_path, workers
        self.proc: subprocess.Popen | None = None
        self._log: IO[str] | None = None

    def start(self) -> None:
        """Start (or restart, after a kill or a stop) the server process on the same port and database."""
        if self._log is None or self._log.closed:
            self._log = open(self.log_path, "a")  # noqa: SIM115  # the process's log while it runs; closed by stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "server", "serve", "--workers", str(self.workers)], env=self.env,
                                     cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)
        if not wait_healthy(self.base):
            self.stop()
            raise RuntimeError(f"the server did not start on {self.base}:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self._log is not None:
            self._log.close()


class Served(ServerProcess):
    """One server process on a free port with its own var/ (and database), seeded with the demo data."""

    def __init__(self, tmp: Path, database_url: str | None = None, *, build_pwa: bool = False, workers: int = 1,
                 env: dict[str, str] | None = None) -> None:
        self.tmp = tmp
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        var = tmp / "var"
        self.database_url = database_url or f"sqlite+aiosqlite:///{var / 'doorpass.db'}"
        self.env = {**os.environ, "DOORPASS_VAR": str(var), "DOORPASS_PORT": str(port),
                    "DATABASE_URL": self.database_url,
                    "DOORPASS_PWA_DIST": str(tmp / "dist")}
        # The browser tests and the benchmarks hammer verify and push from one address.
        self.env.setdefault("DOORPASS_RATE_LIMITS", "off")
        self.env.update(env or {})
        self.env.pop("DOORPASS_MASTER_KEY", None)
        self.root_pub = self.cli("root-pub").strip()
        if build_pwa:
            build = subprocess.run(
                ["npx", "vite", "build", "--outDir", str(tmp / "dist"), "--emptyOutDir", "--logLevel", "warn"],
                cwd=ROOT / "pwa", env={**self.env, "DOORPASS_ROOT_PUB": self.root_pub},
                capture_output=True, text=True, timeout=300,
            )
            assert build.returncode == 0, build.stdout + build.stderr
        self.seeds = [json.loads(self.cli("seed-demo", "--base-url", self.base))]
        self._staff: dict[str, tuple[int, dict[str, str]]] = {}
        self._otp_steps: dict[str, int] = {}
        super().__init__(self.env, self.base, tmp / "server.log", workers=workers)
        self.start()

    def cli(self, *args: str) -> str:
        r = subprocess.run([sys.executable, "-m", "server", *args], env=self.env, cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def staff(self, username: str = "demo-regulator") -> dict[str, str]:
        """Headers of a signed-in session (two factors set up) of a demo account from the latest seed-demo run.
        (Each run gives the demo accounts new passwords and ends their sessions.)"""
        held = self._staff.get(username)
        if held is not None and held[0] == len(self.seeds):
            return held[1]
        account = next(a for a in self.seeds[-1]["accounts"] if a["username"] == username)
        st, me, cookie = self._post_json("/api/auth/sign-in", {"username": username, "password": account["password"]}, {})
        assert st == 200, me
        headers = {"cookie": cookie, "x-csrf-token": me["csrf_token"]}
        st, setup, _ = self._post_json("/api/auth/totp/setup", {}, headers)
        assert st == 200, setup
        step = self._otp_steps[username] = next_step(self._otp_steps.get(username, 0))  # each step once per account
        st, codes, _ = self._post_json("/api/auth/totp/confirm", {"code": pyotp.TOTP(setup["secret"]).at(step * 30)}, headers)
        assert st == 200, codes
        self._staff[username] = (len(self.seeds), headers)
        return headers

    def _post_json(self, path: str, body: object, headers: dict[str, str]) -> tuple[int, dict, str]:
        req = urllib.request.Request(self.base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"content-type": "application/json", **headers})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                cookie = (r.headers.get("set-cookie") or "").split(";")[0]
                return r.status, json.loads(r.read()), cookie
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}"), ""

    def call(self, path: str, body: object = None, admin: bool = False) -> tuple[int, dict]:
        """A request as a phone, or with `admin` as the demo regulator."""
        headers = {"content-type": "application/json"}
        if admin:
            headers.update(self.staff())
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method="GET" if body is None else "POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def codes(self, status: str, n: int) -> list[dict]:
        """Fresh one-time activation codes for `n` different demo workers whose passes read `status`.
        (Each seed-demo run re-issues the demo passes, so codes from one run belong together.)"""
        before = status_etag(self.base)
        seed = json.loads(self.cli("seed-demo", "--base-url", self.base))
        self.seeds.append(seed)
        wait_for_new_status(self.base, before)
        found = [c for c in seed["activation_codes"] if c["expected_status"] == status]
        assert len(found) >= n, found
        return found[:n]

    def code(self, status: str) -> dict:
        """A fresh one-time activation code for a demo worker whose pass reads `status`."""
        return self.codes(status, 1)[0]

    def phone(self, status: str = "valid", code: dict | None = None) -> Phone:
        """A worker's phone enrolled from Python (for household tests)."""
        priv = crypto.new_signing_key()
        code = code or self.code(status)
        st, body = self.call("/api/enroll", {"code": code["code"], "device_pub": crypto.b64u_encode(crypto.public_key(priv))})
        assert st == 200, body
        return Phone(priv, body["serial"], crypto.b64u_decode(body["cred"]), crypto.b64u_decode(body["issuer_sig"]), body["secret"])
