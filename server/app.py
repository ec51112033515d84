"""The Litestar application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, get
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin

from server.clock import Clock
from server.db.engine import Database
from server.deps import DEPENDENCIES
from server.domain.lists.controllers import ListController
from server.domain.passes.controllers import EnrollController, PassAdminController
from server.domain.registry.controllers import RegistryController
from server.domain.sync.controllers import RecordsAdminController, SyncController, TrainingController
from server.domain.verify.controllers import VerifyController
from server.domain.verify.services import ListCache
from server.errors import EXCEPTION_HANDLERS
from server.keyfiles import load_admin_token, load_master_key
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
        try:
            yield
        finally:
            await db.dispose()

    app = Litestar(
        route_handlers=[
            health, ListController, EnrollController, PassAdminController, RegistryController, VerifyController, SyncController,
            TrainingController, RecordsAdminController, spa,
        ],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title="DoorPass 安心上门证 API", version="0.1.0", path="/schema", render_plugins=[JsonRenderPlugin()]
        ),
        debug=False,
        logging_config=None,
    )
    app.state.settings = settings
    app.state.clock = clock or Clock()
    app.state.lists = ListCache()
    app.state.master = load_master_key(settings.master_key, settings.var_dir)
    app.state.admin_token = load_admin_token(settings.admin_token, settings.var_dir)
    logging.getLogger("doorpass").setLevel(logging.INFO)
    return app
