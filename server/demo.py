"""Demo data: agencies, outlets, workers with training, and fresh activation codes (idempotent)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Agency, Outlet, Pass, Worker
from server.domain.passes import schemas as ps
from server.domain.passes import services as passes
from server.domain.registry import schemas as rs
from server.domain.registry import services as registry
from server.settings import Settings

DATA = Path(__file__).resolve().parent / "demo_data.json"
ACTOR = "system:seed-demo"


async def seed_demo(session: AsyncSession, master: bytes, settings: Settings, *, now: int, base_url: str) -> dict:
    """Create what is missing; give every demo worker whose pass is not yet bound a fresh activation code."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    today = date(1970, 1, 1) + timedelta(days=now // 86400)
    agencies: dict[str, int] = {}
    for a in data["agencies"]:
        row = (await session.execute(select(Agency).where(Agency.demo_key == a["key"]))).scalar_one_or_none()
        if row is None:
            view = await registry.create_agency(
                session, master, rs.AgencyCreate(name=a["name"], city=a.get("city", ""), phone=a.get("phone", "")),
                now=now, key_days=settings.issuer_key_days, demo_key=a["key"],
            )
            agencies[a["key"]] = view.id
        else:
            agencies[a["key"]] = row.id
    outlets: dict[str, int] = {}
    for o in data["outlets"]:
        row = (await session.execute(select(Outlet).where(Outlet.demo_key == o["key"]))).scalar_one_or_none()
        if row is None:
            outlets[o["key"]] = (
                await registry.create_outlet(session, rs.OutletCreate(name=o["name"], address=o.get("address", "")), now=now, demo_key=o["key"])
            ).id
        else:
            outlets[o["key"]] = row.id
    codes = []
    for w in data["workers"]:
        worker = (await session.execute(select(Worker).where(Worker.demo_key == w["key"]))).unique().scalar_one_or_none()
        if worker is None:
            worker = await registry.create_worker(
                session, master,
                rs.WorkerCreate(
                    agency_id=agencies[w["agency"]], name=w["name"], phone=w.get("phone", ""), id_number=w.get("id_number", ""),
                    services=w.get("services", []),
                    health_check_until=today + timedelta(days=int(w.get("health_check_valid_days", 180))),
                ),
                now=now, demo_key=w["key"],
            )
            for t in w.get("trainings", []):
                await registry.add_training(
                    session, worker.id,
                    rs.TrainingCreate(
                        course=t["course"], day=today - timedelta(days=int(t.get("days_ago", 30))), hours=int(t.get("hours", 0)),
                        outlet_id=outlets.get(t.get("outlet", "")), certificate=t.get("certificate", ""),
                    ),
                )
        codes.append(await _fresh_code(session, master, settings, worker, w, now=now, base_url=base_url))
    return {"activation_codes": codes}


async def _fresh_code(session: AsyncSession, master: bytes, settings: Settings, worker: Worker, w: dict, *, now: int, base_url: str) -> dict:
    expected = w.get("demo_status", "valid")
    latest = (
        await session.execute(select(Pass).where(Pass.worker_id == worker.id).order_by(Pass.created_at.desc(), Pass.serial.desc()))
    ).unique().scalars().first()
    if latest is not None and latest.device_pub is None and latest.state != "revoked":
        act = await passes.new_activation(session, latest, now=now, ttl=settings.activation_ttl, actor=ACTOR, base_url=base_url)
    else:
        act = await passes.issue_pass(
            session, master, worker.id, now=now, valid_days=settings.pass_valid_days, ttl=settings.activation_ttl,
            actor=ACTOR, base_url=base_url,
        )
        reason, reason_en = w.get("status_reason", ""), w.get("status_reason_en", "")
        if expected in ("caution", "red"):
            await passes.set_status(session, master, act.serial, ps.StatusChange(status=expected, reason=reason, reason_en=reason_en), now=now, actor=ACTOR)
        elif expected == "revoked":
            # A revoked pass refuses enrollment: its code is printed to show that refusal.
            await passes.revoke(session, master, act.serial, ps.ReasonBody(reason=reason or "已注销", reason_en=reason_en), now=now, actor=ACTOR)
    return {"code": act.code, "serial": act.serial, "expected_status": expected, "name": worker.name, "url": act.url,
            "qr_svg": act.qr_svg}
