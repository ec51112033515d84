"""The pass QR's module colours (pwa/src/views/Pass.tsx, QR_DARK): dark enough against white to read, and read by
zxing-cpp when a DP1-sized QR is drawn in them, small as on a phone seen by a camera and large.
(The e2e test tests/e2e/test_door_worker.py decodes the canvas Chromium really draws.)"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import segno
import zxingcpp
from PIL import Image

PASS_TSX = Path(__file__).resolve().parents[2] / "pwa" / "src" / "views" / "Pass.tsx"


def qr_dark() -> list[str]:
    m = re.search(r"const QR_DARK = \[([^\]]*)\]", PASS_TSX.read_text(encoding="utf-8"))
    assert m, "QR_DARK not found in Pass.tsx"
    colours = re.findall(r'"(#[0-9a-fA-F]{6})"', m.group(1))
    assert len(colours) == 5, colours  # valid, caution, red, revoked, unknown
    return colours


def luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance."""
    def lin(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def test_the_three_colours_are_green_amber_red() -> None:
    g, a, r = [tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in qr_dark()[:3]]
    assert g[1] > g[0] and g[1] > g[2], g  # green dominates
    assert a[0] > a[1] > a[2], a  # amber: red, then green, little blue
    assert r[0] > 2 * r[1] and r[0] > 2 * r[2], r  # red dominates


@pytest.mark.parametrize("colour", qr_dark())
def test_contrast_against_white(colour: str) -> None:
    assert (1.05 / (luminance(colour) + 0.05)) >= 4.5, colour


@pytest.mark.parametrize("colour", qr_dark())
@pytest.mark.parametrize("scale", [3, 8])
def test_a_dp1_sized_qr_in_the_colour_decodes(colour: str, scale: int) -> None:
    text = "DP1:" + "7Q9ZK$%*+-./:" * 15  # alphanumeric, about the length of a live frame
    buf = io.BytesIO()
    segno.make(text, error="m", boost_error=False).save(buf, kind="png", scale=scale, border=3, dark=colour, light="#ffffff")
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    assert [f.text for f in found] == [text]


def test_a_light_yellow_would_be_refused() -> None:
    """The contrast rule is what keeps the amber dark: the bright frame colour itself would fail it."""
    assert (1.05 / (luminance("#f2b600") + 0.05)) < 4.5
