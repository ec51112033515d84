"""The fixed words are written once in Python (crypto/enums.py); the TypeScript side says the same."""

from __future__ import annotations

import json
import re

import crypto
from server.domain.verify.texts import RESULT_TEXT
from tests.conftest import ROOT

PWA = ROOT / "pwa" / "src"


def _ts_list(source: str, name: str) -> list[str]:
    """The string array literal `export const NAME = [...]` in TypeScript source."""
    m = re.search(rf"export const {name} = (\[[^\]]*\])", source)
    assert m, f"{name} not found"
    return json.loads(re.sub(r",\s*\]", "]", m.group(1)))


def test_results_in_the_spec_order() -> None:
    assert [str(r) for r in crypto.RESULTS] == [
        "malformed", "unknown_issuer", "bad_issuer_sig", "bad_device_sig", "not_yet_valid", "expired",
        "stale", "future", "bad_code", "revoked", "red", "caution", "valid",
    ]
    assert [s.result for s in crypto.Status] == ["valid", "caution", "red", "revoked"]
    assert [int(s) for s in crypto.Status] == [0, 1, 2, 3]
    assert {"valid", "caution", "red", "revoked"} == crypto.STATUS_RESULTS
    assert "bad_issuer_sig" not in crypto.IDENTITY_RESULTS and "bad_device_sig" in crypto.IDENTITY_RESULTS


def test_typescript_spells_the_same_results_and_statuses() -> None:
    source = (PWA / "dp1" / "index.ts").read_text()
    assert _ts_list(source, "RESULTS") == [str(r) for r in crypto.RESULTS]
    assert _ts_list(source, "STATUSES") == [str(s.result) for s in crypto.Status]
    consts = dict(re.findall(r"(STATUS_\w+) = (\d)", source))
    assert consts == {"STATUS_GREEN": "0", "STATUS_YELLOW": "1", "STATUS_RED": "2", "STATUS_REVOKED": "3"}
    assert "IDENTITY_RESULTS" in source and "STATUS_RESULTS" in source


def test_no_view_retypes_a_list_of_results() -> None:
    """Views take the lists from the dp1 module (`dp1.STATUS_RESULTS`, `dp1.IDENTITY_RESULTS`)."""
    words = "|".join(str(r) for r in crypto.RESULTS)
    literal = re.compile(rf"""\[\s*["']({words})["']\s*,\s*["']({words})["']""")
    for path in PWA.rglob("*.ts*"):
        if path.parent.name != "dp1":
            assert not literal.search(path.read_text()), f"{path.relative_to(ROOT)} spells out a list of results"


def test_every_result_has_words_on_both_sides() -> None:
    assert set(RESULT_TEXT) == set(crypto.Result)
    for catalogue in ("zh-CN.ts", "en.ts"):
        source = (PWA / "i18n" / catalogue).read_text()
        for r in crypto.Result:
            assert f'"result.{r}"' in source and f'"explain.{r}"' in source, (catalogue, r)
