"""What controllers get injected: the database, the master key, the clock, the principal."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from crypto import Keyring
from server.auth import Actor, Principal, principal_of
from server.clock import Clock
from server.db.engine import Database
from server.domain.lists.services import ListCache
from server.domain.verify.journal import Journal
from server.settings import Settings


@dataclass(slots=True)
class Context:
    """Per-request handles on the process-wide state."""

    db: Database
    master: Keyring
    """The master keyring: seal and open with server/secrets.py."""
    settings: Settings
    clock: Clock
    lists: ListCache
    journal: Journal
    """Online verifications waiting to be recorded (written in batches)."""
    principal: Principal

    def now(self) -> int:
        return self.clock.now()

    def actor(self, session: AsyncSession) -> Actor:
        """Who acts in this transaction, now."""
        return Actor(self.principal, session, self.now())


async def provide_ctx(request: Request) -> Context:
    """The handles, from the app's state (read from the app itself: a `state: State` parameter would make Litestar
    build a State object for every request)."""
    state = request.app.state
    return Context(
        db=state.db, master=state.master, settings=state.settings, clock=state.clock, lists=state.lists,
        journal=state.journal, principal=principal_of(request),
    )


DEPENDENCIES = {"ctx": Provide(provide_ctx)}
