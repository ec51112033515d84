"""`python -m server COMMAND`: init (migrate + keys), seed-demo, serve, admin-token."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from server.clock import Clock
from server.db.engine import Database
from server.db.migrate import upgrade
from server.domain.lists.services import ensure_platform_keys
from server.keyfiles import load_admin_token, load_master_key
from server.settings import get_settings


async def _init() -> dict:
    settings = get_settings()
    upgrade(settings.database_url)
    master = load_master_key(settings.master_key, settings.var_dir)
    load_admin_token(settings.admin_token, settings.var_dir)
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            created = await ensure_platform_keys(session, master, now=Clock().now(), status_size=settings.status_list_size)
    finally:
        await db.dispose()
    return {"database": settings.database_url.split("@")[-1], "platform_keys_created": created}


async def _seed(base_url: str) -> dict:
    from server.demo import seed_demo

    settings = get_settings()
    await _init()
    master = load_master_key(settings.master_key, settings.var_dir)
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            seeded = await seed_demo(session, master, settings, now=Clock().now(), base_url=base_url)
    finally:
        await db.dispose()
    return _write_activation_qrs(seeded, settings.var_dir / "demo")


def _write_activation_qrs(seeded: dict, folder: Path) -> dict:
    """Each fresh code's activation QR as an SVG under var/demo/ (open it on screen, scan it with the worker app)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("activation-*.svg"):  # earlier runs' codes no longer work
        old.unlink()
    for c in seeded["activation_codes"]:
        path = folder / f"activation-{c['serial']}-{c['expected_status']}.svg"
        path.write_text(c.pop("qr_svg"), encoding="utf-8")
        c["qr_file"] = str(path)
    return seeded


async def _root_pub() -> str:
    from crypto import b64u_encode
    from server.domain.lists.services import root_pub

    await _init()
    db = Database(get_settings().database_url)
    try:
        async with db.transaction() as session:
            return b64u_encode(await root_pub(session))
    finally:
        await db.dispose()


def _address(host: str, port: int) -> str:
    """The address a person opens for this host and port (an IPv6 literal in brackets)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server", description="DoorPass server")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("init", help="migrate the database and create the platform keys (idempotent)")
    seed = sub.add_parser("seed-demo", help="create demo data and print fresh activation codes as JSON (idempotent)")
    seed.add_argument("--base-url", default=None)
    serve = sub.add_parser("serve", help="serve the API and the PWA")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--workers", type=int, default=1, help="server processes (use PostgreSQL for more than one)")
    sub.add_parser("admin-token", help="print the admin bearer token")
    sub.add_parser("root-pub", help="print the root public key (b64u) that verifiers pin")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.cmd == "init":
        print(json.dumps(asyncio.run(_init())))
    elif args.cmd == "seed-demo":
        base = args.base_url or _address(settings.host, settings.port)
        print(json.dumps(asyncio.run(_seed(base)), ensure_ascii=False, indent=2))
    elif args.cmd == "admin-token":
        print(load_admin_token(settings.admin_token, settings.var_dir))
    elif args.cmd == "root-pub":
        print(asyncio.run(_root_pub()))
    elif args.cmd == "serve":
        import uvicorn

        if args.workers > 1 and settings.is_sqlite:
            print("several server processes need PostgreSQL: set DATABASE_URL", file=sys.stderr)
            return 2
        host, port = args.host or settings.host, args.port or settings.port
        print(f"DoorPass on {_address(host, port)}  (Ctrl+C stops it)", flush=True)
        uvicorn.run(
            "server.app:create_app", factory=True, host=host, port=port, workers=args.workers, log_level="info",
            access_log=False,
        )
    return 0
