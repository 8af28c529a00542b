"""`/_sandbox`: test helpers, webhook registration and deliveries, the inbox (sandbox-defined)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from app import autopilot, delivery, drafts, inbox, resets, webhooks
from app.deps import AdminAccess, BaseUrlDep, CurrentKey, EngineDep, JsonBody, Runtime, RuntimeDep
from app.errors import BodyTooLarge, problem_responses
from app.longpoll import After, Wait, listing

router = APIRouter(prefix="/_sandbox", tags=["Sandbox-defined"])

_TRANSITION_ERRORS = problem_responses(400, 401, 404, 409, 415, 422)


def _optional_json(description: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": description,
        }
    }


async def _move(
    runtime: Runtime, transition: Callable[..., dict[str, Any]], **kwargs: Any
) -> dict[str, Any]:
    """Run a transition of app.drafts off the loop, then wake this process's workers."""
    assert runtime.engine is not None
    view = await run_in_threadpool(transition, runtime.engine, **kwargs)
    delivery.wake(runtime.extras)
    autopilot.wake(runtime.extras)  # a publish may have booked an automatic answer
    return view


@router.post("/drafts/{draft_id}/visit", responses=problem_responses(401, 404))
async def visit_draft(
    draft_id: str, api_key: CurrentKey, engine: EngineDep, base_url: BaseUrlDep
) -> dict[str, Any]:
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
    responses=_TRANSITION_ERRORS,
    openapi_extra=_optional_json(
        '`{"author_rpps": "..."}`, used only when the draft has no author; in the directory.'
    ),
)
async def publish_draft(
    draft_id: str,
    api_key: CurrentKey,
    body: JsonBody,
    runtime: RuntimeDep,
    base_url: BaseUrlDep,
) -> dict[str, Any]:
    """Test helper: publish (`draft` → `in_progress`); needs an author and a recipient."""
    return await _move(
        runtime,
        drafts.publish_draft,
        draft_id=draft_id,
        owner_key=api_key.key,
        base_url=base_url,
        body=body,
        is_known_practitioner=runtime.fixtures.is_known_practitioner,
        directory=runtime.fixtures.practitioner,
    )


@router.post(
    "/drafts/{draft_id}/complete",
    responses=_TRANSITION_ERRORS,
    openapi_extra=_optional_json('`{"report_text": "..."}`, the expert\'s answer (optional).'),
)
async def complete_draft(
    draft_id: str,
    api_key: CurrentKey,
    body: JsonBody,
    runtime: RuntimeDep,
    base_url: BaseUrlDep,
) -> dict[str, Any]:
    """Test helper: the expert answers (`in_progress` → `completed`); the report exists then."""
    return await _move(
        runtime,
        drafts.complete_draft,
        draft_id=draft_id,
        owner_key=api_key.key,
        base_url=base_url,
        body=body,
    )


@router.post("/drafts/{draft_id}/cancel", responses=problem_responses(401, 404, 409))
async def cancel_draft(
    draft_id: str,
    api_key: CurrentKey,
    runtime: RuntimeDep,
    base_url: BaseUrlDep,
) -> dict[str, Any]:
    """Test helper: cancel (`temporary`, `draft` or `in_progress` → `cancelled`)."""
    return await _move(
        runtime, drafts.cancel_draft, draft_id=draft_id, owner_key=api_key.key, base_url=base_url
    )


@router.post("/reset", responses=problem_responses(401))
async def reset_vendor(
    api_key: CurrentKey, runtime: RuntimeDep, engine: EngineDep
) -> dict[str, Any]:
    """Delete this key's drafts, files, deliveries, journal and faults; keep its webhook."""
    deleted = await run_in_threadpool(
        resets.reset_vendor, engine, settings=runtime.settings, owner_key=api_key.key
    )
    return {"deleted": deleted}


@router.put(
    "/webhook",
    responses=problem_responses(400, 401, 415, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["url"],
                        "properties": {
                            "url": {"type": "string", "format": "uri"},
                            "secret": {"type": "string", "pattern": "^whsec_"},
                        },
                    }
                }
            },
        }
    },
)
async def set_webhook(api_key: CurrentKey, body: JsonBody, engine: EngineDep) -> dict[str, str]:
    """Register the key's webhook endpoint (overrides the fixtures'); generates a secret."""
    return await run_in_threadpool(webhooks.set_endpoint, engine, owner_key=api_key.key, body=body)


@router.get("/webhook", responses=problem_responses(401))
async def get_webhook(api_key: CurrentKey, engine: EngineDep) -> dict[str, str | None]:
    """The key's current webhook endpoint and secret (nulls when none is configured)."""
    return await run_in_threadpool(webhooks.get_endpoint, engine, api_key=api_key)


@router.get("/webhooks/deliveries", responses=problem_responses(401, 422))
async def list_deliveries(
    request: Request,
    api_key: CurrentKey,
    engine: EngineDep,
    after: After = None,
    wait: Wait = 0,
) -> dict[str, Any]:
    """The key's notifications and their attempts, newest first; long-polls with `?wait=`."""
    return await listing(
        request, lambda: webhooks.list_deliveries(engine, api_key=api_key, after=after), wait=wait
    )


@router.post("/webhooks/deliveries/{delivery_id}/redeliver", responses=problem_responses(401, 404))
async def redeliver(
    delivery_id: str, api_key: CurrentKey, runtime: RuntimeDep, engine: EngineDep
) -> dict[str, Any]:
    """Send a notification again with the same `webhook-id`, starting a fresh retry schedule."""
    view = await run_in_threadpool(
        webhooks.redeliver, engine, api_key=api_key, delivery_id=delivery_id
    )
    delivery.wake(runtime.extras)
    return view


@router.post(
    "/inbox/{name}",
    responses=problem_responses(413, 422),
    openapi_extra={"security": []},
)
async def record_inbox_request(
    name: str, request: Request, runtime: RuntimeDep, engine: EngineDep
) -> dict[str, str]:
    """Built-in webhook receiver for demos: records any request, no auth needed."""
    inbox.check_name(name)
    limit = runtime.settings.max_body_bytes
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(f"The inbox keeps bodies up to {limit} bytes.")
    item = await run_in_threadpool(
        inbox.record_request,
        engine,
        name=name,
        method=request.method,
        headers=request.headers,
        body=bytes(body),
    )
    return {"id": item.id}


@router.get("/inbox/{name}", responses=problem_responses(401, 422))
async def list_inbox(
    name: str,
    request: Request,
    _: AdminAccess,
    engine: EngineDep,
    after: After = None,
    wait: Wait = 0,
) -> dict[str, Any]:
    """What the inbox received, newest first (admin scope); long-polls with `?wait=`."""
    return await listing(
        request, lambda: inbox.list_items(engine, name=name, after=after), wait=wait
    )
