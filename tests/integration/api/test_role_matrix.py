"""Every route × every role, against the matrix written once in docs/roles.md.

Each cell is a fresh, valid request aimed at agency A's (or outlet O's) objects, made as that column's party;
the answer must be what the matrix says: ✓ a 2xx, or the exact status. A route of the app missing from the
matrix, or a matrix row no route answers, fails too.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pyotp
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

import crypto
from server.settings import Settings
from tests.conftest import ROOT
from tests.integration.conftest import PASSWORD, Admin, Phone, enroll, make_account
from tests.records import Device
from tests.sync_client import VERSIONS

DOC = ROOT / "docs" / "roles.md"
NOT_API = re.compile(r"^/($|\{path\}|schema)")


def read_matrix() -> tuple[list[str], dict[str, dict[str, str]]]:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- role-matrix:start -->")[1].split("<!-- role-matrix:end -->")[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in block.strip().splitlines()]
    header, body = rows[0], rows[2:]
    columns = header[1:]
    return columns, {r[0]: dict(zip(columns, r[1:], strict=True)) for r in body}


COLUMNS, MATRIX = read_matrix()


def app_routes(app: Litestar) -> set[str]:
    """'METHOD /path' for every API route (path converters like `:int` dropped)."""
    found = set()
    for route in app.routes:
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        if NOT_API.match(path):
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in getattr(handler, "http_methods", []):
                if method not in ("HEAD", "OPTIONS"):
                    found.add(f"{method} {path.rstrip('/') or '/'}")
    return found


@dataclass
class World:
    """Agencies A and B, outlets O and P, an account for every column, and a way to make fresh targets in A / O."""

    c: AsyncTestClient
    settings: Settings
    admin: Admin
    a: int = 0
    b: int = 0
    o: int = 0
    p: int = 0
    heads: dict[str, dict[str, str]] = field(default_factory=dict)
    phone: Phone | None = None
    serial_seq: int = 0

    async def call(self, column: str, method: str, url: str, **kw: object):  # type: ignore[no-untyped-def]
        r = await self.c.request(method, url, headers={**self.heads[column], **kw.pop("headers", {})}, **kw)  # type: ignore[arg-type]
        self.c.cookies.clear()  # a sign-in answers a cookie: keep the jar empty so every column is itself
        return r

    async def as_a(self, method: str, url: str, body: dict | None = None) -> dict:
        r = await self.call("agency admin", method, url, json=body if body is not None else {})
        assert r.status_code in (200, 201), (url, r.text)
        return r.json()  # type: ignore[no-any-return]

    async def worker(self) -> int:
        return (await self.as_a("POST", "/api/admin/workers", {"agency_id": self.a, "name": "王阿姨", "services": ["cleaning"]}))["id"]

    async def issued(self) -> dict:
        return await self.as_a("POST", f"/api/admin/workers/{await self.worker()}/passes")

    async def enrolled(self) -> int:
        """A pass of agency A bound to a phone."""
        phone = await enroll(self.c, (await self.issued())["code"])
        return phone.serial

    async def suspended(self) -> int:
        serial = (await self.issued())["serial"]
        await self.as_a("POST", f"/api/admin/passes/{serial}/suspend", {"reason": "调查中"})
        return serial  # type: ignore[no-any-return]

    async def account_in_a(self) -> int:
        body = {"username": f"t{time.monotonic_ns()}", "display_name": "目标", "role": "agency_staff", "agency_id": self.a}
        return (await self.as_a("POST", "/api/accounts/", body))["account"]["id"]  # type: ignore[no-any-return]

    async def fresh(self, column: str, *, two_factor: bool = False) -> tuple[dict[str, str], str | None]:
        """A new session of an account like the column's (so signing out or changing a password spares the column's own)."""
        if column == "phone":
            return {}, None
        me = (await self.call(column, "GET", "/api/auth/me")).json()
        name = f"f{time.monotonic_ns()}"
        await make_account(self.settings, name, me["role"], agency_id=me["agency_id"], outlet_id=me["outlet_id"])
        r = await self.c.post("/api/auth/sign-in", json={"username": name, "password": PASSWORD})
        self.c.cookies.clear()
        h = {"cookie": f"dp_session={r.cookies['dp_session']}", "x-csrf-token": r.json()["csrf_token"]}
        secret = None
        if two_factor:
            secret = (await self.c.post("/api/auth/totp/setup", headers=h)).json()["secret"]
            assert (await self.c.post("/api/auth/totp/confirm", json={"code": pyotp.TOTP(secret).now()}, headers=h)).status_code == 200
        return h, secret

    async def training_session(self) -> str:
        return (await self.session_record())["session_id"]  # type: ignore[no-any-return]

    async def session_record(self) -> dict:
        """A training session of outlet O, pushed by a phone tied to O: the record."""
        device = await self.admin.outlet_phone(self.o)
        rec = device.record("session", session_id=str(__import__("uuid").uuid4()), outlet_id=self.o, course="家政培训",
                            day="2026-11-24")
        r = await device.push(self.c, [rec])
        assert r.status_code == 200 and r.json()["receipts"][0]["status"] == "applied", r.text
        return rec

    async def record_id(self) -> str:
        return (await self.session_record())["id"]  # type: ignore[no-any-return]


Request = tuple[str, str, dict]
Builder = Callable[[World, str], Awaitable[Request]]


async def _verify(w: World, col: str) -> Request:
    assert w.phone is not None
    return "POST", "/api/verify", {"json": {"qr": w.phone.live(int(time.time()))}}


async def _verify_code(w: World, col: str) -> Request:
    assert w.phone is not None
    code = pyotp.TOTP(w.phone.secret).now()
    return "POST", "/api/verify/code", {"json": {"serial": w.phone.serial, "code": code}}


async def _enroll(w: World, col: str) -> Request:
    code = (await w.issued())["code"]
    return "POST", "/api/enroll", {"json": {"code": code, "device_pub": crypto.b64u_encode(crypto.public_key(crypto.new_signing_key()))}}


async def _register_device(w: World, col: str) -> Request:
    return "POST", "/api/sync/devices", {"json": {"device_pub": crypto.b64u_encode(crypto.public_key(crypto.new_signing_key()))}}


async def _signed_push(w: World, col: str) -> Request:
    """A phone's push is proved by its device key whoever else the caller is (docs/devices.md)."""
    device = Device()
    await device.register(w.c)
    body, headers = device.push_request({"device_id": device.id, "records": [], **VERSIONS})
    return "POST", "/api/sync/push", {"content": body, "headers": headers}


