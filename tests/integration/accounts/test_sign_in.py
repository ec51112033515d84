"""Staff sign-in: password and TOTP second factor, recovery codes, lock-out, sessions, CSRF, account management."""

from __future__ import annotations

import pyotp
from litestar.testing import AsyncTestClient

from server.clock import Clock
from server.settings import Settings
from tests.integration.conftest import PASSWORD, Admin, make_account, sign_in


async def _sign_in(client: AsyncTestClient, username: str, password: str = PASSWORD, otp: str | None = None):  # type: ignore[no-untyped-def]
    body = {"username": username, "password": password} | ({"otp": otp} if otp else {})
    r = await client.post("/api/auth/sign-in", json=body)
    client.cookies.clear()
    return r


def _headers(r) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"cookie": f"dp_session={r.cookies['dp_session']}", "x-csrf-token": r.json()["csrf_token"]}


async def test_two_factors_from_first_sign_in_to_recovery(client: AsyncTestClient, settings: Settings, clock: Clock) -> None:
    await make_account(settings, "reg", "regulator")
    first = await _sign_in(client, "reg")
    assert first.status_code == 200 and first.json()["totp_enabled"] is False
    cookie = first.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # this test server is on loopback: development (see test_cookie_is_secure_...)
    h = _headers(first)
    # Until two factors are set up, only the account's own routes answer.
    r = await client.get("/api/admin/agencies", headers=h)
    assert r.status_code == 403 and r.json()["error"] == "two_factor_required" and r.json()["message"]
    setup = (await client.post("/api/auth/totp/setup", headers=h)).json()
    assert setup["otpauth_uri"].startswith("otpauth://totp/") and "<svg" in setup["qr_svg"]
    totp = pyotp.TOTP(setup["secret"])
    bad = await client.post("/api/auth/totp/confirm", json={"code": "000000"}, headers=h)
    assert bad.status_code == 400 and bad.json()["error"] == "bad_otp"
    codes = (await client.post("/api/auth/totp/confirm", json={"code": totp.now()}, headers=h)).json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert (await client.get("/api/admin/agencies", headers=h)).status_code == 200  # this session proved the code

    # From now on the password alone is not enough.
    r = await _sign_in(client, "reg")
    assert r.status_code == 401 and r.json()["error"] == "otp_required"
    r = await _sign_in(client, "reg", otp="123456")
    assert r.status_code == 401 and r.json()["error"] == "sign_in_failed"
    clock.offset += 60  # a later code: each step's code is good once
    r = await _sign_in(client, "reg", otp=totp.at(clock.now()))
    assert r.status_code == 200 and r.json()["totp_enabled"] is True
    r = await _sign_in(client, "reg", otp=totp.at(clock.now()))
    assert r.status_code == 401, "the same code twice"
    # A recovery code signs in once.
    assert (await _sign_in(client, "reg", otp=codes[0].lower())).status_code == 200
    assert (await _sign_in(client, "reg", otp=codes[0])).status_code == 401


