"""Device keys in real Chromium (docs/devices.md): the records a phone pushes are stored under the id derived from
its own key, whose private half cannot be exported; a worker's phone uses the key its pass is bound to."""

from __future__ import annotations

import base64
import hashlib
import uuid

from tests.dbquery import rows
from tests.e2e.conftest import device_id, enroll_in_browser, first_visit, lists_loaded

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
        page.fill("input[inputmode=numeric]", "1")
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


def test_records_are_stored_under_the_id_of_the_phones_own_key(server, launch) -> None:  # type: ignore[no-untyped-def]
    # A phone with no pass (outlet staff, a household): a key made at first use.
    staff = launch().new_page()
    first_visit(staff, server.base + "/outlet")
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
    save_and_deliver(worker, server.base)
    key = check_key(worker, server.database_url)
    assert key["passPub"] == key["pub"]
    assert derived_id(bytes(key["pub"])) != staff_id
