"""`/_sandbox/receiver-checks` (vendor scope): start a check, read it as its cases arrive
(SPEC §8). The dashboard's routes are in app/admin/receiver_check_endpoints.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool

from app import urls
from app.errors import (
    BodyTooLarge,
    InvalidJson,
    NoWebhook,
    ReceiverCheckNotFound,
    ReceiverCheckRunning,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.http.bodies import JsonBodyRoute
from app.http.deps import BaseUrlDep, CurrentKey, EngineDep, RuntimeDep
from app.http.openapi import SANDBOX, problems
from app.longpoll import PageQuery, Wait, wait_for_items
from app.receiver_checks import service
from app.receiver_checks.schemas import (
    CheckStatus,
    ReceiverCheck,
    ReceiverCheckBody,
    ReceiverCheckList,
)

router = APIRouter(
    prefix=f"{urls.SANDBOX_PREFIX}/receiver-checks", tags=[SANDBOX], route_class=JsonBodyRoute
)

_BODY_ERRORS = (InvalidJson, BodyTooLarge, UnsupportedMediaType, ValidationFailed)
CheckId = Annotated[
    str, Path(description="The receiver check's `id`.", json_schema_extra={"format": "uuid"})
]


async def _finished(
    request: Request, engine: EngineDep, *, owner_key: str, check_id: str, wait: float
) -> ReceiverCheck:
    """The check, the request held up to `wait` seconds for it to finish."""

    def done() -> list[ReceiverCheck]:
        check = service.get_check(engine, owner_key=owner_key, check_id=check_id)
        return [check] if check.status != CheckStatus.RUNNING else []

    found = await wait_for_items(done, wait=wait, is_disconnected=request.is_disconnected)
    if found:
        return found[0]
    return await run_in_threadpool(
        service.get_check, engine, owner_key=owner_key, check_id=check_id
    )


@router.post(
    "",
    status_code=201,
    response_model=ReceiverCheck,
    responses=problems(*_BODY_ERRORS, Unauthorized, NoWebhook, ReceiverCheckRunning),
)
async def create_receiver_check(
    api_key: CurrentKey,
    runtime: RuntimeDep,
    engine: EngineDep,
    base_url: BaseUrlDep,
    body: ReceiverCheckBody | None = None,
) -> ReceiverCheck:
    """Grade the key's webhook receiver: send the battery in the background; 201 `running`."""
    started = await run_in_threadpool(
        service.start_check,
        engine,
        api_key=api_key,
        body=body or ReceiverCheckBody(),
        base_url=base_url,
    )
    service.launch(runtime, started)
    return started.check


@router.get(
    "/{check_id}",
    response_model=ReceiverCheck,
    responses=problems(Unauthorized, ReceiverCheckNotFound, ValidationFailed),
)
async def get_receiver_check(
    check_id: CheckId, request: Request, api_key: CurrentKey, engine: EngineDep, wait: Wait = 0
) -> ReceiverCheck:
    """One check of the key, its cases so far; `?wait=` holds until it is finished."""
    return await _finished(request, engine, owner_key=api_key.key, check_id=check_id, wait=wait)


@router.get(
    "", response_model=ReceiverCheckList, responses=problems(Unauthorized, ValidationFailed)
)
async def list_receiver_checks(
    api_key: CurrentKey, engine: EngineDep, page: PageQuery
) -> ReceiverCheckList:
    """The key's receiver checks, newest first; long-polls with `?wait=`."""
    items = await page.items(
        lambda: service.list_checks(engine, owner_key=api_key.key, after=page.after)
    )
    return ReceiverCheckList(items=items)
