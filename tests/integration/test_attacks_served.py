"""Issue 9's six attacks, replayed against a real server process (uvicorn, as `make run` starts it).

Each is refused with a clear zh-CN and English answer. (Finer tests of each defence live beside its code:
tests/integration/api/, tests/integration/sync/; this file shows them holding in the running server.)
"""

from __future__ import annotations

import base64
import csv
import io
import json
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.records import VERSIONS, Device, uuid7
from tests.served import Served


def _request(base: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None):  # type: ignore[no-untyped-def]
    req = urllib.request.Request(base + path, data=body, method=method, headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers, r.read()  # headers: case-insensitive
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def _json(base: str, method: str, path: str, body: object = None, headers: dict | None = None):  # type: ignore[no-untyped-def]
    status, h, raw = _request(base, method, path, None if body is None else json.dumps(body, ensure_ascii=False).encode(), headers)
    return status, h, json.loads(raw or b"{}")


def _push(base: str, device: Device, records: list) -> tuple:
    """A push signed by `device`'s key (registered first)."""
    device.register(base)
    body, headers = device.push_request({"device_id": device.id, "records": records, **VERSIONS})
    status, h, raw = _request(base, "POST", "/api/sync/push", body, headers)
    return status, h, json.loads(raw or b"{}")


def tie_to_outlet(served: Served, device: Device, staff: dict[str, str]) -> Device:
    """Tie `device` to the outlet of the staff account whose session `staff` carries (docs/devices.md)."""
    device.register(served.base)
    path = "/api/sync/devices/outlet"
    body = json.dumps({"device_id": device.id}).encode()
    status, _, raw = _request(served.base, "POST", path, body, {**staff, **device.signed("POST", path, body)})
    assert status == 200, raw
    return device


def _said(body: dict) -> None:
    assert body["message"] and body["message_en"], body


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    s = Served(tmp_path_factory.mktemp("attacks"), env={"DOORPASS_RATE_LIMITS": "on"})
    s.valid_phone = s.phone("valid")  # type: ignore[attr-defined]  # enrolled before the enroll limit is tried last
    yield s
    s.stop()


def _agency_admin(served: Served) -> dict[str, str]:
    return served.staff("demo-a1-admin")


def test_1_a_wrong_code_says_only_wrong_code_and_guessing_is_throttled(served: Served) -> None:
    phone = served.valid_phone  # type: ignore[attr-defined]
    answers = []
    for serial in (phone.serial, 999_999_999):  # a real pass, an unknown number: the same answer
        status, _, body = _json(served.base, "POST", "/api/verify/code", {"serial": serial, "code": "000000"})
        assert status == 200 and body["result"] == "bad_code" and body["holder"] is None and body["reasons"] == []
        answers.append({k: v for k, v in body.items() if k != "server_time"})
    assert answers[0] == answers[1]
    codes = [_json(served.base, "POST", "/api/verify/code", {"serial": phone.serial, "code": f"{i:06d}"})[0] for i in range(12)]
    assert 429 in codes, codes
    status, headers, body = _json(served.base, "POST", "/api/verify/code", {"serial": phone.serial, "code": "111111"})
    assert status == 429 and int(headers["Retry-After"]) > 0
    _said(body)


def test_2_rejected_records_keep_only_a_prefix(served: Served) -> None:
    db = Path(served.database_url.split("///", 1)[1])
    before = db.stat().st_size + (db.with_name(db.name + "-wal").stat().st_size if db.with_name(db.name + "-wal").exists() else 0)
    device = Device()
    filler = "拒" * 30_000  # ~90 KB a record, of no known kind
    for _ in range(3):
        records = [{"kind": "nonsense", "id": uuid7(), "seq": device.seq + i + 1, "at": 1, "blob": filler} for i in range(30)]
        device.seq += 30
        status, _, body = _push(served.base, device, records)
        assert status == 200 and {r["status"] for r in body["receipts"]} == {"rejected"}
    with sqlite3.connect(db) as conn:
        sizes = [n for (n,) in conn.execute("SELECT length(body) FROM sync_records WHERE device_id = ?", (device.id,))]
    assert len(sizes) == 90 and max(sizes) <= 256
    wal = db.with_name(db.name + "-wal")
    after = db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    assert after - before < 2_000_000, (before, after)  # 8 MB pushed; the old code stored all of it


def test_3_an_svg_or_html_photo_is_refused_and_every_answer_has_security_headers(served: Served) -> None:
    admin = _agency_admin(served)
    agency_id = _json(served.base, "GET", "/api/auth/me", headers=admin)[2]["agency_id"]
    for data in (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', b"<html><script>alert(1)</script>"):
        body = {"agency_id": agency_id, "name": "假照片", "photo": base64.b64encode(data).decode()}
        status, _, answer = _json(served.base, "POST", "/api/admin/workers", body, admin)
        assert status == 400 and answer["error"] == "bad_photo", answer
        _said(answer)
    phone = served.valid_phone  # type: ignore[attr-defined]
    for path in ("/", "/api/health", f"/api/passes/{phone.serial}/photo", "/api/nothing"):
        _, headers, _ = _request(served.base, "GET", path)
        assert "script-src 'self'" in headers["Content-Security-Policy"] or "sandbox" in headers["Content-Security-Policy"], path
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer", path
    _, headers, _ = _request(served.base, "GET", f"/api/passes/{phone.serial}/photo")
    assert headers["Content-Security-Policy"].startswith("sandbox")


def test_4_huge_numbers_and_deep_json_are_400s(served: Served) -> None:
    for path in ("/api/passes/99999999999999999999999/photo", "/api/sync/pull?device_id=abcdefgh&cursor=99999999999999999999999"):
        status, _, body = _json(served.base, "GET", path)
        assert status == 400, (path, body)
        _said(body)
    deep = ("[" * 2000 + "]" * 2000).encode()
    status, _, raw = _request(served.base, "POST", "/api/verify", deep)
    assert status == 400
    _said(json.loads(raw))


def test_5_csv_formulas_are_text_and_the_file_name_holds(served: Served) -> None:
    outlet_staff = served.staff("demo-o1-staff")
    outlet_id = _json(served.base, "GET", "/api/auth/me", headers=outlet_staff)[2]["outlet_id"]
    staff, sid = tie_to_outlet(served, Device(), outlet_staff), uuid7()
    course = '=HYPERLINK("http://evil.example","点我")'
    records = [staff.record("session", session_id=sid, outlet_id=outlet_id, course=course, day="2026-11-24"),
               staff.record("attendance", session_id=sid, trainee_number="T-0001")]
    assert _push(served.base, staff, records)[0] == 200
    status, headers, raw = _request(served.base, "GET", f"/api/admin/training/sessions/{sid}/attendance.csv", headers=outlet_staff)
    assert status == 200
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[1][0] == "'" + course
    status, headers, _ = _request(served.base, "GET", '/api/admin/training/sessions/x"%3B%20filename%3D"evil.html/attendance.csv',
                                  headers=outlet_staff)
    assert status == 400 and headers.get("Content-Disposition") is None


def test_6_errors_match_the_published_schema(served: Served) -> None:
    spec = _json(served.base, "GET", "/schema/openapi.json")[2]
    error_schema = spec["components"]["schemas"]["ErrorBody"]
    assert {"error", "message", "message_en"} <= set(error_schema["properties"])
    status, _, body = _json(served.base, "POST", "/api/verify", {"qr": 5})
    assert status == 400 and set(body) <= set(error_schema["properties"])


def test_staff_act_only_on_their_own_agency(served: Served) -> None:
    a1, a2 = served.staff("demo-a1-admin"), served.staff("demo-a2-admin")
    a1_agency = _json(served.base, "GET", "/api/auth/me", headers=a1)[2]["agency_id"]
    worker = _json(served.base, "POST", "/api/admin/workers", {"agency_id": a1_agency, "name": "赵阿姨"}, a1)[2]
    assert _json(served.base, "GET", f"/api/admin/workers/{worker['id']}", headers=a1)[0] == 200
    status, _, body = _json(served.base, "GET", f"/api/admin/workers/{worker['id']}", headers=a2)
    assert status == 404 and body["message"] == "找不到这位家政服务员"
    status, _, body = _json(served.base, "POST", f"/api/admin/workers/{worker['id']}/passes", {}, a2)
    assert status == 404
    status, _, body = _json(served.base, "POST", "/api/admin/workers", {"agency_id": a1_agency, "name": "冒名"}, a2)
    assert status == 404
    no_csrf = {"cookie": a1["cookie"]}
    assert _json(served.base, "POST", "/api/admin/workers", {"agency_id": a1_agency, "name": "钱阿姨"}, no_csrf)[0] == 403


def test_1b_activation_codes_cannot_be_guessed_at_speed(served: Served) -> None:
    """Last in this file: it spends this client's enroll allowance for the minute."""
    enrolls = [_json(served.base, "POST", "/api/enroll", {"code": f"AAAA-BBBB-{i:04d}", "device_pub": "A" * 43}) for i in range(12)]
    assert enrolls[0][0] == 404 and enrolls[-1][0] == 429, [e[0] for e in enrolls]
    assert int(enrolls[-1][1]["Retry-After"]) > 0
    _said(enrolls[-1][2])