async def _signed_pull(w: World, col: str) -> Request:
    device = Device()
    await device.register(w.c)
    target = device.pull_target()
    return "GET", target, {"headers": device.signed("GET", target)}


def _signed_about_itself(path: str) -> Builder:
    """A request a phone signs about itself (`{"device_id": …}`); the column's session cookie and CSRF ride along."""

    async def build(w: World, col: str) -> Request:
        device = Device()
        await device.register(w.c)
        body = json.dumps({"device_id": device.id}).encode()
        return "POST", path, {"content": body, "headers": {"content-type": "application/json", **device.signed("POST", path, body)}}

    return build


async def _setup(w: World, col: str) -> Request:
    h, _ = await w.fresh(col)
    return "POST", "/api/auth/totp/setup", {"headers": h}


async def _confirm(w: World, col: str) -> Request:
    h, _ = await w.fresh(col)
    if not h:
        return "POST", "/api/auth/totp/confirm", {"json": {"code": "123456"}}
    secret = (await w.c.post("/api/auth/totp/setup", headers=h)).json()["secret"]
    return "POST", "/api/auth/totp/confirm", {"headers": h, "json": {"code": pyotp.TOTP(secret).now()}}


async def _recovery(w: World, col: str) -> Request:
    h, secret = await w.fresh(col, two_factor=True)
    code = pyotp.TOTP(secret).at(int(time.time()) + 30) if secret else "123456"  # the next step: each code is good once
    return "POST", "/api/auth/recovery-codes", {"headers": h, "json": {"code": code}}


async def _password(w: World, col: str) -> Request:
    h, _ = await w.fresh(col)
    return "POST", "/api/auth/password", {"headers": h, "json": {"current_password": PASSWORD, "new_password": "another long one"}}


async def _sign_out(w: World, col: str) -> Request:
    h, _ = await w.fresh(col)
    return "POST", "/api/auth/sign-out", {"headers": h}


async def _sign_in(w: World, col: str) -> Request:
    name = f"s{time.monotonic_ns()}"
    await make_account(w.settings, name, "regulator")
    return "POST", "/api/auth/sign-in", {"json": {"username": name, "password": PASSWORD}}


