"""`/_sandbox/admin/…`: every key's data, redelivery and the full reset (README, "Dashboard
and admin scope").

Open while OMNIDOC_ADMIN_TOKEN is unset; else that token as a bearer, or the dashboard's
cookie. Posts also pass the pages' origin check: the scope may be open, and a page of
another site must not be able to wipe the sandbox or replay notifications.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from app import urls
from app.admin import changes, keys
from app.admin import service as admin
from app.admin.schemas import (
    AdminDelivery,
    AdminDeliveryList,
    AdminDraftList,
    AdminKeyBody,
    AdminKeyCreated,
    AdminKeyList,
    AdminRequestList,
    AdminReset,
    ChangeCursor,
    InboxSummaryList,
)
from app.errors import (
    AdminUnauthorized,
    BodyTooLarge,
    CrossOriginRequest,
    DeliveryNotFound,
    FileNotFound,
    FixtureKey,
    InvalidJson,
    KeyNotFound,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.http import api_keys
from app.http.bodies import JsonBodyRoute
from app.http.deps import (
    BaseUrlDep,
    DeliveryId,
    DraftId,
    EngineDep,
    FileId,
    RuntimeDep,
    admin_access,
)
from app.http.openapi import SANDBOX, binary, problems
from app.longpoll import PageQuery, Wait, pause, shutting_down
from app.pages import web
from app.sandbox import resets
from app.sandbox.schemas import VendorReset

router = APIRouter(
    prefix=f"{urls.SANDBOX_PREFIX}/admin",
    tags=[SANDBOX],
    dependencies=[Depends(admin_access)],
)

ApiKeyPath = Annotated[
    str,
    PathParam(max_length=200, description="An API key, as `GET /_sandbox/admin/keys` lists it."),
]
OwnerKey = Annotated[str | None, Query(max_length=200, description="Only this API key's items.")]
# The dashboard's wait between two looks at the shared change cursor while it long-polls
# `changes`: from memory; the database is asked once per change (changes.ChangeWatch).
CHANGES_POLL_INTERVAL = 0.25
# In OpenAPI: the admin token, or nothing (the scope is open while the token is unset).
OPEN_OR_TOKEN: dict[str, Any] = {"security": [{}]}


@router.get(
    "/drafts",
    response_model=AdminDraftList,
    responses=problems(AdminUnauthorized),
    openapi_extra=OPEN_OR_TOKEN,
)
async def list_admin_drafts(engine: EngineDep, base_url: BaseUrlDep) -> AdminDraftList:
    """Every key's drafts and those of the URL page (`owner_key` null), newest first (100)."""
    items = await run_in_threadpool(admin.list_drafts, engine, base_url=base_url)
    return AdminDraftList(items=items)


@router.get(
    "/drafts/{draft_id}/files/{file_id}",
    response_class=FileResponse,
    responses={
        **binary("application/octet-stream", description="The file's bytes, as a download."),
        **problems(AdminUnauthorized, FileNotFound),
    },
    openapi_extra=OPEN_OR_TOKEN,
)
async def download_admin_file(draft_id: DraftId, file_id: FileId, runtime: RuntimeDep) -> Response:
    """An attached file of any draft."""
    assert runtime.engine is not None
    row, path = await run_in_threadpool(
        admin.draft_file,
        runtime.engine,
        settings=runtime.settings,
        draft_id=draft_id,
        file_id=file_id,
    )
    return FileResponse(
        path,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": web.content_disposition("attachment", row.filename),
            "Content-Security-Policy": "sandbox",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/requests",
    response_model=AdminRequestList,
    responses=problems(AdminUnauthorized, ValidationFailed),
    openapi_extra=OPEN_OR_TOKEN,
)
async def list_admin_requests(
    engine: EngineDep, page: PageQuery, owner_key: OwnerKey = None
) -> AdminRequestList:
    """Every key's request journal, newest first (200); long-polls with `?wait=`."""
    items = await page.items(
        lambda: admin.list_requests(engine, owner_key=owner_key, after=page.after)
    )
    return AdminRequestList(items=items)


@router.get(
    "/deliveries",
    response_model=AdminDeliveryList,
    responses=problems(AdminUnauthorized, ValidationFailed),
    openapi_extra=OPEN_OR_TOKEN,
)
async def list_admin_deliveries(
    runtime: RuntimeDep, engine: EngineDep, page: PageQuery, owner_key: OwnerKey = None
) -> AdminDeliveryList:
    """Every key's notifications and their attempts, newest first; long-polls with `?wait=`."""
    fixtures = runtime.fixtures
    items = await page.items(
        lambda: admin.list_deliveries(
            engine, fixtures=fixtures, owner_key=owner_key, after=page.after
        )
    )
    return AdminDeliveryList(items=items)


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    response_model=AdminDelivery,
    responses=problems(AdminUnauthorized, CrossOriginRequest, DeliveryNotFound),
    openapi_extra=OPEN_OR_TOKEN,
)
async def admin_redeliver(
    delivery_id: DeliveryId, request: Request, runtime: RuntimeDep, engine: EngineDep
) -> AdminDelivery:
    """Send any key's notification again, same `webhook-id`, with a fresh retry schedule."""
    web.check_same_origin(request, runtime)
    return await run_in_threadpool(
        admin.redeliver, engine, fixtures=runtime.fixtures, delivery_id=delivery_id
    )


