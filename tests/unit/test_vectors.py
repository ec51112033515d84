"""The shared DP1 vectors from an independent implementation: every case agrees."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import crypto
from tests.conftest import ROOT, VECTORS

DATA = json.loads(VECTORS.read_text(encoding="utf-8"))


def test_cli_prints_every_case_result_in_order() -> None:
    r = subprocess.run([sys.executable, "-m", "crypto", "verify", "--vectors", str(VECTORS)],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert len(got) == len(DATA["cases"])
    for case, result in zip(DATA["cases"], got):
        assert result == case["expect"], f"{case['name']}: got {result}, want {case['expect']}"


def test_cli_says_clearly_when_the_file_is_wrong(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    r = subprocess.run([sys.executable, "-m", "crypto", "verify", "--vectors", str(bad)],
                       capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 2 and "cannot read vectors" in r.stderr and r.stdout == ""


@pytest.fixture(scope="module")
def lists() -> tuple[crypto.TrustList, crypto.StatusList]:
    trust = crypto.open_trust(DATA["trust"], crypto.b64u_decode(DATA["root_pub"]))
    return trust, crypto.open_status(DATA["status"], trust.status_pub)


@pytest.mark.parametrize("case", DATA["list_cases"], ids=lambda c: c["name"])
def test_list_cases(case: dict, lists) -> None:  # type: ignore[no-untyped-def]
    trust, _ = lists
    root = crypto.b64u_decode(DATA["root_pub"])
    try:
        if case["kind"] == "trust":
            crypto.open_trust(case["envelope"], root)
        else:
            crypto.open_status(case["envelope"], trust.status_pub)
        got = "accept"
    except crypto.CryptoError:
        got = "reject"
    assert got == case["expect"]


def test_status_cases(lists) -> None:  # type: ignore[no-untyped-def]
    _, status = lists
    for case in DATA["status_cases"]:
        assert status.get(case["index"]) == case["expect"], case


def test_library_agrees_case_by_case(lists) -> None:  # type: ignore[no-untyped-def]
    trust, status = lists
    for case in DATA["cases"]:
        v = crypto.verify(case["qr"], case["now"], trust, status, secret=case["secret"])
        assert v.result == case["expect"], case["name"]