def _simple(method: str, url: str | Callable[[World], str], body: dict | None = None) -> Builder:
    async def build(w: World, col: str) -> Request:
        return method, url(w) if callable(url) else url, ({"json": body} if body is not None else {})
    return build


def _on(method: str, make: Callable[[World], Awaitable[object]], url: str, body: Callable[[World], dict] | None = None) -> Builder:
    """A request about a fresh target in agency A (or outlet O): `url` is formatted with it as `t`."""
    async def build(w: World, col: str) -> Request:
        t = await make(w)
        return method, url.format(t=t, w=w), ({"json": body(w)} if body else {"json": {}} if method == "POST" else {})
    return build


async def _worker_then(w: World) -> int:
    return await w.worker()


async def _serial(w: World) -> int:
    return (await w.issued())["serial"]  # type: ignore[no-any-return]


async def _phone_serial(w: World) -> int:
    assert w.phone is not None
    return w.phone.serial


async def _same(w: World) -> int:
    return 0


BUILDERS: dict[str, Builder] = {
    "GET /api/health": _simple("GET", "/api/health"),
    "GET /api/time": _simple("GET", "/api/time"),
    "GET /api/root": _simple("GET", "/api/root"),
    "GET /api/trust": _simple("GET", "/api/trust"),
    "GET /api/status": _simple("GET", "/api/status"),
    "POST /api/enroll": _enroll,
    "POST /api/verify": _verify,
    "POST /api/verify/code": _verify_code,
    "GET /api/passes/{serial}/photo": _on("GET", _phone_serial, "/api/passes/{t}/photo"),
    "GET /api/passes/{serial}/rating": _on("GET", _phone_serial, "/api/passes/{t}/rating"),
    "GET /api/directory": _simple("GET", "/api/directory"),
    "POST /api/sync/devices": _register_device,
    "POST /api/sync/push": _signed_push,
    "GET /api/sync/pull": _signed_pull,
    "POST /api/sync/devices/outlet": _signed_about_itself("/api/sync/devices/outlet"),
    "POST /api/sync/devices/outlet/unbind": _signed_about_itself("/api/sync/devices/outlet/unbind"),
    "GET /api/admin/records/{record_id}/proof": _on("GET", World.record_id, "/api/admin/records/{t}/proof"),
    "POST /api/auth/sign-in": _sign_in,
    "GET /api/auth/me": _simple("GET", "/api/auth/me"),
    "POST /api/auth/sign-out": _sign_out,
    "POST /api/auth/totp/setup": _setup,
    "POST /api/auth/totp/confirm": _confirm,
    "POST /api/auth/recovery-codes": _recovery,
    "POST /api/auth/password": _password,
    "POST /api/accounts": _on("POST", _same, "/api/accounts/", lambda w: {
        "username": f"n{time.monotonic_ns()}", "display_name": "新同事", "role": "agency_staff", "agency_id": w.a}),
    "GET /api/accounts": _simple("GET", "/api/accounts/"),
    "POST /api/accounts/{account_id}/disable": _on("POST", World.account_in_a, "/api/accounts/{t}/disable"),
    "POST /api/accounts/{account_id}/reset": _on("POST", World.account_in_a, "/api/accounts/{t}/reset"),
    "POST /api/admin/agencies": _simple("POST", "/api/admin/agencies", {"name": "新家政公司"}),
    "GET /api/admin/agencies": _simple("GET", "/api/admin/agencies"),
    "POST /api/admin/agencies/{agency_id}/rotate-key": _on("POST", _same, "/api/admin/agencies/{w.a}/rotate-key"),
    "POST /api/admin/outlets": _simple("POST", "/api/admin/outlets", {"name": "新网点"}),
    "GET /api/admin/outlets": _simple("GET", "/api/admin/outlets"),
    "POST /api/admin/workers": _on("POST", _same, "/api/admin/workers", lambda w: {"agency_id": w.a, "name": "李阿姨"}),
    "GET /api/admin/workers/{worker_id}": _on("GET", _worker_then, "/api/admin/workers/{t}"),
    "POST /api/admin/workers/{worker_id}/trainings": _on(
        "POST", _worker_then, "/api/admin/workers/{t}/trainings", lambda w: {"course": "母婴护理", "day": "2026-10-01"}),
    "POST /api/admin/workers/{worker_id}/passes": _on("POST", _worker_then, "/api/admin/workers/{t}/passes"),
    "POST /api/admin/passes/{serial}/activation": _on("POST", _serial, "/api/admin/passes/{t}/activation"),
    "POST /api/admin/passes/{serial}/unbind": _on("POST", World.enrolled, "/api/admin/passes/{t}/unbind", lambda w: {"reason": "手机丢失"}),
    "GET /api/admin/passes/{serial}": _on("GET", _serial, "/api/admin/passes/{t}"),
    "POST /api/admin/passes/{serial}/status": _on(
        "POST", _serial, "/api/admin/passes/{t}/status", lambda w: {"status": "caution", "reason": "体检即将到期"}),
    "POST /api/admin/passes/{serial}/suspend": _on("POST", _serial, "/api/admin/passes/{t}/suspend", lambda w: {"reason": "调查"}),
    "POST /api/admin/passes/{serial}/reinstate": _on("POST", World.suspended, "/api/admin/passes/{t}/reinstate"),
    "POST /api/admin/passes/{serial}/revoke": _on("POST", _serial, "/api/admin/passes/{t}/revoke", lambda w: {"reason": "离职"}),
    "GET /api/admin/passes/{serial}/reviews": _on("GET", _phone_serial, "/api/admin/passes/{t}/reviews"),
    "GET /api/admin/complaints": _simple("GET", "/api/admin/complaints"),
    "GET /api/admin/training/sessions/{session_id}/attendance.csv": _on(
        "GET", World.training_session, "/api/admin/training/sessions/{t}/attendance.csv"),
}


