"""The Litestar application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, get
from litestar.config.compression import CompressionConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin

from server import body_limits, limits
from server.auth import AuthenticationMiddleware
from server.clock import Clock
from server.db.engine import Database
from server.deps import DEPENDENCIES
from server.domain.accounts import AccountController, AuthController
from server.domain.directory.controllers import DirectoryController
from server.domain.lists.controllers import ListController
from server.domain.lists.services import ListListener
from server.domain.passes.controllers import EnrollController, PassAdminController
from server.domain.registry.controllers import RegistryController
from server.domain.sync.controllers import RecordsAdminController, SyncController, TrainingController
from server.domain.verify.controllers import VerifyController
from server.domain.verify.journal import Journal
from server.domain.verify.services import ListCache
from server.errors import EXCEPTION_HANDLERS, document_errors
from server.keyfiles import load_keyring
from server.security import DoorPassRequest, security_headers
from server.settings import Settings, get_settings
from server.web import spa


@get("/api/health", operation_id="health", tags=["meta"])
async def health() -> dict:
    """Liveness."""
    return {"ok": True}


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Litestar:
    """Build the app. Migrations and key creation are separate steps (`python -m server init`)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        app.state.db = db
        app.state.journal.start(db)
        await app.state.lists_listener.start(db)  # PostgreSQL: other processes' list changes heard at once
        try:
            yield
        finally:
            await app.state.lists_listener.stop()
            await app.state.journal.close(db)
            await db.dispose()

    app = Litestar(
        route_handlers=[
            health, AuthController, AccountController, ListController, EnrollController, PassAdminController, RegistryController, VerifyController, SyncController,
            TrainingController, RecordsAdminController, DirectoryController, spa,
        ],
        dependencies=DEPENDENCIES,
        middleware=[AuthenticationMiddleware],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        before_send=[security_headers], request_class=DoorPassRequest,
        lifespan=[lifespan],
        stores=limits.stores(settings), on_shutdown=[limits.close_stores],
        openapi_config=OpenAPIConfig(
            title="DoorPass 安心上门证 API", version="0.1.0", path="/schema", render_plugins=[JsonRenderPlugin()]
        ),
        request_max_body_size=body_limits.DEFAULT,
        # API answers of 1 KiB and more are gzipped for clients that accept it (the lists, pull pages). The PWA's
        # files come precompressed from the build (brotli and gzip): their handler's opt (server.web.SKIP_COMPRESSION)
        # keeps this middleware off them, which would otherwise gzip a .br body a second time.
        compression_config=CompressionConfig(
            backend="gzip", minimum_size=1024, gzip_compress_level=6, exclude_opt_key="precompressed"
        ),
        debug=False,
        logging_config=None,
    )
    document_errors(app)
    app.state.settings = settings
    app.state.clock = clock or Clock()
    app.state.lists = ListCache()
    app.state.lists_listener = ListListener(app.state.lists)
    app.state.journal = Journal()
    app.state.master = load_keyring(settings.master_key, settings.var_dir, settings.master_key_previous)
    logging.getLogger("doorpass").setLevel(logging.INFO)
    return app
