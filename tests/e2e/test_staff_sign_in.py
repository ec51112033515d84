"""Staff sign-in in real Chromium: password, two factors set up from the page, recovery codes, a new password.

Screenshots of /signin and /account at 360 and 1280 px wide go to `test-results/e2e/` (or $DOORPASS_E2E_ARTEFACTS).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pyotp
import zxingcpp
from PIL import Image

from tests.served import ROOT, next_step

ARTEFACTS = Path(os.environ.get("DOORPASS_E2E_ARTEFACTS", ROOT / "test-results" / "e2e"))
FIRST_PASSWORD = "my-first-own-password"
NEW_PASSWORD = "a-new-password-2024"


def _account(server, role: str) -> dict:  # type: ignore[no-untyped-def]
    accounts = server.seeds[-1]["accounts"]  # each seed-demo run (other tests make them) gives new passwords
    return next(a for a in accounts if a["role"] == role)


class Authenticator:
    """The person's authenticator app: each code once, as the server takes each 30 s step only once."""

    def __init__(self, secret: str) -> None:
        self.totp = pyotp.TOTP(secret)
        self.last = 0

    def code(self) -> str:
        self.last = next_step(self.last)
        return self.totp.at(self.last * 30)


def _shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Full-page screenshots at phone and desktop width; the page is left at phone width."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 740 if width == 360 else 800})
        page.wait_for_timeout(150)
        page.screenshot(path=str(ARTEFACTS / f"staff-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})


def _sign_in(page, base: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/signin")
    page.fill("[data-testid=signin-username]", username)
    page.fill("[data-testid=signin-password]", password)
    page.click("[data-testid=signin-submit]")


def _second_factor(page, code: str, recovery: bool = False) -> None:  # type: ignore[no-untyped-def]
    if recovery:
        page.click("[data-testid=signin-toggle-recovery]")
        page.fill("[data-testid=signin-recovery]", code)
    else:
        page.fill("[data-testid=signin-otp]", code)
    page.click("[data-testid=signin-submit]")


def _sign_out(page) -> None:  # type: ignore[no-untyped-def]
    page.click("[data-testid=signout]")
    page.wait_for_url("**/signin")
    page.wait_for_selector("[data-testid=signin-username]")


def _touch_targets_ok(page) -> None:  # type: ignore[no-untyped-def]
    """Every visible button, link-button and input in the page's main part is at least 48 px tall."""
    small = page.evaluate("""[...document.querySelectorAll('main button, main input, main a.button')]
      .filter(e => e.offsetParent !== null && e.type !== 'hidden')
      .map(e => [e.dataset.testid || e.textContent, e.getBoundingClientRect().height])
      .filter(([, h]) => h < 48)""")
    assert small == [], small


def test_agency_admin_sets_up_two_factors_changes_password_and_spends_a_recovery_code(server, launch) -> None:  # type: ignore[no-untyped-def]
    admin = _account(server, "agency_admin")
    page = launch().new_page()

    # The home page leads staff to sign-in.
    page.goto(server.base + "/")
    page.click("[data-testid=go-signin]")
    page.wait_for_selector("h1:has-text('工作人员登录')")
    _touch_targets_ok(page)
    _shoot(page, "signin")

    # Password only. A handed-out first password is replaced first; then, as two factors are not set up yet,
    # the account page leads there.
    page.fill("[data-testid=signin-username]", admin["username"])
    page.fill("[data-testid=signin-password]", admin["password"])
    page.click("[data-testid=signin-submit]")
    page.wait_for_url("**/account")
    assert page.inner_text("[data-testid=who-role]") == "家政企业管理员"
    assert page.inner_text("[data-testid=who-where]").strip()
    page.wait_for_selector("[data-testid=password], [data-testid=totp]")
    password = admin["password"]
    if page.locator("[data-testid=password]").count():
        assert "请先设置新密码" in page.inner_text("[data-testid=password] h2")
        _shoot(page, "account-first-password")
        page.fill("[data-testid=pw-current]", password)
        page.fill("[data-testid=pw-new]", FIRST_PASSWORD)
        page.fill("[data-testid=pw-again]", FIRST_PASSWORD)
        page.click("[data-testid=pw-submit]")
        page.wait_for_selector("[data-testid=pw-done]")
        password = FIRST_PASSWORD
    page.wait_for_selector("[data-testid=totp] >> text=两步验证")
    _shoot(page, "account-totp-start")
    page.click("[data-testid=totp-start]")
    page.wait_for_selector("[data-testid=totp-qr]")
    page.wait_for_function("() => document.querySelector('[data-testid=totp-qr]').naturalWidth > 0")
    _touch_targets_ok(page)
    _shoot(page, "account-setup")
    secret = page.inner_text("[data-testid=totp-secret]").replace(" ", "")
    # What an authenticator app scanning the screen would read: this account's otpauth URI with the typed secret.
    found = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(page.locator("[data-testid=totp-qr]").screenshot())).convert("L")
    )
    assert found and found[0].text.startswith("otpauth://totp/"), found
    assert f"secret={secret}" in found[0].text and admin["username"] in found[0].text
    app = Authenticator(secret)
    page.fill("[data-testid=totp-code]", "000000" if app.totp.now() != "000000" else "111111")
    page.click("[data-testid=totp-confirm]")
    page.wait_for_selector("[data-testid=totp-error]")  # a wrong code is refused, in Chinese
    assert "验证码" in page.inner_text("[data-testid=totp-error]")
    page.fill("[data-testid=totp-code]", app.code())
    page.click("[data-testid=totp-confirm]")
    page.wait_for_selector("[data-testid=recovery-codes]")
    codes = [c.strip() for c in page.locator("[data-testid=recovery-codes] li").all_inner_texts()]
    assert len(codes) >= 5 and all(len(c) == 9 and c[4] == "-" for c in codes), codes
    assert page.locator("[data-testid=signout]").count() == 0  # first the codes are acknowledged
    _shoot(page, "account-codes")
    page.click("[data-testid=codes-done]")
    page.wait_for_selector("[data-testid=totp-on]")
    _touch_targets_ok(page)
    _shoot(page, "account")
    _sign_out(page)

    # Password and authenticator code: a wrong code is refused, the right one signs in.
    page.fill("[data-testid=signin-username]", admin["username"])
    page.fill("[data-testid=signin-password]", password)
    page.click("[data-testid=signin-submit]")
    page.wait_for_selector("[data-testid=signin-otp]")
    _shoot(page, "signin-otp")
    _second_factor(page, "000000" if app.totp.now() != "000000" else "111111")
    page.wait_for_selector("[data-testid=signin-error]")
    assert "验证码" in page.inner_text("[data-testid=signin-error]")
    _second_factor(page, app.code())
    page.wait_for_url("**/account")
    page.wait_for_selector("[data-testid=totp-on]")

    # Change the password: a wrong current password is refused, then the change goes through.
    page.fill("[data-testid=pw-current]", "not-the-password")
    page.fill("[data-testid=pw-new]", NEW_PASSWORD)
    page.fill("[data-testid=pw-again]", NEW_PASSWORD)
    page.click("[data-testid=pw-submit]")
    page.wait_for_selector("[data-testid=pw-error]")
    page.fill("[data-testid=pw-current]", password)
    page.fill("[data-testid=pw-new]", NEW_PASSWORD)
    page.fill("[data-testid=pw-again]", NEW_PASSWORD)
    page.click("[data-testid=pw-submit]")
    page.wait_for_selector("[data-testid=pw-done]")
    _sign_out(page)

    # The old password is refused (in English once the person switches language); the new one works.
    page.click(".bar-lang")
    page.fill("[data-testid=signin-username]", admin["username"])
    page.fill("[data-testid=signin-password]", password)
    page.click("[data-testid=signin-submit]")
    page.wait_for_selector("[data-testid=signin-error]")
    assert "Wrong" in page.inner_text("[data-testid=signin-error]")
    assert page.locator("[data-testid=signin-otp]").count() == 0
    page.click(".bar-lang")
    page.fill("[data-testid=signin-password]", NEW_PASSWORD)
    page.click("[data-testid=signin-submit]")
    page.wait_for_selector("[data-testid=signin-otp]")
    _second_factor(page, codes[0], recovery=True)
    page.wait_for_url("**/account")
    page.wait_for_selector("[data-testid=totp-on]")
    _sign_out(page)

    # A recovery code signs in once, not twice.
    _sign_in(page, server.base, admin["username"], NEW_PASSWORD)
    page.wait_for_selector("[data-testid=signin-otp]")
    _second_factor(page, codes[0], recovery=True)
    page.wait_for_selector("[data-testid=signin-error]")
    assert page.url.endswith("/signin")

    # Back to the authenticator; then new recovery codes, shown once.
    page.click("[data-testid=signin-toggle-recovery]")
    _second_factor(page, app.code())
    page.wait_for_url("**/account")
    page.fill("[data-testid=new-codes-otp]", app.code())
    page.click("[data-testid=new-codes-submit]")
    page.wait_for_selector("[data-testid=recovery-codes]")
    fresh = [c.strip() for c in page.locator("[data-testid=recovery-codes] li").all_inner_texts()]
    assert fresh and not set(fresh) & set(codes)
    page.click("[data-testid=codes-done]")

    # A reload keeps the session (the cookie) and fetches a new CSRF token from /api/auth/me; sign-out still works.
    page.reload()
    page.wait_for_selector("[data-testid=totp-on]")
    _sign_out(page)
    page.goto(server.base + "/account")
    page.wait_for_url("**/signin")


def test_too_many_wrong_passwords_say_how_long_to_wait(server, launch) -> None:  # type: ignore[no-untyped-def]
    staff = _account(server, "outlet_staff")
    page = launch().new_page()
    page.goto(server.base + "/signin")
    page.fill("[data-testid=signin-username]", staff["username"])
    for _ in range(12):
        page.fill("[data-testid=signin-password]", "wrong password")
        with page.expect_response("**/api/auth/sign-in") as answer:
            page.click("[data-testid=signin-submit]")
        if answer.value.status == 429:
            break
        assert answer.value.status == 401
        page.wait_for_selector("[data-testid=signin-submit]:not([disabled])")
    blocked = page.inner_text("[data-testid=signin-blocked]")
    assert "后再试" in blocked and ("分钟" in blocked or "秒" in blocked), blocked
    assert page.locator("[data-testid=signin-submit]").is_disabled()
    _shoot(page, "signin-locked")
