"""`/_sandbox/requests` and `/_sandbox/faults`: the key's request journal and fault rules."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from app import urls
from app.errors import (
    BodyTooLarge,
    InvalidJson,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.http.bodies import JsonBodyRoute
from app.http.deps import CurrentKey, EngineDep, RuntimeDep
from app.http.openapi import SANDBOX, problems
from app.longpoll import PageQuery
from app.sandbox import faults, journal
from app.sandbox.schemas import Fault, FaultBody, FaultList, FaultsDeleted, RequestList

router = APIRouter(prefix=urls.SANDBOX_PREFIX, tags=[SANDBOX], route_class=JsonBodyRoute)


@router.get(
    "/requests",
    response_model=RequestList,
    responses=problems(Unauthorized, ValidationFailed),
)
async def list_requests(
    api_key: CurrentKey, runtime: RuntimeDep, engine: EngineDep, page: PageQuery
) -> RequestList:
    """The key's journaled calls (interop API and transition helpers), newest first."""
    limit = runtime.settings.journal_size
    items = await page.items(
        lambda: journal.list_entries(engine, owner_key=api_key.key, after=page.after, limit=limit)
    )
    return RequestList(items=items)


@router.post(
    "/faults",
    status_code=201,
    response_model=Fault,
    responses=problems(
        InvalidJson, Unauthorized, BodyTooLarge, UnsupportedMediaType, ValidationFailed
    ),
)
async def create_fault(api_key: CurrentKey, body: FaultBody, engine: EngineDep) -> Fault:
    """Make the key's next `times` matching interop calls fail with `status` or wait first."""
    return await run_in_threadpool(faults.create_fault, engine, owner_key=api_key.key, body=body)


@router.get("/faults", response_model=FaultList, responses=problems(Unauthorized))
async def list_faults(api_key: CurrentKey, engine: EngineDep) -> FaultList:
    """The key's fault rules in matching order, with the uses each has `remaining`."""
    items = await run_in_threadpool(faults.list_faults, engine, owner_key=api_key.key)
    return FaultList(items=items)


@router.delete("/faults", response_model=FaultsDeleted, responses=problems(Unauthorized))
async def delete_faults(api_key: CurrentKey, engine: EngineDep) -> FaultsDeleted:
    """Remove every fault rule of the key."""
    deleted = await run_in_threadpool(faults.delete_faults, engine, owner_key=api_key.key)
    return FaultsDeleted(deleted=deleted)
