"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from server.db.models import Base
from sync.models import sync_metadata

METADATA = [Base.metadata, sync_metadata]
"""What `server/db/migrations/env.py` compares with: the server's tables and the ones sync owns."""


async def test_migrations_match_models(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            # alembic takes a list of metadatas, as env.py's target_metadata, though typed for one
            diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), METADATA))  # type: ignore[arg-type]
    finally:
        await engine.dispose()
    assert diff == []
