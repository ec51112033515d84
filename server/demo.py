"""Demo data: agencies, outlets, workers with training, and fresh activation codes (idempotent)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crypto import Keyring
from server.auth import Actor, Role, system_principal
from server.db.models import Agency, Outlet, Pass, Worker
from server.domain.accounts.services import ensure_account
from server.domain.passes import schemas as ps
from server.domain.passes import services as passes
from server.domain.registry import schemas as rs
from server.domain.registry import services as registry
from server.settings import Settings

DATA = Path(__file__).resolve().parent / "demo_data.json"
ACTOR = system_principal("seed-demo")
DEMO_ACCOUNTS = (
    # (user name, display name, role, agency key, outlet key): one account per staff role, and a second agency's
    # admin to show that agencies do not see each other's workers.
    ("demo-regulator", "监管部门（演示）", Role.REGULATOR, None, None),
    ("demo-a1-admin", "申安家政管理员（演示）", Role.AGENCY_ADMIN, "a1", None),
    ("demo-a1-staff", "申安家政工作人员（演示）", Role.AGENCY_STAFF, "a1", None),
    ("demo-a2-admin", "青禾家政管理员（演示）", Role.AGENCY_ADMIN, "a2", None),
    ("demo-o1-staff", "晨曦网点工作人员（演示）", Role.OUTLET_STAFF, None, "o1"),
)


async def seed_demo(session: AsyncSession, master: Keyring, settings: Settings, *, now: int, base_url: str) -> dict:
    """Create what is missing; give every demo worker whose pass is not yet bound a fresh activation code,
    and every demo account a fresh first password (two factors to set up at first sign-in)."""
    actor = Actor(ACTOR, session, now)
    data = json.loads(DATA.read_text(encoding="utf-8"))
    today = date(1970, 1, 1) + timedelta(days=now // 86400)
    agencies: dict[str, int] = {}
    for a in data["agencies"]:
        row = (await session.execute(select(Agency).where(Agency.demo_key == a["key"]))).scalar_one_or_none()
        if row is None:
            view = await registry.create_agency(
                actor, master, rs.AgencyCreate(name=a["name"], city=a.get("city", ""), phone=a.get("phone", "")),
                key_days=settings.issuer_key_days, demo_key=a["key"],
            )
            agencies[a["key"]] = view.id
        else:
            agencies[a["key"]] = row.id
    outlets: dict[str, int] = {}
    for o in data["outlets"]:
        outlet = (await session.execute(select(Outlet).where(Outlet.demo_key == o["key"]))).scalar_one_or_none()
        if outlet is None:
            outlets[o["key"]] = (
                await registry.create_outlet(actor, rs.OutletCreate(name=o["name"], address=o.get("address", "")), demo_key=o["key"])
            ).id
        else:
            outlets[o["key"]] = outlet.id
    codes = []
    for w in data["workers"]:
        worker = (await session.execute(select(Worker).where(Worker.demo_key == w["key"]))).unique().scalar_one_or_none()
        if worker is None:
            worker = await registry.create_worker(
                actor, master,
                rs.WorkerCreate(
                    agency_id=agencies[w["agency"]], name=w["name"], phone=w.get("phone", ""), id_number=w.get("id_number", ""),
                    services=w.get("services", []),
                    health_check_until=today + timedelta(days=int(w.get("health_check_valid_days", 180))),
                ),
                demo_key=w["key"],
            )
            for t in w.get("trainings", []):
                await registry.add_training(
                    actor, worker.id,
                    rs.TrainingCreate(
                        course=t["course"], day=today - timedelta(days=int(t.get("days_ago", 30))), hours=int(t.get("hours", 0)),
                        outlet_id=outlets.get(t.get("outlet", "")), certificate=t.get("certificate", ""),
                    ),
                )
        codes.append(await _fresh_code(actor, master, settings, worker, w, base_url=base_url))
    accounts = []
    for username, display, role, agency_key, outlet_key in DEMO_ACCOUNTS:
        account, password = await ensure_account(
            session, username=username, display_name=display, role=role, now=now, by=ACTOR.label,
            agency_id=agencies[agency_key] if agency_key else None, outlet_id=outlets[outlet_key] if outlet_key else None,
        )
        accounts.append({"username": username, "password": password, "role": role.value, "agency_id": account.agency_id,
                         "outlet_id": account.outlet_id, "display_name": display})
    return {"activation_codes": codes, "accounts": accounts,
            "sign_in": f"{base_url.rstrip('/')}/signin: a user name and password below; set up the authenticator at first sign-in"}


async def _fresh_code(actor: Actor, master: Keyring, settings: Settings, worker: Worker, w: dict, *, base_url: str) -> dict:
    session = actor.session
    expected = w.get("demo_status", "valid")
    latest = (
        await session.execute(select(Pass).where(Pass.worker_id == worker.id).order_by(Pass.created_at.desc(), Pass.serial.desc()))
    ).unique().scalars().first()
    if latest is not None and latest.device_pub is None and latest.state != "revoked":
        act = await passes.new_activation(actor, latest, ttl=settings.activation_ttl, base_url=base_url)
    else:
        act = await passes.issue_pass(
            actor, master, worker.id, valid_days=settings.pass_valid_days, ttl=settings.activation_ttl, base_url=base_url,
        )
        reason, reason_en = w.get("status_reason", ""), w.get("status_reason_en", "")
        if expected in ("caution", "red"):
            await passes.set_status(actor, master, act.serial, ps.StatusChange(status=expected, reason=reason, reason_en=reason_en))
        elif expected == "revoked":
            # A revoked pass refuses enrollment: its code is printed to show that refusal.
            await passes.revoke(actor, master, act.serial, ps.ReasonBody(reason=reason or "已注销", reason_en=reason_en))
    return {"code": act.code, "serial": act.serial, "expected_status": expected, "name": worker.name, "url": act.url,
            "qr_svg": act.qr_svg}
