"""`/_sandbox/admin/…`: every key's data, redelivery and the full reset (README, "Dashboard
and admin scope").

Open while OMNIDOC_ADMIN_TOKEN is unset; else that token as a bearer, or the dashboard's
cookie. Posts also pass the pages' origin check: the scope may be open, and a page of
another site must not be able to wipe the sandbox or replay notifications.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from app import urls
from app.admin import service as admin
from app.admin.schemas import (
    AdminDelivery,
    AdminDeliveryList,
    AdminDraftList,
    AdminKeyList,
    AdminRequestList,
    AdminReset,
    ChangeCursor,
    InboxSummaryList,
    SnapshotImported,
)
from app.drafts import multipart_stream
from app.errors import (
    AdminUnauthorized,
    CrossOriginRequest,
    DeliveryNotFound,
    FileNotFound,
    InvalidMultipart,
    SnapshotInvalid,
    UnsupportedMediaType,
    ValidationFailed,
)
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
from app.longpoll import After, Wait, listing, wait_for_items
from app.pages import web
from app.sandbox import resets, snapshots

router = APIRouter(
    prefix=f"{urls.SANDBOX_PREFIX}/admin",
    tags=[SANDBOX],
    dependencies=[Depends(admin_access)],
)

OwnerKey = Annotated[str | None, Query(max_length=200, description="Only this API key's items.")]
# The dashboard's wait between two looks at the database while it long-polls `changes`.
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
    request: Request,
    engine: EngineDep,
    owner_key: OwnerKey = None,
    after: After = None,
    wait: Wait = 0,
) -> AdminRequestList:
    """Every key's request journal, newest first (200); long-polls with `?wait=`."""
    items = await listing(
        request,
        lambda: admin.list_requests(engine, owner_key=owner_key, after=after),
        wait=wait,
    )
    return AdminRequestList(items=items)


@router.get(
    "/deliveries",
    response_model=AdminDeliveryList,
    responses=problems(AdminUnauthorized, ValidationFailed),
    openapi_extra=OPEN_OR_TOKEN,
)
async def list_admin_deliveries(
    request: Request,
    runtime: RuntimeDep,
    engine: EngineDep,
    owner_key: OwnerKey = None,
    after: After = None,
    wait: Wait = 0,
) -> AdminDeliveryList:
    """Every key's notifications and their attempts, newest first; long-polls with `?wait=`."""
    fixtures = runtime.fixtures
    items = await listing(
        request,
        lambda: admin.list_deliveries(engine, fixtures=fixtures, owner_key=owner_key, after=after),
        wait=wait,
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
    """The API keys of the fixtures and the webhook endpoint (with its secret) of each."""
    items = await run_in_threadpool(admin.list_keys, engine, fixtures=runtime.fixtures)
    return AdminKeyList(items=items)


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

    def moved() -> list[str]:
        cursor = admin.change_cursor(engine)
        return [cursor] if cursor != since else []

    found = await wait_for_items(
        moved, wait=wait, is_disconnected=request.is_disconnected, interval=CHANGES_POLL_INTERVAL
    )
    return ChangeCursor(cursor=found[0] if found else since or "")


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


# A tar archive; served as octet-stream, the media type generated clients read as bytes.
SNAPSHOT_MEDIA_TYPE = "application/octet-stream"


def snapshot_response(runtime: RuntimeDep, path: Path, *, filename: str) -> FileResponse:
    """A snapshot written to a temp file, sent, then removed."""
    return FileResponse(
        path,
        media_type=SNAPSHOT_MEDIA_TYPE,
        filename=filename,
        headers={"Cache-Control": "private, no-store"},
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


async def write_snapshot(runtime: RuntimeDep, *, owner_key: str | None) -> Path:
    """The snapshot, streamed to a temp file of the data dir (memory stays flat)."""
    assert runtime.engine is not None
    runtime.settings.data_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="snapshot-export-", dir=runtime.settings.data_dir)
    os.close(fd)
    path = Path(name)
    try:
        await run_in_threadpool(
            snapshots.export_to_path,
            runtime.engine,
            path,
            settings=runtime.settings,
            owner_key=owner_key,
        )
    except BaseException:
        await run_in_threadpool(path.unlink, missing_ok=True)
        raise
    return path


def snapshot_filename(scope: str) -> str:
    return f"omnidoc-sandbox-{scope}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.tar"


@router.get(
    "/export",
    response_class=FileResponse,
    responses={
        **binary(SNAPSHOT_MEDIA_TYPE, description="The snapshot of everything, as a download."),
        **problems(AdminUnauthorized),
    },
    openapi_extra=OPEN_OR_TOKEN,
)
async def admin_export(runtime: RuntimeDep) -> Response:
    """A snapshot of every key's data (drafts, file bytes, deliveries with their attempts,
    journal, faults, inboxes, registered webhooks): one file, `POST /_sandbox/admin/import`
    or `omnidoc-sandbox import` reads it on SQLite or PostgreSQL."""
    path = await write_snapshot(runtime, owner_key=None)
    return snapshot_response(runtime, path, filename=snapshot_filename("all"))


async def _receive_snapshot(request: Request, runtime: RuntimeDep, into: Path) -> Path:
    """The snapshot of the body: raw, or the multipart part `file`; not bound by
    OMNIDOC_MAX_BODY_BYTES (a snapshot holds every file)."""
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/"):
        receiver = multipart_stream.Receiver(tmp_dir=into, max_file_bytes=2**62, slots=1)
        try:
            await multipart_stream.receive(
                receiver,
                request.stream(),
                boundary=multipart_stream.boundary_of(content_type),
                body_limit=2**62,
            )
        finally:
            for part in receiver.parts:
                if part.handle is not None:
                    part.handle.close()
        if not receiver.parts:
            raise SnapshotInvalid("Send the snapshot as the body, or as a multipart part `file`.")
        return receiver.parts[0].temp_path
    path = into / "snapshot.tar"
    handle = await run_in_threadpool(path.open, "wb")
    try:
        async for chunk in request.stream():
            await run_in_threadpool(handle.write, chunk)
    finally:
        await run_in_threadpool(handle.close)
    return path


@router.post(
    "/import",
    response_model=SnapshotImported,
    responses=problems(
        AdminUnauthorized,
        CrossOriginRequest,
        SnapshotInvalid,
        UnsupportedMediaType,
        InvalidMultipart,
    ),
    openapi_extra={
        **OPEN_OR_TOKEN,
        "requestBody": {
            "required": True,
            "description": "The snapshot file (`GET /_sandbox/admin/export`), as the body or "
            "as a multipart part `file`.",
            "content": {SNAPSHOT_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
    },
)
async def admin_import(
    request: Request, runtime: RuntimeDep, engine: EngineDep
) -> SnapshotImported:
    """Replace everything with a snapshot; a truncated, changed or newer-format file is
    refused (422 `snapshot_invalid`, naming what is wrong) and changes nothing."""
    web.check_same_origin(request, runtime)
    runtime.settings.data_dir.mkdir(parents=True, exist_ok=True)
    upload_dir = Path(
        await run_in_threadpool(
            tempfile.mkdtemp, prefix="snapshot-upload-", dir=runtime.settings.data_dir
        )
    )
    try:
        path = await _receive_snapshot(request, runtime, upload_dir)
        imported = await run_in_threadpool(
            snapshots.import_file, engine, path, settings=runtime.settings
        )
    finally:
        await run_in_threadpool(shutil.rmtree, upload_dir, True)
    assert imported is not None  # None only for a seed on a database with data
    return SnapshotImported(format=imported.format, tables=imported.tables, files=imported.files)
