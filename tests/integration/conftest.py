"""An app on a fresh database, staff signed in with two factors, and a phone that can enroll and show live frames."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import pyotp
import pytest
from litestar.testing import AsyncTestClient

import crypto
from server.app import create_app
from server.clock import Clock
from server.db.engine import Database
from server.domain.lists.services import ensure_platform_keys
from server.settings import Settings
from tests.records import Device, uuid7

ADMIN: dict[str, str] = {}
"""Headers of the agency admin `Admin` signed in last (session cookie and CSRF token); empty until then."""
PASSWORD = "correct horse battery"


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def platform_keys(s: Settings) -> None:
    """The root, status and first keys on a migrated database, as `python -m server init` makes them."""
    from server.keyfiles import load_keyring

    db = Database(s.database_url)
    try:
        async with db.transaction() as session:
            await ensure_platform_keys(session, load_keyring(s.master_key, s.var_dir), now=Clock().now(),
                                       status_size=s.status_list_size)
    finally:
        await db.dispose()


@pytest.fixture
async def settings(database_url: str, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    s = Settings(database_url=database_url, var_dir=tmp_path, pwa_dist=tmp_path / "no-dist")
    await platform_keys(s)
    return s


@pytest.fixture
async def client(settings: Settings, clock: Clock):  # type: ignore[no-untyped-def]
    app = create_app(settings, clock=clock)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as c:
        yield c


@dataclass
class Phone:
    """A worker's phone after enrollment: its device key and what the server gave it."""

    device_priv: bytes
    serial: int
    cred: bytes
    issuer_sig: bytes
    secret: str

    def live(self, now: int) -> str:
        return crypto.make_live_qr(self.cred, self.issuer_sig, self.secret, self.device_priv, now)

    @property
    def device(self) -> Device:
        """The phone as a sync device: its device key is the pass's (docs/devices.md)."""
        if "_device" not in self.__dict__:
            self.__dict__["_device"] = Device(self.device_priv)
        return self.__dict__["_device"]

    def card(self) -> str:
        return crypto.make_card(self.cred, self.issuer_sig)


async def make_account(settings: Settings, username: str, role: str, *, agency_id: int | None = None,
                       outlet_id: int | None = None) -> None:
    """A staff account with `PASSWORD`, straight in the database (as `create-regulator` makes the first one)."""
    from server.auth import Role
    from server.domain.accounts.services import ensure_account, hash_password

    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            account, _ = await ensure_account(session, username=username, display_name=username, role=Role(role),
                                              now=Clock().now(), by="test", agency_id=agency_id, outlet_id=outlet_id)
            account.password_hash = await hash_password(PASSWORD)
            account.must_change_password = False
    finally:
        await db.dispose()