@pytest.fixture
async def world(client: AsyncTestClient, settings: Settings, admin: Admin) -> World:
    w = World(client, settings, admin)
    reg = await admin.as_regulator()
    w.heads["phone"], w.heads["regulator"] = {}, reg
    w.a, w.b = (await admin.agency("甲家政"))["id"], (await admin.agency("乙家政"))["id"]
    w.o, w.p = (await admin.post("/api/admin/outlets", {"name": "甲网点"}))["id"], (await admin.post("/api/admin/outlets", {"name": "乙网点"}))["id"]
    w.heads["agency admin"], w.heads["agency admin (other)"] = admin.agencies[w.a], admin.agencies[w.b]
    w.heads["agency staff"] = await admin.staff("agency_staff", agency_id=w.a)
    w.heads["agency staff (other)"] = await admin.staff("agency_staff", agency_id=w.b)
    w.heads["outlet staff"] = await admin.staff("outlet_staff", outlet_id=w.o)
    w.heads["outlet staff (other)"] = await admin.staff("outlet_staff", outlet_id=w.p)
    assert set(w.heads) == set(COLUMNS)
    w.phone = await enroll(client, (await w.issued())["code"])
    return w


def test_every_route_is_in_the_matrix(client: AsyncTestClient) -> None:
    routes = app_routes(client.app)
    assert routes - set(MATRIX) == set(), "routes missing from docs/roles.md"
    assert set(MATRIX) - routes == set(), "matrix rows no route answers"
    assert set(BUILDERS) == set(MATRIX), "every matrix row needs a request in this test"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the matrix does not depend on the database
async def test_every_route_as_every_role(world: World) -> None:
    wrong = []
    for route, cells in MATRIX.items():
        for column in COLUMNS:
            method, url, kw = await BUILDERS[route](world, column)
            r = await world.call(column, method, url, **kw)
            want = cells[column]
            ok = 200 <= r.status_code < 300 if want == "✓" else r.status_code == int(want)
            if not ok:
                wrong.append(f"{route} as {column}: {r.status_code} {r.text[:120]}, matrix says {want}")
            elif r.status_code >= 400:
                body = r.json()
                assert body["message"] and body["message_en"], (route, column, body)
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_lists_show_an_agency_only_its_own(world: World) -> None:
    for column in ("agency admin (other)", "agency staff (other)"):
        agencies = (await world.call(column, "GET", "/api/admin/agencies")).json()
        assert [a["id"] for a in agencies] == [world.b], column
        complaints = (await world.call(column, "GET", "/api/admin/complaints")).json()
        assert all(c["agency_id"] == world.b for c in complaints)
        r = await world.call(column, "GET", f"/api/admin/complaints?agency_id={world.a}")
        assert r.status_code == 404, column
    accounts = (await world.call("agency admin (other)", "GET", "/api/accounts/")).json()
    assert accounts and all(a["agency_id"] == world.b for a in accounts)
    everyone = (await world.call("regulator", "GET", "/api/accounts/")).json()
    assert {a["agency_id"] for a in everyone} >= {world.a, world.b, None}
