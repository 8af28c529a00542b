"""`/_sandbox/receiver-checks` (vendor scope) and `/_sandbox/admin/receiver-checks` (the
dashboard's "Récepteur" panel): start a check, read it as its cases arrive (SPEC §8)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from app import urls
from app.errors import (
    AdminUnauthorized,
    BodyTooLarge,
    CrossOriginRequest,
    FieldIssue,
    InvalidJson,
    NoWebhook,
    ReceiverCheckNotFound,
    ReceiverCheckRunning,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.http.bodies import JsonBodyRoute
from app.http.deps import BaseUrlDep, CurrentKey, EngineDep, RuntimeDep, admin_access
from app.http.openapi import SANDBOX, problems
from app.longpoll import After, Wait, listing, wait_for_items
from app.pages import web
from app.receiver_checks import service
from app.receiver_checks.schemas import (
    AdminReceiverCheck,
    AdminReceiverCheckBody,
    AdminReceiverCheckList,
    CheckStatus,
    ReceiverCheck,
    ReceiverCheckBody,
    ReceiverCheckList,
)

router = APIRouter(
    prefix=f"{urls.SANDBOX_PREFIX}/receiver-checks", tags=[SANDBOX], route_class=JsonBodyRoute
)
admin_router = APIRouter(
    prefix=f"{urls.SANDBOX_PREFIX}/admin/receiver-checks",
    tags=[SANDBOX],
    route_class=JsonBodyRoute,
    dependencies=[Depends(admin_access)],
)

_BODY_ERRORS = (InvalidJson, BodyTooLarge, UnsupportedMediaType, ValidationFailed)
CheckId = Annotated[
    str, Path(description="The receiver check's `id`.", json_schema_extra={"format": "uuid"})
]
OPEN_OR_TOKEN: dict[str, Any] = {"security": [{}]}  # the admin token, or nothing while it is unset


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
    request: Request, api_key: CurrentKey, engine: EngineDep, after: After = None, wait: Wait = 0
) -> ReceiverCheckList:
    """The key's receiver checks, newest first; long-polls with `?wait=`."""
    items = await listing(
        request,
        lambda: service.list_checks(engine, owner_key=api_key.key, after=after),
        wait=wait,
    )
    return ReceiverCheckList(items=items)


# --- Admin scope (the dashboard) --------------------------------------------------------


@admin_router.post(
    "",
    status_code=201,
    response_model=AdminReceiverCheck,
    responses=problems(
        *_BODY_ERRORS, AdminUnauthorized, CrossOriginRequest, NoWebhook, ReceiverCheckRunning
    ),
    openapi_extra=OPEN_OR_TOKEN,
)
async def admin_create_receiver_check(
    body: AdminReceiverCheckBody, request: Request, runtime: RuntimeDep, base_url: BaseUrlDep
) -> AdminReceiverCheck:
    """Check any key's webhook receiver (the dashboard's "Récepteur" panel)."""
    web.check_same_origin(request, runtime)
    api_key = runtime.fixtures.find_key(body.owner_key)
    if api_key is None:
        message = "owner_key must be an API key of the fixtures."
        raise ValidationFailed(message, errors=[FieldIssue("owner_key", "unknown_key", message)])
    assert runtime.engine is not None
    fields = body.model_dump(exclude={"owner_key"}, exclude_unset=True)
    started = await run_in_threadpool(
        service.start_check,
        runtime.engine,
        api_key=api_key,
        body=ReceiverCheckBody.model_validate(fields),
        base_url=base_url,
    )
    service.launch(runtime, started)
    return service.admin_view(started.check, owner_key=api_key.key)


@admin_router.get(
    "",
    response_model=AdminReceiverCheckList,
    responses=problems(AdminUnauthorized, ValidationFailed),
    openapi_extra=OPEN_OR_TOKEN,
)
async def list_admin_receiver_checks(
    request: Request,
    engine: EngineDep,
    owner_key: Annotated[
        str | None, Query(max_length=200, description="Only this API key's checks.")
    ] = None,
    after: After = None,
    wait: Wait = 0,
) -> AdminReceiverCheckList:
    """Every key's receiver checks (or one key's), newest first, with their cases so far."""
    items = await listing(
        request,
        lambda: service.list_admin_checks(engine, owner_key=owner_key, after=after),
        wait=wait,
    )
    return AdminReceiverCheckList(items=items)