async def sign_in(client: AsyncTestClient, username: str, *, two_factor: bool = True) -> dict[str, str]:
    """Sign in with `PASSWORD`, set up the authenticator (answering its first code), and return the headers that
    carry this session: its cookie and CSRF token. The client's own cookie jar is left empty, so phones' requests
    made through the same client stay anonymous."""
    r = await client.post("/api/auth/sign-in", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    headers = {"cookie": f"dp_session={r.cookies['dp_session']}", "x-csrf-token": r.json()["csrf_token"]}
    client.cookies.clear()
    if two_factor:
        setup = await client.post("/api/auth/totp/setup", headers=headers)
        assert setup.status_code == 200, setup.text
        code = pyotp.TOTP(setup.json()["secret"]).at(client.app.state.clock.now())  # the app's clock, which tests move
        confirm = await client.post("/api/auth/totp/confirm", json={"code": code}, headers=headers)
        assert confirm.status_code == 200, confirm.text
    return headers


NAMES = itertools.count(1)
"""Staff account names are unique within a test run (a reused name would find an account set up already)."""


class Admin:
    """Drives the staff API the way the regulator and an agency would: the regulator registers agencies and
    outlets; each new agency gets an admin account, signed in with two factors, who acts for it from then on."""

    def __init__(self, client: AsyncTestClient, settings: Settings) -> None:
        self.c = client
        self.settings = settings
        self.regulator: dict[str, str] = {}
        self.agencies: dict[int, dict[str, str]] = {}
        self.workers: dict[int, int] = {}

    async def as_regulator(self) -> dict[str, str]:
        if not self.regulator:
            await make_account(self.settings, "regulator", "regulator")
            self.regulator = await sign_in(self.c, "regulator")
        return self.regulator

    async def staff(self, role: str, *, agency_id: int | None = None, outlet_id: int | None = None) -> dict[str, str]:
        """A new account of `role`, signed in with two factors: its headers."""
        name = f"{role.replace('_', '-')}-{agency_id or outlet_id or 0}-{next(NAMES)}"
        await make_account(self.settings, name, role, agency_id=agency_id, outlet_id=outlet_id)
        return await sign_in(self.c, name)

    async def outlet(self, name: str = "长寿路社区家政服务网点") -> int:
        """A new outlet (registered by the regulator): its id."""
        return (await self.post("/api/admin/outlets", {"name": name}))["id"]

    async def outlet_phone(self, outlet_id: int, device: Device | None = None) -> Device:
        """A phone tied to `outlet_id` by an outlet staff account signed in on it (docs/devices.md)."""
        device = device or Device()
        staff = await self.staff("outlet_staff", outlet_id=outlet_id)
        await device.register(self.c)
        body = json.dumps({"device_id": device.id}).encode()
        headers = {"content-type": "application/json", **staff,
                   **device.signed("POST", "/api/sync/devices/outlet", body, at=Device.now_of(self.c))}
        r = await self.c.post("/api/sync/devices/outlet", content=body, headers=headers)
        assert r.status_code == 200 and r.json()["outlet_id"] == outlet_id, r.text
        return device

    async def post(self, path: str, body: dict | None = None, expect: int = 201) -> dict:
        """As the regulator for registering agencies and outlets; otherwise as the last agency's admin."""
        regulator = path in ("/api/admin/agencies", "/api/admin/outlets")
        headers = await self.as_regulator() if regulator else ADMIN
        r = await self.c.post(path, json=body or {}, headers=headers)
        assert r.status_code == expect, r.text
        return r.json()

    async def agency(self, name: str = "安心家政服务有限公司") -> dict:
        agency = await self.post("/api/admin/agencies", {"name": name, "city": "上海"})
        self.agencies[agency["id"]] = await self.staff("agency_admin", agency_id=agency["id"])
        ADMIN.clear()
        ADMIN.update(self.agencies[agency["id"]])
        return agency

    async def worker(self, agency_id: int, name: str = "王阿姨", **extra: object) -> dict:
        body = {"agency_id": agency_id, "name": name, "phone": "13800000001", "id_number": "110101199001011234",
                "services": ["cleaning", "elderly"], "health_check_until": "2099-01-01", **extra}
        r = await self.c.post("/api/admin/workers", json=body, headers=self.agencies.get(agency_id, ADMIN))
        assert r.status_code == 201, r.text
        self.workers[r.json()["id"]] = agency_id
        return r.json()

    async def issue(self, worker_id: int) -> dict:
        r = await self.c.post(f"/api/admin/workers/{worker_id}/passes", json={},
                              headers=self.agencies.get(self.workers.get(worker_id, 0), ADMIN))
        assert r.status_code == 201, r.text
        return r.json()

    async def enrolled_phone(self, name: str = "王阿姨") -> Phone:
        agency = await self.agency()
        worker = await self.worker(agency["id"], name)
        act = await self.issue(worker["id"])
        return await enroll(self.c, act["code"])


async def enroll(client: AsyncTestClient, code: str, device_priv: bytes | None = None) -> Phone:
    device_priv = device_priv or crypto.new_signing_key()
    r = await client.post("/api/enroll", json={"code": code, "device_pub": crypto.b64u_encode(crypto.public_key(device_priv))})
    assert r.status_code == 200, r.text
    body = r.json()
    return Phone(device_priv, body["serial"], crypto.b64u_decode(body["cred"]), crypto.b64u_decode(body["issuer_sig"]), body["secret"])


def checkin(phone: Phone, household: Device, *, at: int, visit_id: str | None = None, code_at: int | None = None,
            **fields: object) -> dict:
    """A check-in record made on the worker's own phone, carrying `household`'s signed visit code (made at `code_at`,
    default `at`): what the worker's phone pushes after scanning the household's code."""
    visit_id = visit_id or uuid7()
    record = phone.device.record("checkin", visit_id=visit_id, serial=phone.serial,
                                 visit_code=household.visit_code(visit_id, phone.serial, at if code_at is None else code_at),
                                 service="cleaning")
    return {**record, "at": at, **fields}


@pytest.fixture
def admin(client: AsyncTestClient, settings: Settings) -> Admin:
    ADMIN.clear()
    return Admin(client, settings)
