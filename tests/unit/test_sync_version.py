"""The sync versions are written once in Python (sync/wire.py); the PWA's outbox sends the same numbers."""

from __future__ import annotations

import re

import sync
from tests.conftest import ROOT

APP = ROOT / "pwa" / "src" / "app"


def test_typescript_speaks_the_same_versions() -> None:
    source = (APP / "syncVersion.ts").read_text()
    consts = {name: int(value) for name, value in re.findall(r"export const (PROTOCOL|SCHEMA) = (\d+);", source)}
    assert consts == {"PROTOCOL": sync.PROTOCOL, "SCHEMA": sync.SCHEMA}


def test_the_outbox_sends_them_with_every_push_and_retypes_nothing() -> None:
    outbox = (APP / "outbox.ts").read_text()
    assert re.search(r'import \{[^}]*\bPROTOCOL\b[^}]*\bSCHEMA\b[^}]*\} from "\./syncVersion"', outbox)
    assert re.search(r"protocol: PROTOCOL,\s*schema: SCHEMA", outbox)
    assert not re.search(r"(protocol|schema): \d", outbox)
