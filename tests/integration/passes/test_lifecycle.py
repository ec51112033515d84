"""A pass from issue to revocation, through the HTTP API, on every database."""

from __future__ import annotations

import hashlib

import crypto
from tests.integration.conftest import ADMIN, Admin, enroll


async def verify(client, qr: str) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post("/api/verify", json={"qr": qr})
    assert r.status_code == 200, r.text
    return r.json()


async def test_valid_then_stale_then_revoked(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    frame = phone.live(clock.now())
    answer = await verify(client, frame)
    assert answer["result"] == "valid"
    assert answer["colour"] == "green" and answer["headline"] == "有效"
    holder = answer["holder"]
    assert holder["name"] == "王阿姨" and holder["agency"]["name"] == "安心家政服务有限公司"
    assert [s["zh"] for s in holder["services"]] == ["保洁", "护理/银龄"]
    assert holder["health_check"]["in_date"] is True

    clock.offset = 120  # the same frame two minutes later: a screenshot
    stale = await verify(client, frame)
    assert stale["result"] == "stale"
    assert "截图" in stale["explanation"]

    await admin.post(f"/api/admin/passes/{phone.serial}/revoke", {"reason": "已离职", "reason_en": "Left the agency"}, expect=200)
    revoked = await verify(client, phone.live(clock.now()))
    assert revoked["result"] == "revoked"
    assert revoked["reasons"] == ["已离职"]


async def test_colour_suspend_reinstate(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    base = f"/api/admin/passes/{phone.serial}"
    await admin.post(f"{base}/status", {"status": "caution", "reason": "体检即将到期"}, expect=200)
    a = await verify(client, phone.live(clock.now()))
    assert (a["result"], a["colour"], a["reasons"]) == ("caution", "yellow", ["体检即将到期"])
    await admin.post(f"{base}/suspend", {"reason": "投诉调查中"}, expect=200)
    a = await verify(client, phone.live(clock.now()))
    assert (a["result"], a["reasons"]) == ("red", ["投诉调查中"])
    await admin.post(f"{base}/suspend", {"reason": "again"}, expect=409)
    view = await admin.post(f"{base}/reinstate", expect=200)
    assert view["status"] == "caution"
    await admin.post(f"{base}/status", {"status": "valid"}, expect=200)
    assert (await verify(client, phone.live(clock.now())))["result"] == "valid"
    r = await client.post(f"{base}/status", json={"status": "red"}, headers=ADMIN)
    assert r.status_code == 400 and r.json()["error"] == "reason_required"
    await admin.post(f"{base}/revoke", {"reason": "注销"}, expect=200)
    r = await client.post(f"{base}/reinstate", headers=ADMIN)
    assert r.status_code == 409 and r.json()["message"]
    kinds = [e["kind"] for e in (await client.get(base, headers=ADMIN)).json()["events"]]
    assert kinds == ["issued", "activation", "enrolled", "status", "suspended", "reinstated", "status", "revoked"]


async def test_wrong_code_is_bad_code_online(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    step = clock.now() // 30
    right = crypto.totp_code(phone.secret, step)
    wrong = (right + 1) % 1_000_000
    msg = crypto.live_message(phone.cred, step, wrong)
    qr = crypto.make_frame(phone.cred, phone.issuer_sig, step, wrong, crypto.sign(phone.device_priv, msg))
    assert (await verify(client, qr))["result"] == "bad_code"


async def test_printed_card(client, admin: Admin) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    a = await verify(client, phone.card())
    assert a["result"] == "valid" and a["printed_card"] is True


async def test_unreadable_codes_get_plain_answers(client) -> None:  # type: ignore[no-untyped-def]
    for qr in ["", "hello", "DP1:" + "A" * 600, "DP1:%%%%", "dp1:ABC"]:
        a = await verify(client, qr)
        assert a["result"] == "malformed" and a["holder"] is None and a["headline"] == "无法识别"


async def test_enrollment_codes_are_one_time(client, admin: Admin, clock, settings) -> None:  # type: ignore[no-untyped-def]
    agency = await admin.agency()
    worker = await admin.worker(agency["id"])
    act = await admin.issue(worker["id"])
    assert act["url"].endswith(f"/enroll?code={act['code']}")
    assert act["qr_svg"].startswith("<svg") and act["qr_svg"].rstrip().endswith("</svg>")  # decoded in e2e
    pub = crypto.b64u_encode(crypto.public_key(crypto.new_signing_key()))
    bad = await client.post("/api/enroll", json={"code": act["code"], "device_pub": "short"})
    assert bad.status_code == 400 and bad.json()["error"] == "bad_device_pub"
    await enroll(client, act["code"].lower().replace("-", " "))  # typed loosely by a person
    again = await client.post("/api/enroll", json={"code": act["code"], "device_pub": pub})
    assert again.status_code == 410 and again.json()["error"] == "activation_used"
    assert "已经用过" in again.json()["message"]
    unknown = await client.post("/api/enroll", json={"code": "ABCD-EFGH-JKLM", "device_pub": pub})
    assert unknown.status_code == 404 and unknown.json()["error"] == "activation_unknown"

    worker2 = await admin.worker(agency["id"], "李师傅")
    act2 = await admin.issue(worker2["id"])
    clock.offset = settings.activation_ttl + 1
    late = await client.post("/api/enroll", json={"code": act2["code"], "device_pub": pub})
    assert late.status_code == 410 and late.json()["error"] == "activation_expired"
    assert (await client.get("/api/auth/me", headers=ADMIN)).status_code == 401  # three days on, that session is over
    later = await admin.staff("agency_admin", agency_id=agency["id"])  # signed in again
    fresh = await client.post(f"/api/admin/passes/{act2['serial']}/activation", headers=later)
    assert fresh.status_code == 201, fresh.text
    await enroll(client, fresh.json()["code"])
    r = await client.post(f"/api/admin/passes/{act2['serial']}/activation", headers=later)
    assert r.status_code == 409 and r.json()["error"] == "already_enrolled"


async def test_revoked_pass_refuses_enrollment(client, admin: Admin) -> None:  # type: ignore[no-untyped-def]
    agency = await admin.agency()
    worker = await admin.worker(agency["id"])
    act = await admin.issue(worker["id"])
    await admin.post(f"/api/admin/passes/{act['serial']}/revoke", {"reason": "离职"}, expect=200)
    pub = crypto.b64u_encode(crypto.public_key(crypto.new_signing_key()))
    r = await client.post("/api/enroll", json={"code": act["code"], "device_pub": pub})
    assert r.status_code == 409 and r.json()["error"] == "pass_revoked"


async def test_new_pass_revokes_the_old(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    view = (await client.get(f"/api/admin/passes/{phone.serial}", headers=ADMIN)).json()
    act = await admin.issue(view["worker_id"])
    new_phone = await enroll(client, act["code"])
    assert (await verify(client, phone.live(clock.now())))["result"] == "revoked"
    assert (await verify(client, new_phone.live(clock.now())))["result"] == "valid"


async def test_photo_matches_the_credential(client, admin: Admin) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    r = await client.get(f"/api/passes/{phone.serial}/photo")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/")
    cred = crypto.decode_cred(phone.cred)
    assert hashlib.sha256(r.content).digest()[:16] == cred.photo_digest
    again = await client.get(f"/api/passes/{phone.serial}/photo", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert (await client.get("/api/passes/999/photo")).status_code == 404


async def test_typed_pass_number_and_code(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    phone = await admin.enrolled_phone()
    code = f"{crypto.totp_code(phone.secret, clock.now() // 30):06d}"
    r = await client.post("/api/verify/code", json={"serial": phone.serial, "code": code})
    assert r.status_code == 200 and r.json()["result"] == "valid" and r.json()["holder"]["name"] == "王阿姨"
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert (await client.post("/api/verify/code", json={"serial": phone.serial, "code": wrong})).json()["result"] == "bad_code"
    clock.offset = 300
    assert (await client.post("/api/verify/code", json={"serial": phone.serial, "code": code})).json()["result"] == "bad_code"
    r = await client.post("/api/verify/code", json={"serial": 1, "code": "123456"})
    assert r.status_code == 200 and r.json()["result"] == "bad_code" and r.json()["holder"] is None  # as a wrong code
    r = await client.post("/api/verify/code", json={"serial": phone.serial, "code": "12a456"})
    assert r.status_code == 400
    t = (await client.get("/api/time")).json()["server_time"]
    assert t == clock.now()


async def test_an_agency_unbinds_a_lost_phone_and_the_new_phone_takes_over(client, admin: Admin, clock) -> None:  # type: ignore[no-untyped-def]
    old_phone = await admin.enrolled_phone("周阿姨")
    assert (await client.post("/api/verify", json={"qr": old_phone.live(clock.now())})).json()["result"] == "valid"
    r = await client.post(f"/api/admin/passes/{old_phone.serial}/unbind", json={"reason": "手机丢失", "reason_en": "Phone lost"},
                          headers=ADMIN)
    assert r.status_code == 201, r.text
    act = r.json()
    assert act["serial"] != old_phone.serial and act["code"]
    # the old phone's frames now read revoked, online and from the next status list offline
    answer = (await client.post("/api/verify", json={"qr": old_phone.live(clock.now())})).json()
    assert answer["result"] == "revoked" and "手机丢失" in answer["reasons"][0]
    trust = crypto.open_trust((await client.get("/api/trust")).json(), crypto.b64u_decode((await client.get("/api/root")).json()["root_pub"]))
    status = crypto.open_status((await client.get("/api/status")).json(), trust.status_pub)
    assert crypto.verify(old_phone.live(clock.now()), clock.now(), trust, status).result == "revoked"
    # the new phone enrolls with the new code; its pass ends when the old one would have
    new_phone = await enroll(client, act["code"])
    assert (await client.post("/api/verify", json={"qr": new_phone.live(clock.now())})).json()["result"] == "valid"
    assert crypto.decode_cred(new_phone.cred).expires_day == crypto.decode_cred(old_phone.cred).expires_day
    history = (await client.get(f"/api/admin/passes/{old_phone.serial}", headers=ADMIN)).json()["events"]
    assert [e["kind"] for e in history][-2:] == ["unbound", "revoked"]
    # a pass not bound to any phone has nothing to unbind; a revoked one cannot be unbound again
    r = await client.post(f"/api/admin/passes/{act['serial']}/unbind", json={"reason": "x"}, headers=ADMIN)
    assert r.status_code == 201  # the new phone is bound now: it can be unbound in turn
    r = await client.post(f"/api/admin/passes/{old_phone.serial}/unbind", json={"reason": "x"}, headers=ADMIN)
    assert r.status_code == 409 and r.json()["error"] == "pass_revoked"
    fresh = await admin.issue((await admin.worker(next(iter(admin.agencies)), "吴师傅"))["id"])
    r = await client.post(f"/api/admin/passes/{fresh['serial']}/unbind", json={"reason": "x"}, headers=ADMIN)
    assert r.status_code == 409 and r.json()["error"] == "not_bound" and r.json()["message"]
