"""`python -m server COMMAND`: init (migrate + keys), seed-demo, create-regulator, serve, root-pub, rotate-master-key,
create-db."""

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
from server.keyfiles import load_keyring
from server.secrets import reseal_all
from server.settings import get_settings


async def _init() -> dict:
    settings = get_settings()
    upgrade(settings.database_url)
    master = load_keyring(settings.master_key, settings.var_dir, settings.master_key_previous)
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            created = await ensure_platform_keys(session, master, now=Clock().now(), status_size=settings.status_list_size)
            # values under a previous master key or from before key ids: sealed again under the current key
            stale = await reseal_all(session, master, master.snapshot(), stale_only=True)
    finally:
        await db.dispose()
    return {"database": settings.database_url.split("@")[-1], "platform_keys_created": created,
            "sealed_values_resealed": sum(stale.values())}


async def _seed(base_url: str) -> dict:
    from server.demo import seed_demo

    settings = get_settings()
    await _init()
    master = load_keyring(settings.master_key, settings.var_dir, settings.master_key_previous)
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


async def _create_regulator(username: str, display_name: str) -> dict | str:
    import msgspec
    from sqlalchemy import select

    from server.auth import Role
    from server.db.models import Account
    from server.domain.accounts.schemas import Username
    from server.domain.accounts.services import ensure_account

    try:
        msgspec.convert(username, Username)
    except msgspec.ValidationError:
        return "user name: 3 to 40 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
    await _init()
    db = Database(get_settings().database_url)
    try:
        async with db.transaction() as session:
            other = (await session.execute(select(Account.role).where(Account.username == username))).scalar_one_or_none()
            if other is not None and other != Role.REGULATOR.value:
                return f"{username} is an account of another role ({other})"
            account, password = await ensure_account(session, username=username, display_name=display_name,
                                                     role=Role.REGULATOR, now=Clock().now(), by="system:command-line")
            return {"username": username, "role": account.role, "initial_password": password,
                    "next": "sign in at /signin, change the password and set up the authenticator app"}
    finally:
        await db.dispose()


def _print_account(out: dict | str) -> int:
    if isinstance(out, str):
        print(out, file=sys.stderr)
        return 2
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def _rotate() -> int:
    """`rotate-master-key`: the summary as JSON (key ids and counts, never a key); with the key in
    `DOORPASS_MASTER_KEY`, first the new key, for the operator to set."""
    from server.secrets import ResealError, rotate_master_key

    settings = get_settings()

    def announce(new_key: str) -> None:
        print(f"DOORPASS_MASTER_KEY={new_key}", flush=True)
        print("The master key comes from DOORPASS_MASTER_KEY, so no file is written. Set the line above on every "
              "server process, with DOORPASS_MASTER_KEY_PREVIOUS set to the key it replaces, and restart them.",
              file=sys.stderr, flush=True)

    try:
        summary = asyncio.run(rotate_master_key(settings, announce=announce))
    except ResealError as e:
        print(f"rotation stopped, nothing re-sealed, the current key stays in force: {e}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2))
    return 0


async def _create_db() -> str:
    """Create DATABASE_URL's PostgreSQL database when it does not exist (connecting to the server's `postgres`
    database with the same user): for `make run-pg`."""
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(get_settings().database_url)
    if not url.drivername.startswith("postgresql") or not url.database:
        return f"not a PostgreSQL database: {url.drivername}"
    conn = await asyncpg.connect(host=url.host or "127.0.0.1", port=url.port or 5432, user=url.username,
                                 password=url.password, database="postgres")
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", url.database):
            return f"database {url.database} exists"
        name = url.database.replace('"', '""')
        await conn.execute(f'CREATE DATABASE "{name}"')
        return f"database {url.database} created"
    finally:
        await conn.close()


def _address(host: str, port: int) -> str:
    """The address a person opens for this host and port (an IPv6 literal in brackets)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _bind_shared_socket_as_tcp() -> None:
    """uvicorn binds the socket its worker processes share with `proto` 0, and asyncio sets TCP_NODELAY only on
    sockets whose `proto` is TCP: without this every answer of a multi-process server waits for the client's delayed
    ACK (~40 ms; docs/perf.md). One process binds through the event loop and is not affected."""
    import socket

    from uvicorn.config import Config

    bind = Config.bind_socket

    def bind_tcp(self: Config) -> socket.socket:
        sock = bind(self)
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        return sock

    Config.bind_socket = bind_tcp  # type: ignore[method-assign]


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
    reg = sub.add_parser("create-regulator", help="create the first regulator account (or give it a new first password)")
    reg.add_argument("username", help="lower-case letters, digits, . _ -")
    reg.add_argument("--name", default="监管部门", help="the name shown for the account")
    sub.add_parser("root-pub", help="print the root public key (b64u) that verifiers pin")
    sub.add_parser("rotate-master-key", help="make a new master key and re-seal every sealed value under it")
    sub.add_parser("create-db", help="create DATABASE_URL's PostgreSQL database if it does not exist (make run-pg)")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.cmd == "init":
        print(json.dumps(asyncio.run(_init())))
    elif args.cmd == "seed-demo":
        base = args.base_url or _address(settings.host, settings.port)
        print(json.dumps(asyncio.run(_seed(base)), ensure_ascii=False, indent=2))
    elif args.cmd == "create-regulator":
        return _print_account(asyncio.run(_create_regulator(args.username, args.name)))
    elif args.cmd == "root-pub":
        print(asyncio.run(_root_pub()))
    elif args.cmd == "rotate-master-key":
        return _rotate()
    elif args.cmd == "create-db":
        print(asyncio.run(_create_db()))
    elif args.cmd == "serve":
        import uvicorn

        _bind_shared_socket_as_tcp()

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
