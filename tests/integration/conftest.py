"""An app on a fresh database, an admin, and a phone that can enroll and show live frames."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from litestar.testing import AsyncTestClient

import crypto
from server.app import create_app
from server.clock import Clock
from server.db.engine import Database
from server.domain.lists.services import ensure_platform_keys
from server.settings import Settings

ADMIN = {"Authorization": "Bearer test-admin-token"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def settings(database_url: str, tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    s = Settings(database_url=database_url, var_dir=tmp_path, pwa_dist=tmp_path / "no-dist")
    from server.keyfiles import load_master_key

    db = Database(database_url)
    try:
        async with db.transaction() as session:
            await ensure_platform_keys(session, load_master_key(s.master_key, s.var_dir), now=Clock().now(),
                                       status_size=s.status_list_size)
    finally:
        await db.dispose()
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

    def card(self) -> str:
        return crypto.make_card(self.cred, self.issuer_sig)


class Admin:
    """Drives the admin API the way an agency would."""

    def __init__(self, client: AsyncTestClient) -> None:
        self.c = client

    async def post(self, path: str, body: dict | None = None, expect: int = 201) -> dict:
        r = await self.c.post(path, json=body or {}, headers=ADMIN)
        assert r.status_code == expect, r.text
        return r.json()

    async def agency(self, name: str = "安心家政服务有限公司") -> dict:
        return await self.post("/api/admin/agencies", {"name": name, "city": "上海"})

    async def worker(self, agency_id: int, name: str = "王阿姨", **extra: object) -> dict:
        body = {"agency_id": agency_id, "name": name, "phone": "13800000001", "id_number": "110101199001011234",
                "services": ["cleaning", "elderly"], "health_check_until": "2099-01-01", **extra}
        return await self.post("/api/admin/workers", body)

    async def issue(self, worker_id: int) -> dict:
        return await self.post(f"/api/admin/workers/{worker_id}/passes", {})

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


@pytest.fixture
def admin(client: AsyncTestClient) -> Admin:
    return Admin(client)
