"""The Omnidoc interop API (`/api/interop/v1`), as the Omnidoc document defines it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from app import drafts
from app.deps import BaseUrlDep, CurrentKey, EngineDep, JsonBody, RuntimeDep
from app.errors import ValidationFailed, problem_responses, warnings_header
from app.models import DraftCreate
from app.validation import validate_draft

router = APIRouter(prefix="/api/interop/v1", tags=["Omnidoc interop API"])

WARNINGS_HEADER = "Omnidoc-Sandbox-Warnings"


class DraftCreated(BaseModel):
    """Exactly the body the Omnidoc document gives for a created draft."""

    id: str
    redirect_url: str


_CREATE_DOC: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DraftCreate"}}},
    }
}


@router.post(
    "/drafts",
    response_model=DraftCreated,
    responses=problem_responses(400, 401, 413, 415, 422),
    openapi_extra=_CREATE_DOC,
)
@router.post("/drafts/", response_model=DraftCreated, include_in_schema=False)
async def create_draft(
    api_key: CurrentKey,
    body: JsonBody,
    runtime: RuntimeDep,
    engine: EngineDep,
    base_url: BaseUrlDep,
    response: Response,
) -> DraftCreated:
    """Create a temporary draft (Omnidoc "Amont - Création de la demande")."""
    report = validate_draft(
        body,
        strict=runtime.settings.strict,
        is_known_practitioner=runtime.fixtures.is_known_practitioner,
    )
    if report.errors:
        raise ValidationFailed(
            f"{len(report.errors)} field(s) break the Omnidoc rules; see `errors`.",
            errors=report.errors,
            headers=_warning_headers(report.warnings),
        )
    draft = await run_in_threadpool(drafts.create_draft, engine, owner_key=api_key.key, body=body)
    response.headers.update(_warning_headers(report.warnings))
    return DraftCreated(id=draft.id, redirect_url=f"{base_url}/interop/drafts/{draft.id}")


@router.get(
    "/drafts/{draft_id}",
    responses=problem_responses(401, 404),
    tags=["Sandbox-defined"],
)
def get_draft(
    draft_id: str, api_key: CurrentKey, engine: EngineDep, base_url: BaseUrlDep
) -> dict[str, Any]:
    """Pull view of a draft owned by the calling key (sandbox-defined)."""
    return drafts.read_owned_view(
        engine, draft_id=draft_id, owner_key=api_key.key, base_url=base_url
    )


def _warning_headers(warnings: Any) -> dict[str, str]:
    return {WARNINGS_HEADER: warnings_header(warnings)} if warnings else {}


# Re-exported for the OpenAPI components.
__all__ = ["DraftCreate", "router"]
