"""`/_sandbox`: test helpers, webhook registration and deliveries, the inbox (sandbox-defined)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from app import targets, urls
from app.drafts import service as drafts
from app.drafts.validation import validate_practitioners
from app.drafts.validation_report import apply_report
from app.errors import (
    BodyTooLarge,
    DeliveryNotFound,
    DraftIncomplete,
    DraftNotFound,
    InvalidJson,
    InvalidTransition,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.http.bodies import JsonBodyRoute, read_capped
from app.http.deps import (
    AdminAccess,
    BaseUrlDep,
    CurrentKey,
    DeliveryId,
    DraftId,
    EngineDep,
    RuntimeDep,
)
from app.http.openapi import SANDBOX, binary, problems, success
from app.longpoll import PageQuery
from app.notifications import deliveries, webhooks
from app.notifications.schemas import Delivery, DeliveryList, WebhookBody, WebhookConfig
from app.sandbox import clock, inbox, resets
from app.sandbox.schemas import (
    ClockAdvanceBody,
    ClockAdvanced,
    CompleteBody,
    InboxList,
    InboxRecorded,
    PerformedMove,
    PublishBody,
    VendorReset,
)
from app.sandbox.snapshot_transfers import snapshot_filename, snapshot_response, write_snapshot
from app.schemas import DraftView

router = APIRouter(prefix=urls.SANDBOX_PREFIX, tags=[SANDBOX], route_class=JsonBodyRoute)

_BODY_ERRORS = (InvalidJson, BodyTooLarge, UnsupportedMediaType, ValidationFailed)
InboxName = Annotated[
    str, Path(pattern=inbox.NAME_PATTERN, description="1-64 letters, digits, '.', '_' or '-'.")
]


@router.post(
    "/drafts/{draft_id}/visit",
    response_model=DraftView,
    responses=problems(Unauthorized, DraftNotFound),
)
async def visit_draft(
    draft_id: DraftId, api_key: CurrentKey, engine: EngineDep, base_url: BaseUrlDep
) -> DraftView:
    """Test helper: do what the redirect_url's first GET does (`temporary` → `draft`)."""
    return await run_in_threadpool(
        drafts.visit_owned_draft,
        engine,
        draft_id=draft_id,
        owner_key=api_key.key,
        base_url=base_url,
    )


@router.post(
    "/drafts/{draft_id}/publish",
    response_model=DraftView,
    responses={
        **success(
            "The draft, `in_progress`; warnings on the given RPPS in the header.", warned=True
        ),
        **problems(
            *_BODY_ERRORS,
            Unauthorized,
            DraftNotFound,
            InvalidTransition,
            DraftIncomplete,
            warned=True,
        ),
    },
)
async def publish_draft(
    draft_id: DraftId,
    api_key: CurrentKey,
    runtime: RuntimeDep,
    engine: EngineDep,
    base_url: BaseUrlDep,
    request: Request,
    response: Response,
    body: PublishBody | None = None,
) -> DraftView:
    """Test helper: publish (`draft` → `in_progress`); needs an author and a recipient."""
    body = body or PublishBody()
    report = validate_practitioners(
        author_rpps=body.author_rpps,
        recipient_rpps=body.recipient_rpps,
        strict=runtime.settings.strict,
        is_known_practitioner=runtime.fixtures.is_known_practitioner,
        directory_examples=runtime.fixtures.rpps_examples(),
    )
    apply_report(request, response, report)
    return await run_in_threadpool(
        drafts.publish_draft,
        engine,
        draft_id=draft_id,
        owner_key=api_key.key,
        base_url=base_url,
        directory=runtime.fixtures.practitioner,
        author_rpps=body.author_rpps,
        recipient_rpps=body.recipient_rpps,
    )


@router.post(
    "/drafts/{draft_id}/complete",
    response_model=DraftView,
    responses=problems(*_BODY_ERRORS, Unauthorized, DraftNotFound, InvalidTransition),
)
async def complete_draft(
    draft_id: DraftId,
    api_key: CurrentKey,
    engine: EngineDep,
    base_url: BaseUrlDep,
    body: CompleteBody | None = None,
) -> DraftView:
    """Test helper: the expert answers (`in_progress` → `completed`); the report exists then."""
    return await run_in_threadpool(
        drafts.complete_draft,
        engine,
        draft_id=draft_id,
        owner_key=api_key.key,
        base_url=base_url,
        report_text=body.report_text if body else None,
    )


@router.post(
    "/drafts/{draft_id}/cancel",
    response_model=DraftView,
    responses=problems(Unauthorized, DraftNotFound, InvalidTransition),
)
async def cancel_draft(
    draft_id: DraftId, api_key: CurrentKey, engine: EngineDep, base_url: BaseUrlDep
) -> DraftView:
    """Test helper: cancel (`temporary`, `draft` or `in_progress` → `cancelled`)."""
    return await run_in_threadpool(
        drafts.cancel_draft, engine, draft_id=draft_id, owner_key=api_key.key, base_url=base_url
    )


@router.post(
    "/clock/advance",
    response_model=ClockAdvanced,
    responses=problems(*_BODY_ERRORS, Unauthorized),
)
async def advance_clock(
    api_key: CurrentKey, runtime: RuntimeDep, body: ClockAdvanceBody
) -> ClockAdvanced:
    """Perform now what this key has scheduled within `seconds`, in due order: scenario
    practitioners' answers and webhook retries (each once, whatever the workers). Nothing
    is shifted for later calls; the times recorded are the real ones."""
    performed = await clock.advance(runtime, owner_key=api_key.key, seconds=body.seconds)
    return ClockAdvanced(
        advanced_seconds=body.seconds,
        performed=[
            PerformedMove(kind=move.kind, draft_id=move.draft_id, due_at=move.due_at)
            for move in performed
        ],
    )


