"""Rate limits: per client and route group, per pass number for wrong codes; 429 with Retry-After and our words.

The suite runs with `DOORPASS_RATE_LIMITS=off`; these tests turn limits on in their own settings, with small
numbers, in apps on the same database as the `admin` fixture's (which makes the passes).
"""

from __future__ import annotations

import dataclasses
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from litestar.testing import AsyncTestClient
from redis import Redis

import crypto
from server.app import create_app
from server.settings import Settings
from tests.integration.conftest import Admin

REDIS = ("127.0.0.1", 6379)


def _redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def limited(settings: Settings, clock):  # type: ignore[no-untyped-def]
    """Opens an app with limits on: small per-client limits unless overridden."""

    @asynccontextmanager
    async def open_app(**over: object) -> AsyncIterator[AsyncTestClient]:
        numbers = {"rate_limits": True, "limit_enroll": 3, "limit_verify": 3, "limit_verify_code": 100, "limit_push": 3,
                   "limit_devices": 3, "limit_sign_in": 3, "wrong_codes_per_pass": 3, "wrong_codes_window": 900}
        app = create_app(dataclasses.replace(settings, **{**numbers, **over}), clock=clock)
        async with AsyncTestClient(app=app, raise_server_exceptions=False) as c:
            yield c

    return open_app


def assert_rate_limited(r, most_seconds: int) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 429, r.text
    body = r.json()
    assert body["error"] == "rate_limited" and body["message"] and body["message_en"], body
    assert 1 <= int(r.headers["retry-after"]) <= most_seconds, r.headers


def _code(phone, clock, *, wrong: bool = False) -> str:  # type: ignore[no-untyped-def]
    right = crypto.totp_code(phone.secret, clock.now() // 30)
    return f"{(right + 500_000) % 1_000_000 if wrong else right:06d}"


async def test_a_client_over_the_limit_gets_429_with_retry_after(limited) -> None:  # type: ignore[no-untyped-def]
    async with limited() as c:
        for _ in range(3):
            r = await c.post("/api/verify", json={"qr": "DP1:nothing"})
            assert r.status_code == 200 and r.json()["result"] == "malformed"
        r = await c.post("/api/verify", json={"qr": "DP1:nothing"})
        assert_rate_limited(r, 60)
        assert r.json()["message"].startswith("请求过于频繁") and r.json()["message_en"].startswith("Too many requests")
        # each route group counts on its own
        assert (await c.post("/api/verify/code", json={"serial": 1, "code": "123456"})).status_code == 200
        for _ in range(3):
            assert (await c.post("/api/enroll", json={"code": "AAAA-BBBB-CCCC", "device_pub": "x"})).status_code == 400
        assert_rate_limited(await c.post("/api/enroll", json={"code": "AAAA-BBBB-CCCC", "device_pub": "x"}), 60)
        for _ in range(3):
            assert (await c.post("/api/sync/push", json={})).status_code == 400
        assert_rate_limited(await c.post("/api/sync/push", json={}), 60)
        for _ in range(3):
            assert (await c.post("/api/sync/devices", json={"device_pub": "x"})).status_code == 400
        assert_rate_limited(await c.post("/api/sync/devices", json={"device_pub": "x"}), 60)
        assert (await c.get("/api/health")).status_code == 200  # unlimited routes stay open


async def test_wrong_codes_lock_a_pass_number_for_everyone(limited, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    other = await admin.enrolled_phone("李阿姨")
    async with limited() as c:
        for _ in range(3):
            r = await c.post("/api/verify/code", json={"serial": phone.serial, "code": _code(phone, clock, wrong=True)})
            assert r.json()["result"] == "bad_code"
        r = await c.post("/api/verify/code", json={"serial": phone.serial, "code": _code(phone, clock)})  # even the right one
        assert_rate_limited(r, 900)
        assert int(r.headers["retry-after"]) > 800
        assert "证号" in r.json()["message"] and "pass number" in r.json()["message_en"]
        assert "王阿姨" not in r.text
        ok = await c.post("/api/verify/code", json={"serial": other.serial, "code": _code(other, clock)})
        assert ok.json()["result"] == "valid"  # other numbers are not locked
        # an unknown number locks the same way, so a lock says nothing about whether a number exists
        unknown = next(n for n in range(1, 10_000) if n not in (phone.serial, other.serial))
        for _ in range(3):
            assert (await c.post("/api/verify/code", json={"serial": unknown, "code": "000000"})).json()["result"] == "bad_code"
        assert_rate_limited(await c.post("/api/verify/code", json={"serial": unknown, "code": "000000"}), 900)


async def test_limits_off_let_everything_through(limited, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    async with limited(rate_limits=False) as c:
        for _ in range(6):
            assert (await c.post("/api/verify", json={"qr": "x"})).status_code == 200
            r = await c.post("/api/verify/code", json={"serial": phone.serial, "code": _code(phone, clock, wrong=True)})
            assert r.json()["result"] == "bad_code"


@pytest.mark.skipif(not _redis_answers(), reason=f"no Redis answering PING on {REDIS[0]}:{REDIS[1]}")
async def test_two_app_instances_share_one_redis_count(limited, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    """Two server instances (as two processes would) with one `REDIS_URL` count together."""
    phone = await admin.enrolled_phone()
    redis = {"redis_url": f"redis://{REDIS[0]}:{REDIS[1]}/0", "rate_limit_namespace": f"doorpass-test-{uuid.uuid4().hex}"}
    async with limited(**redis) as one, limited(**redis) as two:
        try:
            assert (await one.post("/api/verify", json={"qr": "x"})).status_code == 200
            assert (await two.post("/api/verify", json={"qr": "x"})).status_code == 200
            assert (await one.post("/api/verify", json={"qr": "x"})).status_code == 200
            assert_rate_limited(await two.post("/api/verify", json={"qr": "x"}), 60)
            wrong = {"serial": phone.serial, "code": _code(phone, clock, wrong=True)}
            for c in (one, two, one):
                assert (await c.post("/api/verify/code", json=wrong)).json()["result"] == "bad_code"
            assert_rate_limited(await two.post("/api/verify/code", json={"serial": phone.serial, "code": _code(phone, clock)}), 900)
        finally:
            keys = Redis(*REDIS)
            for key in keys.scan_iter(f"{redis['rate_limit_namespace']}:*"):
                keys.delete(key)
            keys.close()


async def test_a_redis_that_does_not_answer_is_a_503_not_a_500(settings) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from litestar.testing import AsyncTestClient

    from server.app import create_app
    from tests.served import free_port

    down = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0", rate_limits=True)
    async with AsyncTestClient(app=create_app(down)) as client:
        r = await client.post("/api/verify", json={"qr": "DP1:x"})
    assert r.status_code == 503 and r.headers["retry-after"] == "5", r.text
    assert r.json()["error"] == "unavailable" and r.json()["message"] and r.json()["message_en"]
