"""The whole door, on two phones with no network: what issues 3 and 4 are done by.

A worker's phone shows its live pass offline; a household's phone, also offline, films that screen
(Chromium's fake camera fed the screenshot's pixels), sees who is at the door, shows its visit code,
and writes a review. The worker scans the visit code to check in. Both reload, still offline: the
records wait, saying so. Back online, each record arrives once, each phone shows it delivered, and the
worker's pass shows the household's rating.
"""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import zxingcpp
from PIL import Image

import crypto
from tests.dbquery import rows
from tests.e2e.camera import image_luma, write_planes
from tests.e2e.conftest import device_id, enroll_in_browser, first_visit, lists_loaded
from tests.served import ROOT

WHITE = b"\xff" * (640 * 480)
ARTEFACTS = Path(os.environ.get("DOORPASS_E2E_ARTEFACTS", ROOT / "test-results" / "e2e"))
DEVICE_PUB = """async () => {
  const db = await new Promise((res, rej) => { const o = indexedDB.open('doorpass'); o.onsuccess = () => res(o.result); o.onerror = rej; });
  const pair = await new Promise((res) => { const q = db.transaction('kv').objectStore('kv').get('device_key'); q.onsuccess = () => res(q.result); });
  return Array.from(new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)));
}"""


def read_qr(png: bytes) -> str:
    """What a camera reads from a screenshot of a QR."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert found, "no QR code found"
    return found[0].text


def shoot(target, name: str) -> None:  # type: ignore[no-untyped-def]
    """A screenshot (the page at its 360 px phone width, or one element) for people to look at."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(ARTEFACTS / f"{name}-360.png"))


