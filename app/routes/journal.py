"""`/_sandbox/requests` and `/_sandbox/faults`: the key's request journal and fault rules."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from app import faults, journal
from app.deps import CurrentKey, EngineDep, JsonBody, RuntimeDep
from app.errors import problem_responses
from app.longpoll import After, Wait, listing

router = APIRouter(prefix="/_sandbox", tags=["Sandbox-defined"])


@router.get("/requests", responses=problem_responses(401, 422))
async def list_requests(
    request: Request,
    api_key: CurrentKey,
    runtime: RuntimeDep,
    engine: EngineDep,
    after: After = None,
    wait: Wait = 0,
) -> dict[str, Any]:
    """The key's journaled calls (interop API and transition helpers), newest first."""
    limit = runtime.settings.journal_size
    return await listing(
        request,
        lambda: journal.list_entries(engine, owner_key=api_key.key, after=after, limit=limit),
        wait=wait,
    )


_FAULT_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "method": {"type": "string", "default": "*", "example": "POST"},
                        "path": {
                            "type": "string",
                            "default": faults.DEFAULT_PATH,
                            "description": "An interop path; `*` matches any characters.",
                            "example": "/api/interop/v1/drafts",
                        },
                        "status": {"type": "integer", "description": "0 or 400-599"},
                        "delay_ms": {"type": "integer", "minimum": 0, "maximum": 30000},
                        "times": {"type": "integer", "minimum": 1, "default": 1},
                    },
                }
            }
        },
    }
}


@router.post(
    "/faults",
    status_code=201,
    responses=problem_responses(400, 401, 415, 422),
    openapi_extra=_FAULT_DOC,
)
async def create_fault(api_key: CurrentKey, body: JsonBody, engine: EngineDep) -> dict[str, Any]:
    """Make the key's next `times` matching interop calls fail with `status` or wait first."""
    return await run_in_threadpool(faults.create_fault, engine, owner_key=api_key.key, body=body)


@router.get("/faults", responses=problem_responses(401))
async def list_faults(api_key: CurrentKey, engine: EngineDep) -> dict[str, Any]:
    """The key's fault rules in matching order, with the uses each has `remaining`."""
    items = await run_in_threadpool(faults.list_faults, engine, owner_key=api_key.key)
    return {"items": items}


@router.delete("/faults", responses=problem_responses(401))
async def delete_faults(api_key: CurrentKey, engine: EngineDep) -> dict[str, int]:
    """Remove every fault rule of the key."""
    deleted = await run_in_threadpool(faults.delete_faults, engine, owner_key=api_key.key)
    return {"deleted": deleted}
