"""The signed trust and status lists as verifiers fetch them."""

from __future__ import annotations

import asyncio

import crypto
from tests.integration.conftest import ADMIN, Admin


async def _open(client):  # type: ignore[no-untyped-def]
    root = crypto.b64u_decode((await client.get("/api/root")).json()["root_pub"])
    trust = crypto.open_trust((await client.get("/api/trust")).json(), root)
    status = crypto.open_status((await client.get("/api/status")).json(), trust.status_pub)
    return trust, status


async def test_lists_open_with_the_root_and_carry_etags(client, admin: Admin) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    trust, status = await _open(client)
    cred = crypto.decode_cred(phone.cred)
    assert trust.issuer(cred.kid) is not None
    assert status.size >= 131072
    assert status.get(cred.status_index) == crypto.Status.VALID

    r = await client.get("/api/status")
    etag = r.headers["etag"]
    assert r.headers["cache-control"] == "public, max-age=30, stale-while-revalidate=60"
    assert (await client.get("/api/status", headers={"If-None-Match": etag})).status_code == 304

    await admin.post(f"/api/admin/passes/{phone.serial}/status", {"status": "red", "reason": "严重投诉"}, expect=200)
    r2 = await client.get("/api/status", headers={"If-None-Match": etag})
    assert r2.status_code == 200 and r2.headers["etag"] != etag
    _, status2 = await _open(client)
    assert status2.seq == status.seq + 1
    assert status2.get(cred.status_index) == crypto.Status.RED


async def test_unused_entries_read_revoked(client) -> None:  # type: ignore[no-untyped-def]
    _, status = await _open(client)
    assert {status.get(i) for i in range(0, status.size, 997)} == {crypto.Status.REVOKED}


async def test_concurrent_status_changes_each_get_a_seq(client, admin: Admin) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.conftest import enroll

    agency = await admin.agency()
    phones = [await enroll(client, (await admin.issue((await admin.worker(agency["id"], f"工{i}"))["id"]))["code"]) for i in range(4)]
    _, before = await _open(client)
    await asyncio.gather(
        *[client.post(f"/api/admin/passes/{p.serial}/status", json={"status": "caution", "reason": "测试"}, headers=ADMIN) for p in phones]
    )
    _, after = await _open(client)
    assert after.seq == before.seq + 4
    for p in phones:
        assert after.get(crypto.decode_cred(p.cred).status_index) == crypto.Status.CAUTION


async def test_issuer_key_rotation_keeps_old_passes(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    agency = await admin.agency()
    w1 = await admin.worker(agency["id"], "甲")
    from tests.integration.conftest import enroll

    old = await enroll(client, (await admin.issue(w1["id"]))["code"])
    rotated = await admin.post(f"/api/admin/agencies/{agency['id']}/rotate-key")
    assert rotated["kid"] != agency["kid"]
    w2 = await admin.worker(agency["id"], "乙")
    new = await enroll(client, (await admin.issue(w2["id"]))["code"])
    assert crypto.decode_cred(new.cred).kid == rotated["kid"]
    trust, _ = await _open(client)
    assert {agency["kid"], rotated["kid"]} <= {i.kid for i in trust.issuers}
    for phone in (old, new):
        r = await client.post("/api/verify", json={"qr": phone.live(clock.now())})
        assert r.json()["result"] == "valid"


async def test_retired_key_leaves_the_trust_list_when_its_passes_expire(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.conftest import enroll

    agency = await admin.agency()
    second = await admin.post(f"/api/admin/agencies/{agency['id']}/rotate-key")  # the first key signed nothing
    trust, _ = await _open(client)
    assert agency["kid"] not in {i.kid for i in trust.issuers}
    w = await admin.worker(agency["id"], "丙")
    phone = await enroll(client, (await admin.issue(w["id"]))["code"])
    await admin.post(f"/api/admin/agencies/{agency['id']}/rotate-key")
    trust, _ = await _open(client)
    kept = trust.issuer(second["kid"])
    cred = crypto.decode_cred(phone.cred)
    assert kept is not None and kept.not_after == (cred.expires_day + 1) * 86400 - 1
