"""Device keys in real Chromium (docs/devices.md): the records a phone pushes are stored under the id derived from
its own key, whose private half cannot be exported; a worker's phone uses the key its pass is bound to."""

from __future__ import annotations

import base64
import hashlib
import uuid
from pathlib import Path

import segno

from tests.dbquery import rows
from tests.e2e.camera import write_y4m
from tests.e2e.conftest import (
    device_id,
    enroll_in_browser,
    first_visit,
    lists_loaded,
    outlet_staff,
    tie_outlet_phone,
    visit_code,
)

READ_KEY = """async () => {
  const db = await new Promise((res, rej) => { const o = indexedDB.open('doorpass'); o.onsuccess = () => res(o.result); o.onerror = rej; });
  const get = (store, key) => new Promise((res, rej) => {
    const q = db.transaction(store).objectStore(store).get(key); q.onsuccess = () => res(q.result); q.onerror = rej; });
  const all = (store) => new Promise((res, rej) => {
    const q = db.transaction(store).objectStore(store).getAll(); q.onsuccess = () => res(q.result); q.onerror = rej; });
  const raw = async (k) => Array.from(new Uint8Array(await crypto.subtle.exportKey('raw', k)));
  const pair = await get('kv', 'device_key');
  const pass = await get('pass', 'current');
  let pkcs8 = 'exported';
  try { await crypto.subtle.exportKey('pkcs8', pair.privateKey); } catch (e) { pkcs8 = e.name; }
  return { pub: await raw(pair.publicKey), passPub: pass ? await raw(pass.keys.publicKey) : null,
           extractable: pair.privateKey.extractable, pkcs8, records: (await all('outbox')).map((r) => r.id) };
}"""


KV = """async ([key, value]) => {
  const db = await new Promise((res, rej) => { const o = indexedDB.open('doorpass'); o.onsuccess = () => res(o.result); o.onerror = rej; });
  return await new Promise((res, rej) => {
    const tx = db.transaction('kv', 'readwrite'), store = tx.objectStore('kv');
    if (value !== null) store.put(value, key);
    const q = store.get(key); tx.oncomplete = () => res(q.result); tx.onerror = rej; });
}"""


def derived_id(pub: bytes) -> str:
    """"d" + b64u(SHA-256("DP1/device\\0" || pub))[0:22]."""
    return "d" + base64.urlsafe_b64encode(hashlib.sha256(b"DP1/device\0" + pub).digest()).decode().rstrip("=")[:22]


def save_and_deliver(page, base: str, offline_first: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Save a training record on the phone (offline first if asked: a session, or a trainee in the open one) and wait
    until every record is delivered."""
    if offline_first:
        page.context.set_offline(True)
    page.goto(base + "/outlet")
    page.wait_for_selector("[data-testid=session-start], [data-testid=trainee-number]")
    if page.locator("[data-testid=session-start]").count():
        page.fill("input[maxlength='100']", f"家居保洁 {uuid.uuid4().hex[:4]}")
        page.click("[data-testid=session-start]")
        page.wait_for_selector("[data-testid=trainee-number]")
    else:
        page.fill("[data-testid=trainee-number]", f"T-{uuid.uuid4().hex[:6]}")
        page.click("[data-testid=trainee-add]")
        page.wait_for_selector("text=签到成功")
    page.goto(base + "/records")
    page.wait_for_selector("[data-testid=record]")
    if offline_first:
        assert page.locator("[data-testid=record][data-state=saved]").count() == 1
        page.context.set_offline(False)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=record]')].every(e => e.dataset.state === 'delivered')",
                           timeout=30000)


def check_key(page, database_url: str) -> dict:  # type: ignore[no-untyped-def]
    key = page.evaluate(READ_KEY)
    pub = bytes(key["pub"])
    assert len(pub) == 32
    assert key["extractable"] is False and key["pkcs8"] == "InvalidAccessError", key  # the private key never leaves
    expected = derived_id(pub)
    assert len(expected) == 23 and device_id(page) == expected
    ids = key["records"]
    assert ids
    stored = rows(database_url, f"SELECT DISTINCT device_id FROM sync_records WHERE id IN ({','.join('?' * len(ids))})", *ids)
    assert stored == [(expected,)], (stored, expected)
    assert rows(database_url, "SELECT pub FROM devices WHERE id = ?", expected) == [(pub,)]
    return key


def check_in_and_deliver(page, base: str, serial: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The worker checks in from a household's visit code (a photo of it) and waits until every record is delivered."""
    png = tmp_path / f"visit-{uuid.uuid4().hex[:6]}.png"
    segno.make(visit_code(serial), error="m").save(str(png), scale=8, border=4)
    page.goto(base + "/pass")
    page.click("[data-testid=checkin-scan]")
    page.set_input_files("[data-testid=scanner-photo]", str(png))
    page.click("[data-testid=checkin-submit]")
    page.wait_for_selector("[data-testid=checkout]")
    page.goto(base + "/records")
    page.wait_for_selector("[data-testid=record][data-kind=checkin]")
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=record]')].every(e => e.dataset.state === 'delivered')",
                           timeout=30000)


