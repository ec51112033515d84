"""Every response carries the security headers: API answers, the app's files, errors, 404s and 500s."""

from __future__ import annotations

import pytest

from server.settings import Settings

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
CSP_PARTS = [
    "default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "img-src 'self' data: blob:", "media-src 'self' blob:",
    "connect-src 'self'", "worker-src 'self' blob:", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'",
    "object-src 'none'",
]


def assert_secured(r) -> None:  # type: ignore[no-untyped-def]
    for name, value in EXPECTED.items():
        assert r.headers.get(name) == value, (r.request.url, name, r.headers.get(name))
    csp = [part.strip() for part in r.headers["content-security-policy"].split(";")]
    for part in CSP_PARTS:
        assert part in csp, (r.request.url, part, csp)
    script = next(p for p in csp if p.startswith("script-src"))
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
    permissions = r.headers["permissions-policy"]
    assert "camera=(self)" in permissions and "microphone=()" in permissions and "payment=()" in permissions
    assert "strict-transport-security" not in r.headers  # the HTTPS proxy adds it (README, "Behind HTTPS")


@pytest.fixture
def built_app(settings: Settings) -> Settings:
    """A stand-in PWA build in the settings' dist folder."""
    dist = settings.pwa_dist
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text('<!doctype html><script type="module" src="/assets/app.js"></script>')
    (dist / "assets" / "app.js").write_text("console.log('app')")
    (dist / "sw.js").write_text("self.addEventListener('fetch', () => {})")
    return settings


async def test_api_answers_and_errors_carry_the_headers(client) -> None:  # type: ignore[no-untyped-def]
    answers = {
        "/api/health": 200,
        "/api/time": 200,
        "/schema/openapi.json": 200,
        "/api/nothing": 404,
        "/api/admin/agencies": 401,
        "/api/passes/12345/photo": 404,
        "/api/passes/abc/photo": 404,
    }
    for path, status in answers.items():
        r = await client.get(path)
        assert r.status_code == status, (path, r.status_code)
        assert_secured(r)
    r = await client.post("/api/verify", content=b"{", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert_secured(r)
    r = await client.delete("/api/health")
    assert r.status_code == 405
    assert_secured(r)


async def test_the_not_built_page_carries_the_headers(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert_secured(r)


async def test_the_apps_files_carry_the_headers(client, built_app) -> None:  # type: ignore[no-untyped-def]
    for path, status in {"/": 200, "/assets/app.js": 200, "/sw.js": 200, "/verify/123": 200, "/missing.js": 404}.items():
        r = await client.get(path)
        assert r.status_code == status, (path, r.status_code)
        assert_secured(r)


async def test_a_server_error_carries_the_headers(client, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken() -> int:
        raise RuntimeError("clock broke")

    monkeypatch.setattr(clock, "now", broken)
    r = await client.get("/api/time")
    assert r.status_code == 500 and r.json()["error"] == "server_error"
    assert_secured(r)


async def test_answers_are_gzipped_for_clients_that_accept_it(client) -> None:  # type: ignore[no-untyped-def]
    import gzip
    import json

    r = await client.get("/schema/openapi.json", headers={"accept-encoding": "gzip"})
    assert r.status_code == 200 and r.headers.get("content-encoding") == "gzip", r.headers
    assert json.loads(r.content)["openapi"]  # the client unzips it: the body is still the same JSON
    plain = await client.get("/schema/openapi.json", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == r.json()
    assert len(gzip.compress(plain.content)) < len(plain.content) / 3
    small = await client.get("/api/health", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in small.headers  # under 1 KiB: not worth it