def _states(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    rows = page.locator("[data-testid=record]")
    return {rows.nth(i).get_attribute("data-kind"): rows.nth(i).get_attribute("data-state") for i in range(rows.count())}


def test_two_phones_offline_at_the_door_then_both_see_it_delivered(any_db_server, launch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = any_db_server
    code = server.code("valid")
    camera = write_planes(tmp_path / "household-camera.y4m", [WHITE], frames_each=5)  # nothing in view yet

    # First visits, online: the worker enrolls; the household opens the verify page once.
    worker_ctx = launch()
    worker = worker_ctx.new_page()
    enroll_in_browser(worker, server.base, code["code"])
    lists_loaded(worker)
    household_ctx = launch(camera)
    household = household_ctx.new_page()
    first_visit(household, server.base + "/verify")

    # The stairwell: no signal on either phone, from here on, through reloads.
    worker_ctx.set_offline(True)
    household_ctx.set_offline(True)
    worker.reload()
    worker.wait_for_selector("[data-testid=pass-qr][data-step]", timeout=20000)
    household.reload()
    household.wait_for_selector("text=核验上门人员")

    # The household's camera sees the worker's screen.
    write_planes(camera, [image_luma(worker.locator("[data-testid=pass-qr]").screenshot())], frames_each=30)
    household.click("[data-testid=start-scan]")
    verdict = household.wait_for_selector("[data-testid=verdict]", timeout=20000)
    assert (verdict.get_attribute("data-result"), verdict.get_attribute("data-source")) == ("valid", "offline")
    assert household.locator("[data-testid=verdict-name]").inner_text() == code["name"]

    # The worker scans the household's visit code (a photo of its screen) and checks in.
    visit_png = tmp_path / "visit.png"
    household.wait_for_selector("[data-testid=visit-qr][data-ready]")
    visit_png.write_bytes(household.locator("[data-testid=visit-qr]").screenshot())
    code_text = read_qr(visit_png.read_bytes())
    assert code_text.startswith("DPV2:") and device_id(household) not in code_text, code_text
    worker.click("[data-testid=checkin-scan]")
    worker.set_input_files("[data-testid=scanner-photo]", str(visit_png))
    worker.fill("[data-testid=checkin-form] input >> nth=0", "和平小区 5 栋 302")
    worker_ctx.grant_permissions(["geolocation"], origin=server.base)  # the worker agrees to share the place
    worker_ctx.set_geolocation({"latitude": 31.2304, "longitude": 121.4737})
    worker.check("text=同时记录我的位置（可选）")
    worker.click("[data-testid=checkin-submit]")
    worker.wait_for_selector("[data-testid=checkout]")

    # The household reviews the visit it verified.
    household.click("[data-testid=write-review]")
    household.click("[data-testid=star-5]")
    household.click("text=专业")
    household.fill("textarea", "准时到，做得仔细")
    household.click("[data-testid=review-submit]")
    household.wait_for_selector("[data-testid=saved-toast]")

    # Still offline, after a reload, each phone holds its record and says it is waiting.
    for page, kind in ((worker, "checkin"), (household, "review")):
        page.goto(server.base + "/records")
        page.reload()
        page.wait_for_selector("[data-testid=record]")
        assert _states(page) == {kind: "saved"}
        assert page.locator("[data-testid=waiting-count]").inner_text() == "1 条等待发送"

    # Signal again: the household first, then the worker; each record arrives, each phone shows it.
    for ctx, page in ((household_ctx, household), (worker_ctx, worker)):
        ctx.set_offline(False)
        page.wait_for_function("() => [...document.querySelectorAll('[data-testid=record]')].every(e => e.dataset.state === 'delivered')",
                               timeout=30000)
        assert "已送达" in page.locator("[data-testid=record]").first.inner_text()
        assert page.locator("[data-testid=waiting-count]").inner_text() == "0 条等待发送"
    worker.goto(server.base + "/pass")
    worker.wait_for_selector("[data-testid=pass-rating]", timeout=30000)
    assert "5.0★（1 条）" in worker.locator("[data-testid=pass-rating]").inner_text()

    # The household's review arrived first; the worker's check-in, with the code it signed, confirmed the visit.
    db = server.database_url
    visits = rows(db, "SELECT id, serial, household_device, place, lat, lon, household_pseudonym FROM visits WHERE serial = ?",
                  code["serial"])
    reviews = rows(db, "SELECT serial, visit_id, stars, tags, comment, confirmed FROM reviews WHERE serial = ?", code["serial"])
    applied = rows(db, "SELECT kind, count(*) FROM sync_records WHERE serial = ? GROUP BY kind", code["serial"])
    assert len(visits) == 1
    assert visits[0][1:] == (code["serial"], device_id(household), "和平小区 5 栋 302", 31.2304, 121.4737,
                             code_text.split(".")[1])
    assert reviews == [(code["serial"], visits[0][0], 5, "professional", "准时到，做得仔细", True)]
    assert sorted(applied) == [("checkin", 1), ("review", 1)]


def test_the_visit_code_names_no_device_and_the_check_in_from_it_is_applied(server, launch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Online this time, the worker's check-in first: the household's visit code is DPV2 (visit, per-visit pseudonym,
    pass, time, signature) with no device id in it; the server applies the check-in from it, and the household's
    later review, signed by the phone that made the code, confirms the visit."""
    code = server.code("valid")
    camera = write_planes(tmp_path / "household-camera.y4m", [WHITE], frames_each=5)
    worker_ctx = launch()
    worker = worker_ctx.new_page()
    enroll_in_browser(worker, server.base, code["code"])
    lists_loaded(worker)
    household_ctx = launch(camera)
    household = household_ctx.new_page()
    first_visit(household, server.base + "/verify")

    write_planes(camera, [image_luma(worker.locator("[data-testid=pass-qr]").screenshot())], frames_each=30)
    household.click("[data-testid=start-scan]")
    household.wait_for_selector("[data-testid=verdict][data-result=valid]", timeout=20000)
    household.wait_for_selector("[data-testid=visit-qr][data-ready]")
    shoot(household.locator("[data-testid=visit-qr]"), "visit-code-qr")
    household.screenshot(path=str(ARTEFACTS / "visit-code-360.png"), full_page=True)
    visit_png = tmp_path / "visit.png"
    visit_png.write_bytes(household.locator("[data-testid=visit-qr]").screenshot())
    text = read_qr(visit_png.read_bytes())
    household_id = device_id(household)
    prefix, rest = text.split(":", 1)
    visit_id, pseudonym, serial, at, sig = rest.split(".")
    assert prefix == "DPV2" and int(serial) == code["serial"] and len(pseudonym) == 22 and len(sig) == 86, text
    assert household_id not in text and household_id[1:] not in text
    assert abs(int(at) - time.time()) < 120
    pub = bytes(household.evaluate(DEVICE_PUB))
    signed = f"{visit_id}\n{pseudonym}\n{serial}\n{at}".encode()
    assert crypto.verify_sig(pub, crypto.b64u_decode(sig), b"DP1/visit\0" + signed)

    worker.click("[data-testid=checkin-scan]")
    worker.set_input_files("[data-testid=scanner-photo]", str(visit_png))
    worker.fill("[data-testid=checkin-form] input >> nth=0", "幸福里 8 号")
    worker.click("[data-testid=checkin-submit]")
    worker.wait_for_selector("[data-testid=checkout]")
    worker.goto(server.base + "/records")
    worker.wait_for_selector("[data-testid=record][data-kind=checkin][data-state=delivered]", timeout=30000)
    db = server.database_url
    (body,), = rows(db, "SELECT body FROM sync_records WHERE kind = 'checkin' AND serial = ?", code["serial"])
    sent = json.loads(body)
    assert sent["visit_code"] == text and sent["visit_id"] == visit_id and "household_device" not in sent
    visit = rows(db, "SELECT id, device_id, household_pseudonym, code_at, household_device FROM visits WHERE serial = ?", code["serial"])
    assert visit == [(visit_id, device_id(worker), pseudonym, int(at), None)]  # not confirmed yet: no review

    household.click("[data-testid=write-review]")
    household.click("[data-testid=star-4]")
    household.click("[data-testid=review-submit]")
    household.wait_for_selector("[data-testid=saved-toast]")
    household.goto(server.base + "/records")
    household.wait_for_selector("[data-testid=record][data-kind=review][data-state=delivered]", timeout=30000)
    assert rows(db, "SELECT household_device FROM visits WHERE id = ?", visit_id) == [(household_id,)]
    assert rows(db, "SELECT visit_id, confirmed FROM reviews WHERE serial = ?", code["serial"]) == [(visit_id, True)]