@router.get(
    "/export",
    response_class=FileResponse,
    responses={
        **binary("application/octet-stream", description="This key's snapshot, as a download."),
        **problems(Unauthorized),
    },
)
async def export_vendor(api_key: CurrentKey, runtime: RuntimeDep) -> Response:
    """A snapshot of this key's own data (drafts, file bytes, deliveries with their
    attempts, journal, faults, registered webhook), in the format of the admin export."""
    path = await write_snapshot(runtime, owner_key=api_key.key)
    return snapshot_response(runtime, path, filename=snapshot_filename("key"))


@router.post("/reset", response_model=VendorReset, responses=problems(Unauthorized))
async def reset_vendor(api_key: CurrentKey, runtime: RuntimeDep, engine: EngineDep) -> VendorReset:
    """Delete this key's drafts, files, deliveries, journal, faults, receiver checks and test
    sessions; keep its webhook."""
    deleted = await run_in_threadpool(
        resets.reset_vendor, engine, settings=runtime.settings, owner_key=api_key.key
    )
    return VendorReset(deleted=deleted)


@router.put(
    "/webhook",
    response_model=WebhookConfig,
    responses=problems(*_BODY_ERRORS, Unauthorized),
)
async def set_webhook(api_key: CurrentKey, body: WebhookBody, engine: EngineDep) -> WebhookConfig:
    """Register the key's webhook endpoint (overrides the fixtures'). Without `secret` the
    key's current secret is kept; a new one only when it has none, or `rotate_secret`.
    A link-local URL (169.254.0.0/16, fe80::/10) is refused: 422 `link_local_target`."""
    targets.check_target_url(body.url)
    return await run_in_threadpool(webhooks.set_endpoint, engine, api_key=api_key, body=body)


@router.get("/webhook", response_model=WebhookConfig, responses=problems(Unauthorized))
async def get_webhook(api_key: CurrentKey, engine: EngineDep) -> WebhookConfig:
    """The key's current webhook endpoint and secret (nulls when none is configured)."""
    return await run_in_threadpool(webhooks.get_endpoint, engine, api_key=api_key)


@router.delete("/webhook", response_model=WebhookConfig, responses=problems(Unauthorized))
async def delete_webhook(api_key: CurrentKey, engine: EngineDep) -> WebhookConfig:
    """Forget the webhook registered at run time: the key's fixtures' webhook applies again
    (nulls when the fixtures give it none). What it answers is what `GET` now returns."""
    return await run_in_threadpool(webhooks.delete_endpoint, engine, api_key=api_key)


@router.get(
    "/webhooks/deliveries",
    response_model=DeliveryList,
    responses={
        **success(
            "The deliveries, newest first.",
            links={"redeliver": {"delivery_id": "$response.body#/items/0/id"}},
        ),
        **problems(Unauthorized, ValidationFailed),
    },
)
async def list_deliveries(api_key: CurrentKey, engine: EngineDep, page: PageQuery) -> DeliveryList:
    """The key's notifications and their attempts, newest first; long-polls with `?wait=`."""
    items = await page.items(
        lambda: deliveries.list_deliveries(engine, api_key=api_key, after=page.after)
    )
    return DeliveryList(items=items)


@router.post(
    "/webhooks/deliveries/{delivery_id}/redeliver",
    response_model=Delivery,
    responses=problems(Unauthorized, DeliveryNotFound),
)
async def redeliver(delivery_id: DeliveryId, api_key: CurrentKey, engine: EngineDep) -> Delivery:
    """Send a notification again with the same `webhook-id`, starting a fresh retry schedule."""
    return await run_in_threadpool(
        deliveries.redeliver, engine, api_key=api_key, delivery_id=delivery_id
    )


@router.post(
    "/inbox/{name}",
    response_model=InboxRecorded,
    responses=problems(BodyTooLarge, ValidationFailed),
    openapi_extra={
        "security": [],
        # Described as the JSON a webhook sends: a second media type (or `*/*`) makes
        # openapi-python-client's code for the operation fail, whatever the call.
        "requestBody": {
            "required": False,
            "description": "Anything, in any media type: the body is kept as text, or base64 "
            "when binary.",
            "content": {"application/json": {"schema": {}}},
        },
    },
)
async def record_inbox(
    name: InboxName, request: Request, runtime: RuntimeDep, engine: EngineDep
) -> InboxRecorded:
    """Built-in webhook receiver for demos: records any request, no auth needed."""
    limit = runtime.settings.max_body_bytes
    body = await read_capped(request, limit=limit, what="The inbox body")
    item = await run_in_threadpool(
        inbox.record_request,
        engine,
        name=name,
        method=request.method,
        headers=request.headers,
        body=body,
        max_bytes=runtime.settings.inbox_max_bytes,
    )
    return InboxRecorded(id=item.id)


@router.get(
    "/inbox/{name}",
    response_model=InboxList,
    responses=problems(Unauthorized, ValidationFailed),
    # Admin scope: open while OMNIDOC_ADMIN_TOKEN is unset, that token otherwise.
    openapi_extra={"security": [{}]},
)
async def list_inbox(
    name: InboxName, _: AdminAccess, engine: EngineDep, page: PageQuery
) -> InboxList:
    """What the inbox received, newest first (admin scope); long-polls with `?wait=`."""
    items = await page.items(lambda: inbox.list_items(engine, name=name, after=page.after))
    return InboxList(items=items)