def test_records_are_stored_under_the_id_of_the_phones_own_key(server, launch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A phone with no pass (an outlet's phone, a household's): a key made at first use.
    outlet = outlet_staff(server)
    staff = launch().new_page()
    first_visit(staff, server.base + "/outlet")
    tie_outlet_phone(staff, server, outlet)
    save_and_deliver(staff, server.base)
    key = check_key(staff, server.database_url)
    assert key["passPub"] is None
    staff_id = derived_id(bytes(key["pub"]))

    # Its clock far off (and /api/time out of reach): 401 device_clock gives the server's time; the phone corrects
    # its offset and signs again.
    staff.route("**/api/time", lambda route: route.abort())
    staff.evaluate(KV, ["clock_offset", 100000])
    save_and_deliver(staff, server.base, offline_first=True)
    assert abs(staff.evaluate(KV, ["clock_offset", None])) < 300
    staff.unroute("**/api/time")

    # The server no longer knows its key (401 device_unproved): it registers again and signs again.
    rows(server.database_url, "UPDATE devices SET pub = NULL WHERE id = ?", staff_id)
    save_and_deliver(staff, server.base, offline_first=True)
    assert rows(server.database_url, "SELECT pub FROM devices WHERE id = ?", staff_id) == [(bytes(key["pub"]),)]
    check_key(staff, server.database_url)

    # A worker's phone: the key its pass is bound to.
    code = server.code("valid")
    worker = launch().new_page()
    enroll_in_browser(worker, server.base, code["code"])
    lists_loaded(worker)
    check_in_and_deliver(worker, server.base, code["serial"], tmp_path)  # a check-in is the pass's own phone's
    key = check_key(worker, server.database_url)
    assert key["passPub"] == key["pub"]
    assert derived_id(bytes(key["pub"])) != staff_id


def test_a_household_phone_that_enrolls_keeps_its_device_id(server, launch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A phone that registered and synced as a household, then enrolls as a worker: its pass is bound to the key it
    already had, so its device id, its delivered records and its pull cursor stay, and its check-in (the pass's own
    phone's) is stored under that same id."""
    seen = server.phone("valid")  # the worker the household verified
    ctx = launch(write_y4m(tmp_path / "cam.y4m", [seen.live()], frames_each=20))
    page = ctx.new_page()
    first_visit(page, server.base + "/verify")
    page.click("[data-testid=start-scan]")
    page.wait_for_selector("[data-testid=verdict][data-result=valid]", timeout=20000)
    page.click("[data-testid=write-review]")
    page.click("[data-testid=star-5]")
    page.click("[data-testid=review-submit]")
    page.wait_for_selector("[data-testid=saved-toast]")
    page.goto(server.base + "/records")
    page.wait_for_selector("[data-testid=record][data-kind=review][data-state=delivered]", timeout=30000)
    before = page.evaluate(READ_KEY)
    household_id = derived_id(bytes(before["pub"]))
    assert before["passPub"] is None and device_id(page) == household_id
    assert rows(server.database_url, "SELECT id FROM devices WHERE id = ?", household_id) == [(household_id,)]
    page.wait_for_function("() => new Promise(res => { const o = indexedDB.open('doorpass'); o.onsuccess = () => { "
                           "const q = o.result.transaction('kv').objectStore('kv').get('pull_cursor'); "
                           "q.onsuccess = () => res((q.result ?? 0) > 0); }; })", timeout=30000)
    cursor = page.evaluate(KV, ["pull_cursor", None])

    code = server.code("valid")
    enroll_in_browser(page, server.base, code["code"])
    lists_loaded(page)
    after = page.evaluate(READ_KEY)
    assert after["pub"] == before["pub"] and after["passPub"] == before["pub"], "enrollment bound the pass to a new key"
    assert device_id(page) == household_id
    assert page.evaluate(KV, ["pull_cursor", None]) >= cursor  # not pulled again from the start
    assert rows(server.database_url, "SELECT device_pub FROM passes WHERE serial = ?", code["serial"]) == [(bytes(before["pub"]),)]

    check_in_and_deliver(page, server.base, code["serial"], tmp_path)
    assert page.locator("[data-testid=record][data-kind=review][data-state=delivered]").count() == 1  # its receipt kept
    kinds = rows(server.database_url, "SELECT kind FROM sync_records WHERE device_id = ? AND status = 'applied' ORDER BY kind",
                 household_id)
    assert kinds == [("checkin",), ("review",)], kinds
    assert rows(server.database_url, "SELECT device_id FROM visits WHERE serial = ?", code["serial"]) == [(household_id,)]