async def test_wrong_passwords_lock_the_account_and_unknown_names_look_the_same(client: AsyncTestClient,
                                                                                 settings: Settings) -> None:
    await make_account(settings, "reg", "regulator")
    unknown = await _sign_in(client, "nobody", "whatever")
    wrong = await _sign_in(client, "reg", "wrong password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json() and wrong.json()["message"] == "用户名、密码或验证码不对"
    for _ in range(settings.sign_in_lock_after - 1):
        assert (await _sign_in(client, "reg", "wrong password")).status_code == 401
    locked = await _sign_in(client, "reg")  # even the right password, while locked
    assert locked.status_code == 429 and locked.json()["error"] == "account_locked"
    assert int(locked.headers["retry-after"]) > 0 and "锁定" in locked.json()["message"]


async def test_csrf_token_is_needed_for_unsafe_requests(client: AsyncTestClient, settings: Settings) -> None:
    await make_account(settings, "reg", "regulator")
    h = await sign_in(client, "reg")
    no_token = {"cookie": h["cookie"]}
    r = await client.post("/api/admin/outlets", json={"name": "网点"}, headers=no_token)
    assert r.status_code == 403 and r.json()["error"] == "csrf"
    r = await client.post("/api/admin/outlets", json={"name": "网点"}, headers={**h, "x-csrf-token": "forged"})
    assert r.status_code == 403 and r.json()["error"] == "csrf"
    assert (await client.post("/api/admin/outlets", json={"name": "网点"}, headers=h)).status_code == 201
    assert (await client.get("/api/admin/outlets", headers=no_token)).status_code == 200  # reads need no token


async def test_sign_out_and_password_change_end_sessions(client: AsyncTestClient, settings: Settings) -> None:
    await make_account(settings, "reg", "regulator")
    other = await sign_in(client, "reg", two_factor=False)  # a second browser, still before two factors
    h = await sign_in(client, "reg")
    r = await client.post("/api/auth/password", json={"current_password": "nope", "new_password": "x" * 12}, headers=h)
    assert r.status_code == 400 and r.json()["error"] == "bad_password"
    r = await client.post("/api/auth/password", json={"current_password": PASSWORD, "new_password": "short"}, headers=h)
    assert r.status_code == 400 and r.json()["error"] == "weak_password"
    r = await client.post("/api/auth/password", json={"current_password": PASSWORD, "new_password": "a new long password"},
                          headers=h)
    assert r.status_code == 200
    assert (await client.get("/api/auth/me", headers=other)).status_code == 401  # the other session ended
    assert (await client.get("/api/auth/me", headers=h)).status_code == 200
    assert (await client.post("/api/auth/sign-out", headers=h)).status_code == 200
    assert (await client.get("/api/auth/me", headers=h)).status_code == 401
    assert (await _sign_in(client, "reg")).status_code == 401  # old password (and two factors are on)


async def test_accounts_an_agency_admin_manages(client: AsyncTestClient, admin: Admin) -> None:
    a1, a2 = await admin.agency("一号家政"), await admin.agency("二号家政")
    h1 = admin.agencies[a1["id"]]
    made = await client.post("/api/accounts/", json={"username": "a1-staff", "display_name": "小李", "role": "agency_staff",
                                                     "agency_id": a1["id"]}, headers=h1)
    assert made.status_code == 201, made.text
    first = made.json()["initial_password"]
    for body in ({"username": "a2-staff", "display_name": "x", "role": "agency_staff", "agency_id": a2["id"]},
                 {"username": "reg2", "display_name": "x", "role": "regulator"}):
        r = await client.post("/api/accounts/", json=body, headers=h1)
        assert r.status_code == 403, r.text
    names = {a["username"] for a in (await client.get("/api/accounts/", headers=h1)).json()}
    assert "a1-staff" in names and not any(n.startswith("agency-admin-" + str(a2["id"])) for n in names)
    r = await _sign_in(client, "a1-staff", first)
    assert r.status_code == 200 and r.json()["must_change_password"] is True and r.json()["agency_name"] == "一号家政"
    account_id = made.json()["account"]["id"]
    assert (await client.post(f"/api/accounts/{account_id}/disable", headers=h1)).status_code == 200
    assert (await _sign_in(client, "a1-staff", first)).status_code == 401
    h2 = admin.agencies[a2["id"]]
    assert (await client.post(f"/api/accounts/{account_id}/reset", headers=h2)).status_code == 404
    reset = await client.post(f"/api/accounts/{account_id}/reset", headers=h1)
    assert reset.status_code == 200 and (await _sign_in(client, "a1-staff", reset.json()["initial_password"])).status_code == 200


async def test_cookie_is_secure_outside_development(settings: Settings) -> None:
    import dataclasses

    from litestar.testing import AsyncTestClient as Client

    from server.app import create_app

    await make_account(settings, "reg", "regulator")
    app = create_app(dataclasses.replace(settings, cookie_secure=True))
    async with Client(app=app) as c:
        r = await c.post("/api/auth/sign-in", json={"username": "reg", "password": PASSWORD})
    assert r.status_code == 200 and "; secure" in r.headers["set-cookie"].lower()
    assert Settings(host="0.0.0.0").secure_cookies is True and Settings(host="127.0.0.1").secure_cookies is False


async def test_sessions_slide_while_used_and_end_when_idle_or_old(client: AsyncTestClient, settings: Settings,
                                                                  clock: Clock) -> None:
    await make_account(settings, "reg", "regulator")
    h = await sign_in(client, "reg")
    for _ in range(settings.session_max_seconds // (settings.session_idle_seconds // 2)):
        clock.offset += settings.session_idle_seconds // 2  # used every half idle period: stays signed in ...
        if clock.offset >= settings.session_max_seconds:
            break
        assert (await client.get("/api/auth/me", headers=h)).status_code == 200, clock.offset
    clock.offset = settings.session_max_seconds + 1  # ... until its maximum age
    assert (await client.get("/api/auth/me", headers=h)).status_code == 401
    await make_account(settings, "reg2", "regulator")
    h = await sign_in(client, "reg2")
    assert (await client.get("/api/auth/me", headers=h)).status_code == 200
    clock.offset += settings.session_idle_seconds + 1  # left alone longer than the idle time
    assert (await client.get("/api/auth/me", headers=h)).status_code == 401
