"""The app's files are served precompressed: the .br or .gz the build wrote beside each file, chosen by the
browser's Accept-Encoding, with Vary, ETag / 304, and never compressed a second time by the gzip middleware."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from server.settings import Settings
from server.web import COMPRESSIBLE, accepted
from tests.conftest import ROOT

# Larger than the gzip middleware's minimum_size (1 KiB) even once compressed: were it not excluded, it would
# gzip these bodies again and the raw bytes on the wire would differ from the files.
SCRIPT = ("// " + os.urandom(3000).hex() + "\nconsole.log('app');\n").encode()
BR_BODY = b"\x1b" + os.urandom(2000)  # stands for brotli output: served as it is, never decoded here


@pytest.fixture
async def database_url(tmp_path: Path) -> str:  # type: ignore[override]
    """These tests touch no table: SQLite only."""
    from server.db.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'doorpass.db'}"
    upgrade(url)
    return url


@pytest.fixture
def dist(settings: Settings) -> Path:
    """A stand-in build: a script with both compressed copies, a stylesheet with only .gz, an icon, index.html."""
    d = settings.pwa_dist
    (d / "assets").mkdir(parents=True)
    (d / "index.html").write_bytes(b'<!doctype html><script type="module" src="/assets/app.js"></script>' * 40)
    (d / "index.html.gz").write_bytes(gzip.compress((d / "index.html").read_bytes()))
    (d / "assets" / "app.js").write_bytes(SCRIPT)
    (d / "assets" / "app.js.gz").write_bytes(gzip.compress(SCRIPT))
    (d / "assets" / "app.js.br").write_bytes(BR_BODY)
    (d / "assets" / "style.css").write_bytes(b"body{color:#000}" * 200)
    (d / "assets" / "style.css.gz").write_bytes(gzip.compress((d / "assets" / "style.css").read_bytes()))
    (d / "icon.png").write_bytes(b"\x89PNG" + os.urandom(4000))
    (settings.var_dir / "secret.txt").write_text("not for the web")
    return d


async def raw_get(client: AsyncTestClient, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the body exactly as sent (httpx does not decode it)."""
    async with client.stream("GET", path, headers=headers) as r:
        body = b"".join([chunk async for chunk in r.aiter_raw()])
        return r.status_code, {k.lower(): v for k, v in r.headers.items()}, body


@pytest.mark.parametrize(
    ("accept", "coding", "suffix"),
    [
        ("gzip, deflate, br, zstd", "br", ".br"),
        ("br", "br", ".br"),
        ("gzip, deflate", "gzip", ".gz"),
        ("br;q=0, gzip", "gzip", ".gz"),
        ("*", "br", ".br"),
        ("identity", None, ""),
        ("", None, ""),
        ("gzip;q=0, br;q=0", None, ""),
    ],
)
async def test_each_encoding_is_chosen_from_accept_encoding(client, dist, accept, coding, suffix) -> None:  # type: ignore[no-untyped-def]
    status, headers, body = await raw_get(client, "/assets/app.js", **{"Accept-Encoding": accept})
    assert status == 200
    assert headers.get("content-encoding") == coding
    assert body == (dist / "assets" / f"app.js{suffix}").read_bytes()  # the file itself: not compressed twice
    assert headers["content-type"].startswith("text/javascript")
    assert "accept-encoding" in headers["vary"].lower()
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert int(headers["content-length"]) == len(body)


