"""Admin API for agencies, outlets, workers and training records."""

from __future__ import annotations

from litestar import Controller, get, post

from server.auth import admin_only
from server.deps import Context
from server.domain.lists.services import create_issuer_key
from server.domain.registry import schemas as s
from server.domain.registry import services as svc


class RegistryController(Controller):
    path = "/api/admin"
    guards = [admin_only]
    tags = ["admin"]

    @post("/agencies", operation_id="createAgency")
    async def create_agency(self, data: s.AgencyCreate, ctx: Context) -> s.Agency:
        """Register an agency and give it an issuer key."""
        async with ctx.db.transaction() as session:
            return await svc.create_agency(session, ctx.master, data, now=ctx.now(), key_days=ctx.settings.issuer_key_days)

    @get("/agencies", operation_id="listAgencies")
    async def list_agencies(self, ctx: Context) -> list[s.Agency]:
        """All agencies with their current issuer key."""
        async with ctx.db.transaction() as session:
            return await svc.list_agencies(session)

    @post("/agencies/{agency_id:int}/rotate-key", operation_id="rotateIssuerKey")
    async def rotate_key(self, agency_id: int, ctx: Context) -> s.Agency:
        """A new issuer key signs new passes; the old one stays trusted until its passes expire."""
        async with ctx.db.transaction() as session:
            agency = await svc.get_agency(session, agency_id)
            await create_issuer_key(session, ctx.master, agency, now=ctx.now(), days=ctx.settings.issuer_key_days)
            return await svc.agency_view(session, agency)

    @post("/outlets", operation_id="createOutlet")
    async def create_outlet(self, data: s.OutletCreate, ctx: Context) -> s.Outlet:
        """Register a community home-service outlet."""
        async with ctx.db.transaction() as session:
            return await svc.create_outlet(session, data, now=ctx.now())

    @get("/outlets", operation_id="listOutlets")
    async def list_outlets(self, ctx: Context) -> list[s.Outlet]:
        """All outlets."""
        async with ctx.db.transaction() as session:
            return await svc.list_outlets(session)

    @post("/workers", operation_id="createWorker")
    async def create_worker(self, data: s.WorkerCreate, ctx: Context) -> s.Worker:
        """Register a worker with an agency (the ID number is sealed and shown masked)."""
        async with ctx.db.transaction() as session:
            return svc.worker_view(await svc.create_worker(session, ctx.master, data, now=ctx.now()))

    @get("/workers/{worker_id:int}", operation_id="getWorker")
    async def get_worker(self, worker_id: int, ctx: Context) -> s.Worker:
        """One worker, ID number masked."""
        async with ctx.db.transaction() as session:
            return svc.worker_view(await svc.get_worker(session, worker_id))

    @post("/workers/{worker_id:int}/trainings", operation_id="addTraining")
    async def add_training(self, worker_id: int, data: s.TrainingCreate, ctx: Context) -> s.Worker:
        """Add a training record to a worker."""
        async with ctx.db.transaction() as session:
            return svc.worker_view(await svc.add_training(session, worker_id, data))
