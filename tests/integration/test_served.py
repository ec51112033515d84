"""The way a newcomer meets DoorPass: init, seed-demo, serve, then their own script.

Runs the real server process (uvicorn) on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.served import ROOT, Served

SCRIPT = ROOT / "docs" / "examples" / "try_pass.py"


@pytest.fixture
def served(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    s = Served(tmp_path, database_url)
    s.seeds.append(json.loads(s.cli("seed-demo", "--base-url", s.base)))  # a second run: same data, fresh codes
    yield s
    s.stop()


def _script(base: str, code: str, *extra: str) -> tuple[int, dict]:
    r = subprocess.run([sys.executable, str(SCRIPT), "--server", base, "--code", code, *extra],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, json.loads(r.stdout.strip().splitlines()[-1])


def test_newcomer_script_valid_stale_revoked(served) -> None:  # type: ignore[no-untyped-def]
    first_seed, second_seed = served.seeds
    codes = second_seed["activation_codes"]
    by_status = {c["expected_status"]: c for c in codes}
    assert set(by_status) == {"valid", "caution", "red", "revoked"}
    # seed-demo is idempotent in its data but hands out fresh one-time codes each run
    first = {c["serial"]: c["code"] for c in first_seed["activation_codes"]}
    assert all(first.get(c["serial"]) != c["code"] for c in codes)
    assert len(codes) == len(first_seed["activation_codes"])
    old_code = first_seed["activation_codes"][0]["code"]

    assert not ((served.tmp / "var") / "admin.token").exists()  # no token: staff sign in with two factors
    assert oct(((served.tmp / "var") / "master.key").stat().st_mode)[-3:] == "600"
    assert {a["role"] for a in second_seed["accounts"]} == {"regulator", "agency_admin", "agency_staff", "outlet_staff"}
    first_passwords = {a["username"]: a["password"] for a in first_seed["accounts"]}
    assert all(first_passwords[a["username"]] != a["password"] for a in second_seed["accounts"])  # fresh each run
    regulator = next(a for a in second_seed["accounts"] if a["role"] == "regulator")
    token = regulator["password"]
    rc, out = _script(served.base, by_status["valid"]["code"], "--revoke", f"{regulator['username']}:{token}")
    assert rc == 0 and out["now"] == "valid" and out["two_minutes_old"] == "stale" and out["revoke"] == "revoked", out
    assert out["after_revoke"] == "revoked", out
    for status in ("caution", "red"):
        rc, out = _script(served.base, by_status[status]["code"])
        assert out["now"] == status, out
    rc, out = _script(served.base, by_status["revoked"]["code"])
    assert rc == 1 and out["enroll"]["http_status"] == 409 and out["enroll"]["error"] == "pass_revoked"
    rc, out = _script(served.base, old_code)  # superseded by the second seed-demo run
    assert rc == 1 and out["enroll"]["http_status"] in (404, 410)

    with urllib.request.urlopen(served.base + "/schema/openapi.json") as r:
        spec = json.loads(r.read())
    assert {"/api/enroll", "/api/verify", "/api/trust", "/api/status"} <= set(spec["paths"])
    log = served.log_path.read_text()
    assert by_status["valid"]["code"] not in log and token not in log


def test_serve_prints_the_address_it_serves_on(served) -> None:  # type: ignore[no-untyped-def]
    """`make run` ends in `python -m server serve`: the address it prints is the one that answers (DOORPASS_PORT)."""
    printed = served.log_path.read_text().splitlines()[0]
    assert printed.startswith(f"DoorPass on {served.base} "), printed
    assert served.base != "http://127.0.0.1:8000"  # a free port from the env, not the default
    with urllib.request.urlopen(printed.split()[2] + "/api/health") as r:
        assert json.loads(r.read()) == {"ok": True}


def test_create_regulator_bootstraps_the_first_account(served) -> None:  # type: ignore[no-untyped-def]
    made = json.loads(served.cli("create-regulator", "city.regulator", "--name", "市商务委"))
    assert made["role"] == "regulator" and len(made["initial_password"]) >= 16
    req = urllib.request.Request(served.base + "/api/auth/sign-in", method="POST", headers={"content-type": "application/json"},
                                 data=json.dumps({"username": "city.regulator", "password": made["initial_password"]}).encode())
    with urllib.request.urlopen(req) as r:
        me = json.loads(r.read())
    assert me["role"] == "regulator" and me["must_change_password"] and not me["totp_enabled"]
    bad = subprocess.run([sys.executable, "-m", "server", "create-regulator", "Not Valid!"], env=served.env, cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "user name" in bad.stderr and "Traceback" not in bad.stderr
    taken = subprocess.run([sys.executable, "-m", "server", "create-regulator", "demo-a1-admin"], env=served.env, cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert taken.returncode == 2 and "another role" in taken.stderr
    assert made["initial_password"] not in served.log_path.read_text()
