"""Worker photos: JPEG, PNG or WebP told by their own bytes; every photo served sandboxed, never sniffed."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from tests.integration.conftest import ADMIN, Admin

SANDBOX = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 30), (200, 120, 40)).save(out, format=fmt)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def photo_of(client, admin: Admin, agency_id: int, **extra: object):  # type: ignore[no-untyped-def]
    worker = await admin.worker(agency_id, **extra)
    serial = (await admin.issue(worker["id"]))["serial"]
    return await client.get(f"/api/passes/{serial}/photo")


@pytest.mark.parametrize(("fmt", "media"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
async def test_an_image_is_kept_and_served_as_what_its_bytes_say(client, admin: Admin, fmt, media) -> None:  # type: ignore[no-untyped-def]
    agency = await admin.agency()
    data = image(fmt)
    r = await photo_of(client, admin, agency["id"], photo=b64(data))
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == media
    assert r.headers["content-security-policy"] == SANDBOX
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"] == "inline"


@pytest.mark.parametrize("data", [SVG, HTML, b"GIF89a" + bytes(40), b"\xff\xd8", b"RIFF\x00\x00\x00\x00WAVEfmt "],
                         ids=["svg", "html", "gif", "short-jpeg", "riff-not-webp"])
async def test_anything_else_is_refused(client, admin: Admin, data: bytes) -> None:  # type: ignore[no-untyped-def]
    agency = await admin.agency()
    r = await client.post("/api/admin/workers", json={"agency_id": agency["id"], "name": "王阿姨", "photo": b64(data)},
                          headers=ADMIN)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "bad_photo" and "JPEG" in body["message"] and "JPEG" in body["message_en"]


async def test_a_declared_type_counts_for_nothing(client, admin: Admin) -> None:  # type: ignore[no-untyped-def]
    """HTML declared as image/jpeg was once stored and served as such; the field is gone, the bytes decide."""
    agency = await admin.agency()
    for photo_type in ("image/jpeg", "image/svg+xml"):
        r = await client.post("/api/admin/workers", headers=ADMIN, json={
            "agency_id": agency["id"], "name": "王阿姨", "photo": b64(HTML), "photo_type": photo_type})
        assert r.status_code == 400 and r.json()["error"] in ("invalid_request", "bad_photo"), r.text


async def test_the_drawn_placeholder_is_served_sandboxed(client, admin: Admin) -> None:  # type: ignore[no-untyped-def]
    agency = await admin.agency()
    r = await photo_of(client, admin, agency["id"], name="<b>李")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert b"<script" not in r.content and b"<b>" not in r.content and b"&lt;" in r.content
    assert r.headers["content-security-policy"] == SANDBOX
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"] == "inline"
    again = await client.get(str(r.request.url), headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.headers["content-security-policy"] == SANDBOX
