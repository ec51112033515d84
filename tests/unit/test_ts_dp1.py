"""The TypeScript DP1 module: its vector tool agrees with every vector case, and its node tests pass."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import ROOT, VECTORS

PWA = ROOT / "pwa"
pytestmark = pytest.mark.skipif(shutil.which("node") is None or not (PWA / "node_modules").is_dir(),
                                reason="node or pwa/node_modules missing (make test installs them)")


@pytest.fixture(scope="module", autouse=True)
def built() -> None:
    r = subprocess.run(["npm", "run", "-s", "build:tools"], cwd=PWA, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_node_tool_agrees_with_every_case() -> None:
    r = subprocess.run(["node", "pwa/tools/verify-vectors.mjs", str(VECTORS)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    cases = json.loads(VECTORS.read_text())["cases"]
    assert len(got) == len(cases)
    for case, result in zip(cases, got, strict=True):
        assert result == case["expect"], f"{case['name']}: got {result}, want {case['expect']}"
    py = subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "crypto", "verify", "--vectors", str(VECTORS)],
                        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert py.stdout == r.stdout  # the same JSON list, byte for byte


def test_node_unit_tests_pass() -> None:
    r = subprocess.run(["node", "--test", "tools/"], cwd=PWA, capture_output=True, text=True, timeout=120,
                       env={"DP1_VECTORS": str(VECTORS), "PATH": subprocess.os.environ["PATH"]})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "# fail 0" in r.stdout
