"""The DP1 vectors (tests/vectors/dp1.json, from an independent implementation): every case agrees, through the CLI and the library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import crypto
from tests.conftest import ROOT, VECTORS

DATA = json.loads(VECTORS.read_text(encoding="utf-8"))
CASES = DATA["cases"]

# On the team's machines and CI an independent implementation's vectors sit beside the checkout; a clone
# elsewhere has no such folder, and this one comparison is all that would read it.
SHARED_VECTORS = Path(os.environ.get("DOORPASS_SHARED_VECTORS", ROOT.parent / "shared" / "vectors" / "dp1.json"))


@pytest.mark.skipif(not SHARED_VECTORS.is_file(),
                    reason=f"no shared copy of the vectors at {SHARED_VECTORS} (only the team's machines and CI have one)")
def test_repo_vectors_match_the_shared_copy() -> None:
    """The repository's copy is byte for byte the independent implementation's file, so the two never drift."""
    assert VECTORS.read_bytes() == SHARED_VECTORS.read_bytes(), (
        f"{VECTORS} differs from {SHARED_VECTORS}: copy the shared file over ours, never edit either by hand")


def _cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crypto", "verify", "--vectors", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


@pytest.fixture(scope="module")
def cli_results() -> list[str]:
    r = _cli(VECTORS)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1, "one line"
    got = json.loads(r.stdout)
    assert isinstance(got, list) and len(got) == len(CASES)
    return got


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c["name"] for c in CASES])
def test_cli_case(cli_results: list[str], i: int) -> None:
    case = CASES[i]
    assert cli_results[i] == case["expect"], f"case {i} {case['name']!r}: CLI says {cli_results[i]}, want {case['expect']}"


def test_cli_prints_results_only(cli_results: list[str]) -> None:
    assert set(cli_results) <= set(crypto.RESULTS)


@pytest.mark.parametrize("content", ["{}", "not json", '{"root_pub": "x", "trust": {}, "status": {}, "cases": []}'])
def test_cli_says_clearly_when_the_file_is_wrong(tmp_path: Path, content: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    r = _cli(bad)
    assert r.returncode == 2 and "cannot read vectors" in r.stderr and r.stdout == ""
    assert "Traceback" not in r.stderr


def test_cli_missing_file(tmp_path: Path) -> None:
    r = _cli(tmp_path / "nowhere.json")
    assert r.returncode == 2 and "cannot read vectors" in r.stderr


@pytest.fixture(scope="module")
def lists() -> tuple[crypto.TrustList, crypto.StatusList]:
    trust = crypto.open_trust(DATA["trust"], crypto.b64u_decode(DATA["root_pub"]))
    return trust, crypto.open_status(DATA["status"], trust.status_pub)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_library_case(case: dict, lists: tuple[crypto.TrustList, crypto.StatusList]) -> None:  # type: ignore[type-arg]
    trust, status = lists
    v = crypto.verify(case["qr"], case["now"], trust, status, secret=case["secret"])
    assert v.result == case["expect"], f"{case['name']!r}: got {v.result}, want {case['expect']}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_library_case_with_the_servers_shortcuts(case: dict, lists: tuple[crypto.TrustList, crypto.StatusList]) -> None:  # type: ignore[type-arg]
    """The server passes the frame it already parsed and the credential it issued (`parsed`, `issued`): every case
    still gives its result, except that a pair the verifier issued itself is not re-checked (bad_issuer_sig cases
    are then given another issuer's signature as the issued pair, so the row still fires)."""
    trust, status = lists
    try:
        parsed = crypto.parse_qr(case["qr"])
    except (crypto.CryptoError, TypeError):
        parsed = None
    issued = None
    if parsed is not None:
        issued = (parsed.cred_bytes, parsed.issuer_sig if case["expect"] != "bad_issuer_sig" else b"\0" * 64)
    v = crypto.verify(case["qr"], case["now"], trust, status, secret=case["secret"], parsed=parsed, issued=issued)
    assert v.result == case["expect"], f"{case['name']!r}: got {v.result}, want {case['expect']}"


@pytest.mark.parametrize("case", DATA["list_cases"], ids=lambda c: c["name"])
def test_list_case(case: dict, lists: tuple[crypto.TrustList, crypto.StatusList]) -> None:  # type: ignore[type-arg]
    trust, _ = lists
    try:
        if case["kind"] == "trust":
            crypto.open_trust(case["envelope"], crypto.b64u_decode(DATA["root_pub"]))
        else:
            crypto.open_status(case["envelope"], trust.status_pub)
        got = "accept"
    except crypto.CryptoError:
        got = "reject"
    assert got == case["expect"], f"{case['name']!r}: got {got}, want {case['expect']}"


@pytest.mark.parametrize("case", DATA["status_cases"], ids=lambda c: f"index {c['index']}")
def test_status_case(case: dict, lists: tuple[crypto.TrustList, crypto.StatusList]) -> None:  # type: ignore[type-arg]
    _, status = lists
    assert status.get(case["index"]) == case["expect"], f"index {case['index']}"
