"""`python -m server rotate-master-key` against a seeded database, run as an operator would (subprocesses).

Afterwards every sealed value opens with the new key only; a server that was running with the old key
keeps enrolling and verifying; no key or secret reaches an output or a log (the new key is printed only
when it comes from `DOORPASS_MASTER_KEY`); the database files are 0600 and `var/` 0700.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import crypto
from server.db.engine import Database
from server.db.files import sqlite_path
from server.secrets import SEALED_COLUMNS, count_by_key, open_field
from tests.served import ROOT, ServerProcess, free_port, status_etag, wait_for_new_status

DEMO_ID_NUMBERS = [w["id_number"] for w in json.loads((ROOT / "server" / "demo_data.json").read_text())["workers"]]


class Operator:
    """Runs `python -m server ...` with its own var/ and database; keeps every output for the leak check."""

    def __init__(self, var: Path, database_url: str, **env: str) -> None:
        self.var = var
        self.database_url = database_url
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DOORPASS_") and k != "DATABASE_URL"}
        self.env.update({"DOORPASS_VAR": str(var), "DATABASE_URL": database_url, "DOORPASS_PWA_DIST": str(var / "no-dist"),
                         **env})
        self.outputs: list[str] = []
        self.server: ServerProcess | None = None

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        r = subprocess.run([sys.executable, "-m", "server", *args], env=self.env, cwd=ROOT, capture_output=True,
                           text=True, timeout=180)
        self.outputs += [r.stdout, r.stderr]
        if ok:
            assert r.returncode == 0, r.stdout + r.stderr
        return r

    def seed(self, serving: str | None = None) -> list[dict]:
        """seed-demo's activation codes; with the base of the server `serving`, once that server serves the re-signed
        status list (`wait_for_new_status`)."""
        before = status_etag(serving) if serving else None
        codes = json.loads(self.run("seed-demo", "--base-url", "http://127.0.0.1").stdout)["activation_codes"]
        if serving and before:
            wait_for_new_status(serving, before)
        return codes

    def serve(self) -> str:
        port = free_port()
        self.log = self.var.parent / f"server-{port}.log"
        self.server = ServerProcess({**self.env, "DOORPASS_PORT": str(port)}, f"http://127.0.0.1:{port}", self.log)
        self.server.start()
        return self.server.base

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.outputs.append(self.log.read_text())
            self.server = None

    def everything_printed(self) -> str:
        return "\n".join(self.outputs)


def _post(base: str, path: str, body: dict) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def _enroll(base: str, code: str) -> tuple[bytes, dict]:
    priv = crypto.new_signing_key()
    st, body = _post(base, "/api/enroll", {"code": code, "device_pub": crypto.b64u_encode(crypto.public_key(priv))})
    assert st == 200, body
    return priv, body


def _verifies(base: str, priv: bytes, body: dict) -> None:
    now = int(time.time())
    qr = crypto.make_live_qr(crypto.b64u_decode(body["cred"]), crypto.b64u_decode(body["issuer_sig"]), body["secret"], priv, now)
    st, answer = _post(base, "/api/verify", {"qr": qr})
    assert st == 200 and answer["result"] == "valid", answer
    code = f"{crypto.totp_code(body['secret'], now // 30):06d}"
    st, answer = _post(base, "/api/verify/code", {"serial": body["serial"], "code": code})
    assert st == 200 and answer["result"] == "valid", answer


async def _sealed_values(url: str) -> list[tuple[str, str, object, bytes]]:
    import sqlalchemy as sa

    from server.secrets import _present_columns

    db = Database(url)
    try:
        async with db.transaction() as session:
            out = []
            for col in await _present_columns(session):
                t = sa.table(col.table, sa.column(col.row_key), sa.column(col.column))
                rows = await session.execute(sa.select(t.c[col.row_key], t.c[col.column]).where(t.c[col.column].is_not(None)))
                out += [(col.table, col.column, k, v) for k, v in rows.all()]
            return out
    finally:
        await db.dispose()


async def _straggler(url: str, serial: int, secret: str, key: bytes) -> None:
    import sqlalchemy as sa

    from server.secrets import seal_totp

    db = Database(url)
    try:
        async with db.transaction() as session:
            t = sa.table("passes", sa.column("serial"), sa.column("totp_sealed"))
            await session.execute(sa.update(t).where(t.c.serial == serial).values(totp_sealed=seal_totp(crypto.Keyring(key), serial, secret)))
    finally:
        await db.dispose()


async def _by_key(url: str) -> dict[str, dict[str, int]]:
    db = Database(url)
    try:
        async with db.transaction() as session:
            return await count_by_key(session)
    finally:
        await db.dispose()


def _mode(path: Path) -> str:
    return oct(path.stat().st_mode)[-3:]


def _assert_opens_with_only(values: list, new: bytes, old: bytes) -> None:
    assert {t for t, *_ in values} >= {"signing_keys", "passes", "workers"}
    for table, column, row_key, blob in values:
        assert crypto.sealed_key_id(blob) == crypto.master_key_id(new), (table, column, row_key)
        open_field(crypto.Keyring(new), table, column, row_key, blob)
        with pytest.raises(crypto.UnknownKey):
            open_field(crypto.Keyring(old), table, column, row_key, blob)


def _assert_nothing_secret(printed: str, *keys: bytes, secrets: list[str]) -> None:
    for key in keys:
        assert crypto.b64u_encode(key) not in printed and key.hex() not in printed
    for s in secrets + DEMO_ID_NUMBERS:
        assert s not in printed


async def test_rotation_with_key_files_while_a_server_runs(database_url: str, tmp_path: Path) -> None:
    op = Operator(tmp_path / "var", database_url)
    codes = op.seed()
    old = crypto.b64u_decode((op.var / "master.key").read_text().strip())
    base = op.serve()
    try:
        before_priv, before = _enroll(base, next(c for c in codes if c["expected_status"] == "valid")["code"])
        _verifies(base, before_priv, before)

        summary = json.loads(op.run("rotate-master-key").stdout)
        new = crypto.b64u_decode((op.var / "master.key").read_text().strip())
        assert new != old and summary["master_key_id"] == crypto.master_key_id(new).hex()
        assert summary["previous_key_id"] == crypto.master_key_id(old).hex()
        assert summary["resealed"]["passes.totp_sealed"] >= 1 and summary["resealed"]["workers.id_number_sealed"] >= 8
        assert [k.strip() for k in (op.var / "master.key.previous").read_text().split()] == [crypto.b64u_encode(old)]
        assert _mode(op.var / "master.key") == _mode(op.var / "master.key.previous") == "600"
        assert not list(op.var.glob(".*.tmp"))
        _assert_opens_with_only(await _sealed_values(database_url), new, old)

        # the server still holds the old key: it picks up the new one when it meets it
        _verifies(base, before_priv, before)
        after_codes = op.seed(base)
        after_priv, after = _enroll(base, next(c for c in after_codes if c["expected_status"] == "valid")["code"])
        _verifies(base, after_priv, after)
        _assert_opens_with_only(await _sealed_values(database_url), new, old)

        # a value sealed under the old key by a process that had not yet noticed: it opens, and `init` re-seals it
        await _straggler(database_url, after["serial"], after["secret"], old)
        _verifies(base, after_priv, after)
        assert json.loads(op.run("init").stdout)["sealed_values_resealed"] == 1
        _assert_opens_with_only(await _sealed_values(database_url), new, old)

        again = json.loads(op.run("rotate-master-key").stdout)  # a second rotation: the first old key is gone
        newest = crypto.b64u_decode((op.var / "master.key").read_text().strip())
        assert again["previous_key_id"] == crypto.master_key_id(new).hex()
        assert (op.var / "master.key.previous").read_text().split() == [crypto.b64u_encode(new)]
        _assert_opens_with_only(await _sealed_values(database_url), newest, new)
        _verifies(base, after_priv, after)
    finally:
        op.stop()
    assert set((await _by_key(database_url))["passes.totp_sealed"]) == {crypto.master_key_id(newest).hex()}
    _assert_nothing_secret(op.everything_printed(), old, new, newest, secrets=[before["secret"], after["secret"]])
    assert _mode(op.var) == "700"
    db_file = sqlite_path(database_url)
    if db_file is not None:
        assert _mode(db_file) == "600"
        for companion in (db_file.with_name(db_file.name + "-wal"), db_file.with_name(db_file.name + "-shm")):
            assert not companion.exists() or _mode(companion) == "600", companion


async def test_rotation_with_the_key_in_the_environment(tmp_path: Path) -> None:
    old = crypto.new_master_key()
    var = tmp_path / "var"
    url = f"sqlite+aiosqlite:///{var / 'doorpass.db'}"
    op = Operator(var, url, DOORPASS_MASTER_KEY=crypto.b64u_encode(old))
    codes = op.seed()
    base = op.serve()
    try:
        before_priv, before = _enroll(base, next(c for c in codes if c["expected_status"] == "valid")["code"])
    finally:
        op.stop()
    r = op.run("rotate-master-key")
    first, rest = r.stdout.split("\n", 1)
    assert first.startswith("DOORPASS_MASTER_KEY=")
    new = crypto.b64u_decode(first.split("=", 1)[1])
    assert json.loads(rest)["master_key_id"] == crypto.master_key_id(new).hex()
    assert "DOORPASS_MASTER_KEY_PREVIOUS" in r.stderr
    assert not (var / "master.key").exists() and not (var / "master.key.previous").exists()
    _assert_opens_with_only(await _sealed_values(url), new, old)
    printed = op.everything_printed()
    assert printed.count(crypto.b64u_encode(new)) == 1  # printed once, for the operator to set
    _assert_nothing_secret(printed, old, secrets=[before["secret"]])

    # the old key alone no longer opens anything: the command refuses to run with it (nothing changes)
    failed = op.run("seed-demo", ok=False)
    assert failed.returncode != 0
    assert crypto.b64u_encode(old) not in failed.stdout + failed.stderr

    # the operator sets the new key (and the old one as previous): everything works again
    op.env.update(DOORPASS_MASTER_KEY=crypto.b64u_encode(new), DOORPASS_MASTER_KEY_PREVIOUS=crypto.b64u_encode(old))
    base = op.serve()
    try:
        _verifies(base, before_priv, before)
        codes = op.seed(base)  # (re-issues the demo passes: the first phone's pass is revoked)
        priv, body = _enroll(base, next(c for c in codes if c["expected_status"] == "valid")["code"])
        _verifies(base, priv, body)
    finally:
        op.stop()
    _assert_opens_with_only(await _sealed_values(url), new, old)
    assert _mode(var / "doorpass.db") == "600" and _mode(var) == "700"
    printed = op.everything_printed().replace(crypto.b64u_encode(new), "", 1)
    _assert_nothing_secret(printed, old, new, secrets=[before["secret"], body["secret"]])


def test_sealed_columns_are_listed_once() -> None:
    names = [(c.table, c.column) for c in SEALED_COLUMNS]
    assert len(names) == len(set(names))
    assert ("accounts", "totp_secret_sealed") in names
