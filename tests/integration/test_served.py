"""The way a newcomer meets DoorPass: init, seed-demo, serve, then their own script.

Runs the real server process (uvicorn) on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "docs" / "examples" / "try_pass.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(env: dict, *args: str) -> str:
    r = subprocess.run([sys.executable, "-m", "server", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture
def served(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "DOORPASS_VAR": str(tmp_path / "var"), "DOORPASS_PORT": str(port)}
    env.pop("DOORPASS_ADMIN_TOKEN", None)
    env.pop("DOORPASS_MASTER_KEY", None)
    first = json.loads(_run(env, "seed-demo"))
    second = json.loads(_run(env, "seed-demo"))
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "server", "serve"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/api/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise AssertionError((tmp_path / "server.log").read_text())
    try:
        yield {"base": base, "env": env, "first": first, "second": second, "var": tmp_path / "var",
               "log": tmp_path / "server.log"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _script(base: str, code: str, *extra: str) -> tuple[int, dict]:
    r = subprocess.run([sys.executable, str(SCRIPT), "--server", base, "--code", code, *extra],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, json.loads(r.stdout.strip().splitlines()[-1])


def test_newcomer_script_valid_stale_revoked(served) -> None:  # type: ignore[no-untyped-def]
    codes = served["second"]["activation_codes"]
    by_status = {c["expected_status"]: c for c in codes}
    assert set(by_status) == {"valid", "caution", "red", "revoked"}
    # seed-demo is idempotent in its data but hands out fresh one-time codes each run
    first = {c["serial"]: c["code"] for c in served["first"]["activation_codes"]}
    assert all(first.get(c["serial"]) != c["code"] for c in codes)
    assert len(codes) == len(served["first"]["activation_codes"])
    old_code = served["first"]["activation_codes"][0]["code"]

    token = (served["var"] / "admin.token").read_text().strip()
    assert oct((served["var"] / "admin.token").stat().st_mode)[-3:] == "600"
    assert oct((served["var"] / "master.key").stat().st_mode)[-3:] == "600"
    rc, out = _script(served["base"], by_status["valid"]["code"], "--revoke", token)
    assert rc == 0 and out["now"] == "valid" and out["two_minutes_old"] == "stale" and out["after_revoke"] == "revoked", out
    for status in ("caution", "red"):
        rc, out = _script(served["base"], by_status[status]["code"])
        assert out["now"] == status, out
    rc, out = _script(served["base"], by_status["revoked"]["code"])
    assert rc == 1 and out["enroll"]["http_status"] == 409 and out["enroll"]["error"] == "pass_revoked"
    rc, out = _script(served["base"], old_code)  # superseded by the second seed-demo run
    assert rc == 1 and out["enroll"]["http_status"] in (404, 410)

    with urllib.request.urlopen(served["base"] + "/schema/openapi.json") as r:
        spec = json.loads(r.read())
    assert {"/api/enroll", "/api/verify", "/api/trust", "/api/status"} <= set(spec["paths"])
    log = served["log"].read_text()
    assert by_status["valid"]["code"] not in log and token not in log
