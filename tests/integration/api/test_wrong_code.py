"""A typed check with a wrong code says only "wrong code": the same answer for an unknown or unactivated number."""

from __future__ import annotations

import re

import crypto
from tests.integration.conftest import Admin


def _without_time(body: bytes) -> bytes:
    return re.sub(rb'"server_time":\d+', b'"server_time":0', body)


async def test_wrong_unknown_and_unactivated_answer_alike(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    right = f"{crypto.totp_code(phone.secret, clock.now() // 30):06d}"
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    agency = await admin.agency("另一家家政公司")
    waiting = await admin.issue((await admin.worker(agency["id"], "李阿姨"))["id"])  # issued, never activated
    unknown = next(n for n in range(1, 10_000) if n not in (phone.serial, waiting["serial"]))

    answers = [await client.post("/api/verify/code", json={"serial": serial, "code": code})
               for serial, code in [(phone.serial, wrong), (unknown, right), (waiting["serial"], right)]]
    assert [a.status_code for a in answers] == [200, 200, 200]
    bodies = {_without_time(a.content) for a in answers}
    assert len(bodies) == 1, bodies  # byte for byte
    body = answers[0].json()
    assert body["result"] == "bad_code" and body["holder"] is None and body["reasons"] == []
    assert body["headline"] == "号码或验证码不对" and body["headline_en"] == "Wrong pass number or code"
    assert "王阿姨" not in answers[0].text and "李阿姨" not in answers[2].text
    assert {a.headers.get("content-type") for a in answers} == {answers[0].headers.get("content-type")}

    ok = await client.post("/api/verify/code", json={"serial": phone.serial, "code": right})
    assert ok.json()["result"] == "valid" and ok.json()["holder"]["name"] == "王阿姨"  # only a right code names the holder


async def test_a_wrong_code_hides_the_status_and_reasons(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    """A red pass with a reason: a wrong code says nothing about it."""
    phone = await admin.enrolled_phone()
    await admin.post(f"/api/admin/passes/{phone.serial}/status", {"status": "red", "reason": "投诉待处理"}, expect=200)
    right = f"{crypto.totp_code(phone.secret, clock.now() // 30):06d}"
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    r = await client.post("/api/verify/code", json={"serial": phone.serial, "code": wrong})
    assert r.json()["result"] == "bad_code" and "投诉待处理" not in r.text and r.json()["colour"] == "grey"
    r = await client.post("/api/verify/code", json={"serial": phone.serial, "code": right})
    assert r.json()["result"] == "red" and r.json()["reasons"] == ["投诉待处理"]