async def test_a_missing_br_falls_back_to_gzip_then_the_file(client, dist) -> None:  # type: ignore[no-untyped-def]
    status, headers, body = await raw_get(client, "/assets/style.css", **{"Accept-Encoding": "br, gzip"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == (dist / "assets" / "style.css").read_bytes()
    assert headers["content-type"].startswith("text/css")
    status, headers, body = await raw_get(client, "/assets/style.css", **{"Accept-Encoding": "br"})
    assert status == 200 and "content-encoding" not in headers
    assert body == (dist / "assets" / "style.css").read_bytes()


async def test_a_copy_older_than_its_file_is_not_served(client, dist) -> None:  # type: ignore[no-untyped-def]
    """A file replaced after the build (a hot fix, a test's new service worker) wins over its stale copies."""
    js = dist / "assets" / "app.js"
    js.write_bytes(SCRIPT + b"// release 2\n")
    later = (dist / "assets" / "app.js.br").stat().st_mtime_ns + 1_000_000_000
    os.utime(js, ns=(later, later))
    status, headers, body = await raw_get(client, "/assets/app.js", **{"Accept-Encoding": "br, gzip"})
    assert status == 200 and "content-encoding" not in headers
    assert body.endswith(b"// release 2\n")


async def test_app_routes_get_index_html_precompressed(client, dist) -> None:  # type: ignore[no-untyped-def]
    status, headers, body = await raw_get(client, "/verify", **{"Accept-Encoding": "gzip, br"})
    assert status == 200 and headers["content-encoding"] == "gzip"  # index.html has no .br here
    assert gzip.decompress(body) == (dist / "index.html").read_bytes()
    assert headers["content-type"].startswith("text/html") and headers["cache-control"] == "no-cache"


async def test_etag_per_encoding_and_304(client, dist) -> None:  # type: ignore[no-untyped-def]
    _, br, _ = await raw_get(client, "/assets/app.js", **{"Accept-Encoding": "br"})
    _, gz, _ = await raw_get(client, "/assets/app.js", **{"Accept-Encoding": "gzip"})
    _, plain, _ = await raw_get(client, "/assets/app.js", **{"Accept-Encoding": "identity"})
    tags = {br["etag"], gz["etag"], plain["etag"]}
    assert len(tags) == 3, tags  # three representations, three tags

    status, headers, body = await raw_get(client, "/assets/app.js", **{"Accept-Encoding": "br", "If-None-Match": br["etag"]})
    assert status == 304 and body == b""
    assert headers["etag"] == br["etag"] and "accept-encoding" in headers["vary"].lower()
    assert "content-encoding" not in headers
    # A weak comparison and a list match too; another representation's tag does not.
    status, _, _ = await raw_get(client, "/assets/app.js", **{"Accept-Encoding": "br", "If-None-Match": f'"x", W/{br["etag"]}'})
    assert status == 304
    status, _, body = await raw_get(client, "/assets/app.js", **{"Accept-Encoding": "br", "If-None-Match": gz["etag"]})
    assert status == 200 and body == BR_BODY

    # A new build (the file changed) gets a new tag: the old one no longer matches.
    (dist / "assets" / "app.js.br").write_bytes(BR_BODY + b"!")
    status, headers, _ = await raw_get(client, "/assets/app.js", **{"Accept-Encoding": "br", "If-None-Match": br["etag"]})
    assert status == 200 and headers["etag"] != br["etag"]


async def test_files_not_worth_compressing_are_sent_as_they_are(client, dist) -> None:  # type: ignore[no-untyped-def]
    status, headers, body = await raw_get(client, "/icon.png", **{"Accept-Encoding": "gzip, br"})
    assert status == 200 and "content-encoding" not in headers
    assert body == (dist / "icon.png").read_bytes()  # not gzipped by the middleware either
    assert headers["content-type"] == "image/png"


async def test_api_answers_are_still_gzipped(client, dist) -> None:  # type: ignore[no-untyped-def]
    status, headers, body = await raw_get(client, "/schema/openapi.json", **{"Accept-Encoding": "gzip, br"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert gzip.decompress(body).startswith(b"{")


@pytest.mark.parametrize("path", ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt"])
async def test_traversal_is_refused(client, dist, path) -> None:  # type: ignore[no-untyped-def]
    status, _, body = await raw_get(client, path, **{"Accept-Encoding": "gzip, br"})
    assert b"not for the web" not in body
    assert status in (200, 404)  # an app route's index.html, or not found: never the file


def test_accept_encoding_parsing() -> None:
    assert accepted("gzip, deflate, br") == {"gzip", "br"}
    assert accepted("br;q=0.5, gzip;q=0") == {"br"}
    assert accepted("*;q=0, gzip") == {"gzip"}
    assert accepted("*") == {"gzip", "br"}
    assert accepted("x-gzip") == {"gzip"}
    assert accepted("br;q=nonsense") == set()
    assert accepted("") == set()


def test_the_build_wrote_both_copies_beside_each_compressible_file() -> None:
    dist = ROOT / "pwa" / "dist"
    if not (dist / "index.html").is_file():
        pytest.skip("pwa/dist is not built (make pwa)")
    checked = 0
    for f in dist.rglob("*"):
        if f.is_file() and f.name.endswith(COMPRESSIBLE) and f.stat().st_size >= 256:
            raw = f.read_bytes()
            assert (f.parent / (f.name + ".br")).is_file(), f
            assert gzip.decompress((f.parent / (f.name + ".gz")).read_bytes()) == raw, f
            assert (f.parent / (f.name + ".br")).stat().st_size < len(raw), f
            checked += 1
    assert any(dist.glob("assets/*.wasm.br")) and checked >= 5
