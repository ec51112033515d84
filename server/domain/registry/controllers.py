"""Admin API for agencies, outlets, workers and training records."""

from __future__ import annotations

from litestar import Controller, get, post

from server.deps import Context
from server.domain.lists.services import create_issuer_key
from server.domain.registry import guards as g
from server.domain.registry import schemas as s
from server.domain.registry import services as svc
from server.schemas import RowId


class RegistryController(Controller):
    path = "/api/admin"
    tags = ["admin"]

    @post("/agencies", operation_id="createAgency", opt=g.REGULATOR)
    async def create_agency(self, data: s.AgencyCreate, ctx: Context) -> s.Agency:
        """Register an agency and give it an issuer key."""
        async with ctx.db.transaction() as session:
            return await svc.create_agency(ctx.actor(session), ctx.master, data, key_days=ctx.settings.issuer_key_days)

    @get("/agencies", operation_id="listAgencies", opt=g.AGENCY_READERS)
    async def list_agencies(self, ctx: Context) -> list[s.Agency]:
        """The agencies this account sees (the regulator all) with their current issuer key."""
        async with ctx.db.read() as session:
            return await svc.list_agencies(ctx.actor(session))

    @post("/agencies/{agency_id:int}/rotate-key", operation_id="rotateIssuerKey", opt=g.AGENCY_KEYS)
    async def rotate_key(self, agency_id: RowId, ctx: Context) -> s.Agency:
        """A new issuer key signs new passes; the old one stays trusted until its passes expire."""
        async with ctx.db.transaction() as session:
            agency = await svc.get_agency(ctx.actor(session), agency_id)
            await create_issuer_key(session, ctx.master, agency, now=ctx.now(), days=ctx.settings.issuer_key_days)
            return await svc.agency_view(session, agency)

    @post("/outlets", operation_id="createOutlet", opt=g.REGULATOR)
    async def create_outlet(self, data: s.OutletCreate, ctx: Context) -> s.Outlet:
        """Register a community home-service outlet."""
        async with ctx.db.transaction() as session:
            return await svc.create_outlet(ctx.actor(session), data)

    @get("/outlets", operation_id="listOutlets", opt=g.ANY_STAFF)
    async def list_outlets(self, ctx: Context) -> list[s.Outlet]:
        """All outlets."""
        async with ctx.db.read() as session:
            return await svc.list_outlets(session)

    @post("/workers", operation_id="createWorker", opt=g.AGENCY_WORKERS)
    async def create_worker(self, data: s.WorkerCreate, ctx: Context) -> s.Worker:
        """Register a worker with an agency (the ID number is sealed and shown masked)."""
        async with ctx.db.transaction() as session:
            return svc.worker_view(await svc.create_worker(ctx.actor(session), ctx.master, data))

    @get("/workers/{worker_id:int}", operation_id="getWorker", opt=g.AGENCY_READERS)
    async def get_worker(self, worker_id: RowId, ctx: Context) -> s.Worker:
        """One worker, ID number masked."""
        async with ctx.db.read() as session:
            return svc.worker_view(await svc.get_worker(ctx.actor(session), worker_id))

    @post("/workers/{worker_id:int}/trainings", operation_id="addTraining", opt=g.AGENCY_WORKERS)
    async def add_training(self, worker_id: RowId, data: s.TrainingCreate, ctx: Context) -> s.Worker:
        """Add a training record to a worker."""
        async with ctx.db.transaction() as session:
            return svc.worker_view(await svc.add_training(ctx.actor(session), worker_id, data))
