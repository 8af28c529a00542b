"""`/_sandbox/admin/receiver-checks`: the dashboard's "Récepteur" panel checks any key's
receiver and follows its cases (SPEC §8; the vendor's routes are app/receiver_checks/)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from app import urls
from app.errors import (
    AdminUnauthorized,
    BodyTooLarge,
    CrossOriginRequest,
    FieldIssue,
    InvalidJson,
    NoWebhook,
    ReceiverCheckRunning,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.http import api_keys
from app.http.bodies import JsonBodyRoute
from app.http.deps import BaseUrlDep, EngineDep, RuntimeDep, admin_access
from app.http.openapi import SANDBOX, problems
from app.longpoll import PageQuery
from app.pages import web
from app.receiver_checks import service
from app.receiver_checks.schemas import (
    AdminReceiverCheck,
    AdminReceiverCheckBody,
    AdminReceiverCheckList,
    ReceiverCheckBody,
)

router = APIRouter(
    prefix=f"{urls.SANDBOX_PREFIX}/admin/receiver-checks",
    tags=[SANDBOX],
    route_class=JsonBodyRoute,
    dependencies=[Depends(admin_access)],
)

_BODY_ERRORS = (InvalidJson, BodyTooLarge, UnsupportedMediaType, ValidationFailed)
OPEN_OR_TOKEN: dict[str, Any] = {"security": [{}]}  # the admin token, or nothing while it is unset


@router.post(
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
    api_key = await api_keys.find_key(runtime.engine, runtime.fixtures, body.owner_key)
    if api_key is None:
        message = "owner_key must be an API key of this sandbox (GET /_sandbox/admin/keys)."
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


@router.get(
    "",
    response_model=AdminReceiverCheckList,
    responses=problems(AdminUnauthorized, ValidationFailed),
    openapi_extra=OPEN_OR_TOKEN,
)
async def list_admin_receiver_checks(
    engine: EngineDep,
    page: PageQuery,
    owner_key: Annotated[
        str | None, Query(max_length=200, description="Only this API key's checks.")
    ] = None,
) -> AdminReceiverCheckList:
    """Every key's receiver checks (or one key's), newest first, with their cases so far."""
    items = await page.items(
        lambda: service.list_admin_checks(engine, owner_key=owner_key, after=page.after)
    )
    return AdminReceiverCheckList(items=items)
