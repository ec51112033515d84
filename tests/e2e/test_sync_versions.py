"""Versioned sync in real Chromium: the outbox says its versions with every push, and a push the server refuses
for its version keeps every record on the phone, says 请更新应用, and goes once the app speaks the server's version."""

from __future__ import annotations

import json
import time
import uuid

import crypto
import sync
from tests.dbquery import rows
from tests.e2e.conftest import first_visit, outlet_staff, tie_outlet_phone

DEVICE_PUB = """async () => {
  const db = await new Promise((res, rej) => { const o = indexedDB.open('doorpass'); o.onsuccess = () => res(o.result); o.onerror = rej; });
  const pair = await new Promise((res) => { const q = db.transaction('kv').objectStore('kv').get('device_key'); q.onsuccess = () => res(q.result); });
  return Array.from(new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)));
}"""


def test_a_push_refused_for_its_version_keeps_the_records(server, launch) -> None:  # type: ignore[no-untyped-def]
    course = f"版本测试 {uuid.uuid4().hex[:4]}"
    ctx = launch()
    sent: list[dict] = []

    def refuse(route) -> None:  # type: ignore[no-untyped-def]
        """A server that has moved on to a newer protocol than this app speaks."""
        sent.append(route.request.post_data_json)
        route.fulfill(status=400, content_type="application/json", body=json.dumps({
            "error": "update_required", "message": "请更新应用", "message_en": "Please update the app"}))

    ctx.route("**/api/sync/push", refuse)  # the context's routes see the service worker's pushes too
    staff = outlet_staff(server)
    page = ctx.new_page()
    first_visit(page, server.base + "/outlet")
    tie_outlet_phone(page, server, staff)
    page.fill("input[maxlength='100']", course)
    page.click("[data-testid=session-start]")
    page.wait_for_selector("[data-testid=trainee-number]")
    page.goto(server.base + "/records")
    page.click("[data-testid=send-now]")
    page.wait_for_selector("[data-testid=version-held][data-code=update_required]", timeout=30000)
    assert sent and all((b["protocol"], b["schema"]) == (sync.PROTOCOL, sync.SCHEMA) == (2, 2) for b in sent), sent
    # each record travels as the JSON text the phone made once and its signature (docs/devices.md, Signed records)
    envelopes = [e for b in sent for e in b["records"]]
    assert envelopes and all(set(e) == {"body", "sig"} and len(e["sig"]) == 86 for e in envelopes), envelopes
    assert len({e["body"] for e in envelopes}) == 1  # a resend is byte for byte the same record
    assert json.loads(envelopes[0]["body"])["course"] == course
    pub = bytes(page.evaluate(DEVICE_PUB))
    assert crypto.verify_sig(pub, crypto.b64u_decode(envelopes[0]["sig"]), b"DP1/record\0" + envelopes[0]["body"].encode())
    assert "请更新应用" in page.locator("[data-testid=version-held]").inner_text()
    assert "记录都保存在手机上" in page.locator("[data-testid=version-held]").inner_text()
    # Records made online leave at once, so a push may still be on its way back: wait for it to settle as saved.
    page.wait_for_selector("[data-testid=record][data-kind=session][data-state=saved]", timeout=30000)
    record = page.locator("[data-testid=record][data-kind=session]")
    assert "请更新应用" in record.inner_text()
    assert "请更新应用" in page.locator("[data-testid=waiting-badge]").inner_text()
    page.reload()  # still on the phone, still explained
    page.wait_for_selector("[data-testid=record][data-kind=session][data-state=saved]")
    page.wait_for_selector("[data-testid=version-held]")
    assert rows(server.database_url, "SELECT id FROM training_sessions WHERE course = ?", course) == []

    ctx.unroute("**/api/sync/push")  # the app now speaks the server's version
    page.click("[data-testid=send-now]")
    page.wait_for_selector("[data-testid=record][data-kind=session][data-state=delivered]", timeout=30000)
    assert page.locator("[data-testid=version-held]").count() == 0
    assert "请更新应用" not in page.locator("[data-testid=waiting-badge]").inner_text()
    assert len(rows(server.database_url, "SELECT id FROM training_sessions WHERE course = ?", course)) == 1


OLD_RECORD = """async ([record]) => {
  const db = await new Promise((res, rej) => { const o = indexedDB.open('doorpass'); o.onsuccess = () => res(o.result); o.onerror = rej; });
  await new Promise((res, rej) => { const tx = db.transaction('outbox', 'readwrite'); tx.objectStore('outbox').put(record);
    tx.oncomplete = res; tx.onerror = rej; });
}"""

READ_RECORD = """async ([id]) => {
  const db = await new Promise((res, rej) => { const o = indexedDB.open('doorpass'); o.onsuccess = () => res(o.result); o.onerror = rej; });
  return await new Promise((res) => { const q = db.transaction('outbox').objectStore('outbox').get(id); q.onsuccess = () => res(q.result); });
}"""


def test_a_record_saved_before_signed_records_is_signed_once_and_resent_the_same(server, launch) -> None:  # type: ignore[no-untyped-def]
    """An outbox record an older app saved (a body, no text or signature) is signed at its first push; the text and
    signature are kept on the phone, so the next push sends the same bytes."""
    course = f"旧版记录 {uuid.uuid4().hex[:4]}"
    ctx = launch()
    sent: list[dict] = []

    def refuse(route) -> None:  # type: ignore[no-untyped-def]
        sent.append(route.request.post_data_json)
        route.fulfill(status=503, content_type="application/json", body=json.dumps({
            "error": "unavailable", "message": "服务暂不可用", "message_en": "Unavailable"}))

    staff = outlet_staff(server)
    page = ctx.new_page()
    first_visit(page, server.base + "/outlet")
    tie_outlet_phone(page, server, staff)
    rid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    at = int(time.time())
    body = {"kind": "session", "id": rid, "seq": 1000, "at": at, "session_id": sid, "outlet_id": staff["me"]["outlet_id"],
            "course": course, "day": time.strftime("%Y-%m-%d")}
    ctx.route("**/api/sync/push", refuse)
    page.evaluate(OLD_RECORD, [{"id": rid, "seq": 1000, "kind": "session", "body": body, "state": "saved", "createdAt": at,
                                "attempts": 0, "nextTry": 0, "summary": course}])
    page.goto(server.base + "/records")
    page.click("[data-testid=send-now]")
    for _ in range(40):
        if sent:
            break
        page.wait_for_timeout(250)
    assert sent, "no push"
    kept = page.evaluate(READ_RECORD, [rid])
    first = next(e for e in sent[0]["records"])
    assert (first["body"], first["sig"]) == (kept["text"], kept["sig"]) and json.loads(kept["text"]) == body
    pub = bytes(page.evaluate(DEVICE_PUB))
    assert crypto.verify_sig(pub, crypto.b64u_decode(kept["sig"]), b"DP1/record\0" + kept["text"].encode())

    ctx.unroute("**/api/sync/push")
    with page.expect_request("**/api/sync/push") as again:
        page.click("[data-testid=send-now]")
    resent = again.value.post_data_json["records"]
    assert resent == [first]  # byte for byte the record of the first push
    page.wait_for_selector("[data-testid=record][data-kind=session][data-state=delivered]", timeout=30000)
    (stored,), = rows(server.database_url, "SELECT body FROM sync_records WHERE id = ?", rid)
    assert (stored.decode() if isinstance(stored, bytes) else stored) == kept["text"]
