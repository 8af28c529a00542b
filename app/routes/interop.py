"""The Omnidoc interop API (`/api/interop/v1`), as the Omnidoc document defines it."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel

from app import drafts, journal, uploads
from app.deps import BaseUrlDep, CurrentKey, EngineDep, JsonBody, RuntimeDep
from app.errors import ValidationFailed, problem_responses, warnings_header
from app.models import DraftCreate
from app.validation import validate_draft

router = APIRouter(prefix="/api/interop/v1", tags=["Omnidoc interop API"])
# Same prefix, but what the Omnidoc document does not define: the pull side.
pull_router = APIRouter(prefix="/api/interop/v1", tags=["Sandbox-defined"])

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
    request: Request,
    response: Response,
) -> DraftCreated:
    """Create a temporary draft (Omnidoc "Amont - Création de la demande")."""
    report = validate_draft(
        body,
        strict=runtime.settings.strict,
        is_known_practitioner=runtime.fixtures.is_known_practitioner,
    )
    journal.note(request, warnings=report.warnings)  # the header keeps no messages
    if report.errors:
        raise ValidationFailed(
            f"{len(report.errors)} field(s) break the Omnidoc rules; see `errors`.",
            errors=report.errors,
            headers=_warning_headers(report.warnings),
        )
    draft = await run_in_threadpool(drafts.create_draft, engine, owner_key=api_key.key, body=body)
    journal.note(request, draft_id=draft.id)
    response.headers.update(_warning_headers(report.warnings))
    return DraftCreated(id=draft.id, redirect_url=f"{base_url}/interop/drafts/{draft.id}")


_PULL_VIEW_DOC = (
    "Pull view of a draft owned by the calling key (sandbox-defined). Besides the fields "
    "of the create call: `status`, the timestamps, `files`, `report_url` and `billing` "
    "(once `completed`), and `autopilot_due_at`: when a scenario recipient (fixtures "
    "`autopilot`) answers by itself, RFC 3339 UTC, null when no automatic answer is pending."
)


@pull_router.get(
    "/drafts/{draft_id}", description=_PULL_VIEW_DOC, responses=problem_responses(401, 404)
)
def get_draft(
    draft_id: str, api_key: CurrentKey, engine: EngineDep, base_url: BaseUrlDep
) -> dict[str, Any]:
    """Pull view of a draft owned by the calling key (sandbox-defined)."""
    return drafts.read_owned_view(
        engine, draft_id=draft_id, owner_key=api_key.key, base_url=base_url
    )


class AttachedFile(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str


class FilesAttached(BaseModel):
    """The files stored by one upload request, in the order they were sent."""

    files: list[AttachedFile]


_ATTACH_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "array", "items": {"type": "string", "format": "binary"}}
                    },
                }
            }
        },
    }
}


@router.post(
    "/drafts/{draft_id}/files/",
    response_model=FilesAttached,
    responses=problem_responses(400, 401, 404, 409, 413, 415, 422, 507),
    openapi_extra=_ATTACH_DOC,
)
@router.post("/drafts/{draft_id}/files", response_model=FilesAttached, include_in_schema=False)
async def attach_files(
    draft_id: str, request: Request, api_key: CurrentKey, runtime: RuntimeDep, engine: EngineDep
) -> FilesAttached:
    """Attach files, parts named `file`, while the draft is temporary ("Ajout de fichiers")."""
    stored = await uploads.attach_files(
        engine,
        settings=runtime.settings,
        draft_id=draft_id,
        owner_key=api_key.key,
        content_type=request.headers.get("content-type", ""),
        content_length=request.headers.get("content-length"),
        stream=request.stream(),
    )
    return FilesAttached(
        files=[
            AttachedFile(
                id=f.id,
                filename=f.filename,
                content_type=f.content_type,
                size=f.size,
                sha256=f.sha256,
            )
            for f in stored
        ]
    )


@pull_router.get(
    "/drafts/{draft_id}/files/{file_id}",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file's bytes"},
        **problem_responses(401, 404),
    },
)
def download_file(
    draft_id: str, file_id: str, api_key: CurrentKey, runtime: RuntimeDep, engine: EngineDep
) -> FileResponse:
    """The bytes of an attached file, to the owning key (sandbox-defined)."""
    row, path = uploads.stored_file(
        engine, settings=runtime.settings, draft_id=draft_id, file_id=file_id, owner_key=api_key.key
    )
    return FileResponse(
        path,
        media_type=row.content_type,
        headers={
            "Content-Disposition": _attachment(row.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
            "Cache-Control": "private, no-store",
        },
    )


def _attachment(filename: str) -> str:
    """RFC 6266: an ASCII fallback, then the exact name as RFC 8187 `filename*`."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@pull_router.get(
    "/drafts/{draft_id}/report",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The compte rendu (PDF)."},
        **problem_responses(401, 404, 409),
    },
)
def get_report(
    draft_id: str, api_key: CurrentKey, runtime: RuntimeDep, engine: EngineDep
) -> Response:
    """The compte rendu PDF once the téléexpertise is `completed` (sandbox-defined)."""
    draft, pdf = drafts.read_report(
        engine, draft_id=draft_id, owner_key=api_key.key, directory=runtime.fixtures.practitioner
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="compte-rendu-{draft.id}.pdf"'},
    )


def _warning_headers(warnings: Any) -> dict[str, str]:
    return {WARNINGS_HEADER: warnings_header(warnings)} if warnings else {}


# Re-exported for the OpenAPI components.
__all__ = ["DraftCreate", "pull_router", "router"]
