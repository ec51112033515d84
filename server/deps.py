"""What controllers get injected: the database, the master key, the clock, the principal."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from server.auth import Principal, resolve_principal
from server.clock import Clock
from server.db.engine import Database
from server.domain.verify.services import ListCache
from server.settings import Settings


@dataclass
class Context:
    """Per-request handles on the process-wide state."""

    db: Database
    master: bytes
    settings: Settings
    clock: Clock
    lists: ListCache
    principal: Principal

    def now(self) -> int:
        return self.clock.now()


async def provide_ctx(request: Request, state: State) -> Context:
    return Context(
        db=state.db, master=state.master, settings=state.settings, clock=state.clock, lists=state.lists,
        principal=resolve_principal(request),
    )


DEPENDENCIES = {"ctx": Provide(provide_ctx)}
