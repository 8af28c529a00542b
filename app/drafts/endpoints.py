"""The Omnidoc interop API (`/api/interop/v1`), as the Omnidoc document defines it."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from app import callnotes, urls
from app.drafts import service as drafts
from app.drafts import uploads
from app.drafts.facts import create_facts, upload_facts
from app.drafts.validation import validate_draft
from app.drafts.validation_report import apply_report
from app.errors import (
    BodyTimeout,
    BodyTooLarge,
    DraftLocked,
    DraftNotFound,
    FileNotFound,
    FileTooLarge,
    InvalidJson,
    InvalidMultipart,
    ReportNotReady,
    StorageFailed,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.http.bodies import json_body
from app.http.deps import (
    BaseUrlDep,
    CurrentKey,
    DraftId,
    EngineDep,
    FileId,
    RuntimeDep,
    base_url,
    get_ready_runtime,
)
from app.http.keyed_route import KeyedRoute
from app.http.openapi import (
    ATTACH_BODY,
    CREATE_BODY,
    DRAFT_LINKS,
    OMNIDOC,
    SANDBOX,
    binary,
    problems,
    success,
)
from app.schemas import AttachedFile, DraftCreated, DraftView, FilesAttached

router = APIRouter(prefix=urls.INTEROP_PREFIX, tags=[OMNIDOC])
# Same prefix, but what the Omnidoc document does not define: the pull side.
pull_router = APIRouter(prefix=urls.INTEROP_PREFIX, tags=[SANDBOX])


async def create_draft(api_key: CurrentKey, request: Request, response: Response) -> DraftCreated:
    """Create a temporary draft (Omnidoc "Amont - Création de la demande")."""
    # The hottest route: a KeyedRoute (no dependency solving per call, see there),
    # reached through KeyedRouteShortcut (no route walk). It calls what it needs itself:
    # FastAPI solves every declared dependency, and each one's own, on every request.
    runtime = await get_ready_runtime(request)
    body = await json_body(request, runtime)
    callnotes.of(request.scope).facts = create_facts(
        body, is_known_practitioner=runtime.fixtures.is_known_practitioner
    )
    report = validate_draft(
        body,
        strict=runtime.settings.strict,
        is_known_practitioner=runtime.fixtures.is_known_practitioner,
        directory_examples=runtime.fixtures.rpps_examples(),
    )
    apply_report(request, response, report)
    assert runtime.writer is not None  # set before the runtime is ready
    draft_id = await drafts.store_draft(runtime.writer, owner_key=api_key.key, body=body)
    callnotes.of(request.scope).draft_id = draft_id
    redirect = urls.redirect_url(await base_url(request, runtime), draft_id)
    return DraftCreated(id=draft_id, redirect_url=redirect)


# Registered in the order the two decorators `@router.post("/drafts", …)` over
# `@router.post("/drafts/", …)` did, with the route class only add_api_route takes.
router.add_api_route(
    "/drafts/",
    create_draft,
    methods=["POST"],
    response_model=DraftCreated,
    include_in_schema=False,
    route_class_override=KeyedRoute,
)
router.add_api_route(
    "/drafts",
    create_draft,
    methods=["POST"],
    response_model=DraftCreated,
    responses={
        **success(
            "The draft, `temporary`; warnings in the header.", warned=True, links=DRAFT_LINKS
        ),
        **problems(
            InvalidJson,
            Unauthorized,
            BodyTimeout,
            BodyTooLarge,
            UnsupportedMediaType,
            ValidationFailed,
            faults=True,
            warned=True,
        ),
    },
    openapi_extra=CREATE_BODY,
    route_class_override=KeyedRoute,
)


@pull_router.get(
    "/drafts/{draft_id}",
    response_model=DraftView,
    responses=problems(Unauthorized, DraftNotFound, faults=True),
)
def get_draft(
    draft_id: DraftId, api_key: CurrentKey, engine: EngineDep, base_url: BaseUrlDep
) -> DraftView:
    """Pull view of a draft owned by the calling key (sandbox-defined)."""
    return drafts.read_owned_view(
        engine, draft_id=draft_id, owner_key=api_key.key, base_url=base_url
    )


@router.post(
    "/drafts/{draft_id}/files/",
    response_model=FilesAttached,
    responses={
        **success(
            "The files stored, in the order sent.",
            links={
                "downloadFile": {
                    "draft_id": "$request.path.draft_id",
                    "file_id": "$response.body#/files/0/id",
                }
            },
        ),
        **problems(
            InvalidMultipart,
            Unauthorized,
            DraftNotFound,
            DraftLocked,
            BodyTimeout,
            FileTooLarge,
            UnsupportedMediaType,
            ValidationFailed,
            StorageFailed,
            faults=True,
        ),
    },
    openapi_extra=ATTACH_BODY,
)
@router.post("/drafts/{draft_id}/files", response_model=FilesAttached, include_in_schema=False)
async def attach_files(
    draft_id: DraftId,
    request: Request,
    api_key: CurrentKey,
    runtime: RuntimeDep,
    engine: EngineDep,
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
    callnotes.of(request.scope).facts = upload_facts(len(stored))
    return FilesAttached(
        files=[AttachedFile.model_validate(row, from_attributes=True) for row in stored]
    )


@pull_router.get(
    "/drafts/{draft_id}/files/{file_id}",
    response_class=FileResponse,
    responses={
        **binary(
            "application/octet-stream",
            "*/*",
            description="The file's bytes, with the Content-Type it was uploaded with.",
        ),
        **problems(Unauthorized, DraftNotFound, FileNotFound, faults=True),
    },
)
def download_file(
    draft_id: DraftId,
    file_id: FileId,
    api_key: CurrentKey,
    runtime: RuntimeDep,
    engine: EngineDep,
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
        **binary("application/pdf", description="The compte rendu (PDF), marked SANDBOX."),
        **problems(Unauthorized, DraftNotFound, ReportNotReady, faults=True),
    },
)
def get_report(
    draft_id: DraftId, api_key: CurrentKey, runtime: RuntimeDep, engine: EngineDep
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