@router.get(
    "/inboxes",
    response_model=InboxSummaryList,
    responses=problems(AdminUnauthorized),
    openapi_extra=OPEN_OR_TOKEN,
)
async def list_admin_inboxes(engine: EngineDep) -> InboxSummaryList:
    """The inboxes that received something; read one with `GET /_sandbox/inbox/{name}`."""
    return InboxSummaryList(items=await run_in_threadpool(admin.list_inboxes, engine))


@router.get(
    "/keys",
    response_model=AdminKeyList,
    responses=problems(AdminUnauthorized),
    openapi_extra=OPEN_OR_TOKEN,
)
async def list_admin_keys(runtime: RuntimeDep, engine: EngineDep) -> AdminKeyList:
    """Every API key (the fixtures', then those added at run time) and the webhook endpoint
    (with its secret) of each."""
    items = await run_in_threadpool(admin.list_keys, engine, fixtures=runtime.fixtures)
    return AdminKeyList(items=items)


# The JSON body of `POST /keys` is read by JsonBodyRoute (size cap, media type, strict JSON);
# included into `router` at the end of this module.
_json_router = APIRouter(route_class=JsonBodyRoute)


@_json_router.post(
    "/keys",
    status_code=201,
    response_model=AdminKeyCreated,
    responses=problems(
        AdminUnauthorized,
        CrossOriginRequest,
        InvalidJson,
        BodyTooLarge,
        UnsupportedMediaType,
        ValidationFailed,
    ),
    openapi_extra=OPEN_OR_TOKEN,
)
async def admin_create_key(
    body: AdminKeyBody, request: Request, runtime: RuntimeDep, engine: EngineDep
) -> AdminKeyCreated:
    """Add an API key at run time: usable at once on every worker and replica. With a
    `webhook_url`, a webhook secret is generated; both are in the answer."""
    web.check_same_origin(request, runtime)
    return await run_in_threadpool(keys.create, engine, body=body)


@router.delete(
    "/keys/{key}",
    status_code=204,
    response_class=Response,
    responses=problems(
        AdminUnauthorized, CrossOriginRequest, KeyNotFound, FixtureKey, ValidationFailed
    ),
    openapi_extra=OPEN_OR_TOKEN,
)
async def admin_revoke_key(
    key: ApiKeyPath, request: Request, runtime: RuntimeDep, engine: EngineDep
) -> Response:
    """Revoke a key added at run time: the next request with it, on any worker, is 401. Its
    data stays visible here until a reset. A key of the fixtures: 409 `fixture_key`."""
    web.check_same_origin(request, runtime)
    await run_in_threadpool(keys.revoke, engine, fixtures=runtime.fixtures, key=key)
    return Response(status_code=204)


@router.post(
    "/keys/{key}/reset",
    response_model=VendorReset,
    responses=problems(AdminUnauthorized, CrossOriginRequest, KeyNotFound, ValidationFailed),
    openapi_extra=OPEN_OR_TOKEN,
)
async def admin_reset_key(
    key: ApiKeyPath, request: Request, runtime: RuntimeDep, engine: EngineDep
) -> VendorReset:
    """What `POST /_sandbox/reset` does, for any key (of the fixtures, added at run time, or
    revoked and still owning data): its drafts, files, deliveries, journal
    and faults are deleted; its webhook registration and the other keys' data stay."""
    web.check_same_origin(request, runtime)
    api_key = await api_keys.find_key(engine, runtime.fixtures, key)
    owner_key = api_key.key if api_key is not None else key
    deleted = await run_in_threadpool(
        resets.reset_vendor, engine, settings=runtime.settings, owner_key=owner_key
    )
    # A revoked key (or one the fixtures dropped) still has its data here until a reset:
    # this one clears it. A key with neither an entry nor data is unknown.
    if api_key is None and not any(deleted.model_dump().values()):
        raise KeyNotFound()
    return VendorReset(deleted=deleted)


@router.get(
    "/changes",
    response_model=ChangeCursor,
    responses=problems(AdminUnauthorized, ValidationFailed),
    openapi_extra=OPEN_OR_TOKEN,
)
async def wait_admin_changes(
    request: Request,
    engine: EngineDep,
    since: Annotated[
        str | None,
        Query(max_length=64, description="The `cursor` of the previous answer."),
    ] = None,
    wait: Wait = 0,
) -> ChangeCursor:
    """A cursor that moves whenever anything the admin listings show changes; `?since=` and
    `?wait=` hold the request until it moves (drafts change in place: no `?after=` sees it)."""

    watch = changes.change_watch(engine)  # one cursor per change, shared by every waiter
    cursor = await watch.current()
    deadline = time.monotonic() + wait
    while cursor == since and not shutting_down():
        remaining = deadline - time.monotonic()
        if remaining <= 0 or await request.is_disconnected():
            break
        await pause(min(CHANGES_POLL_INTERVAL, remaining))
        cursor = await watch.current()
    return ChangeCursor(cursor=cursor)


@router.post(
    "/reset",
    response_model=AdminReset,
    responses=problems(AdminUnauthorized, CrossOriginRequest),
    openapi_extra=OPEN_OR_TOKEN,
)
async def admin_reset(request: Request, runtime: RuntimeDep, engine: EngineDep) -> AdminReset:
    """Wipe everything, for every key (drafts, files, deliveries, journal, faults, inboxes,
    registered webhooks, booked automatic answers); the fixtures' keys and webhooks remain."""
    web.check_same_origin(request, runtime)
    deleted = await run_in_threadpool(resets.reset_all, engine, settings=runtime.settings)
    return AdminReset(deleted=deleted)


router.include_router(_json_router)
