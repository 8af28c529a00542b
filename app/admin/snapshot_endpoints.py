"""`/_sandbox/admin/export` and `/_sandbox/admin/import`: snapshots of the whole sandbox
(README, "Snapshots"), in the admin scope."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from app import urls
from app.admin.schemas import (
    SnapshotImported,
)
from app.drafts import multipart_stream
from app.errors import (
    AdminUnauthorized,
    CrossOriginRequest,
    InvalidMultipart,
    SnapshotInvalid,
    UnsupportedMediaType,
)
from app.http.deps import (
    EngineDep,
    RuntimeDep,
    admin_access,
)
from app.http.openapi import SANDBOX, binary, problems
from app.pages import web
from app.sandbox import snapshots
from app.sandbox.snapshot_transfers import (
    SNAPSHOT_MEDIA_TYPE,
    snapshot_filename,
    snapshot_response,
    write_snapshot,
)

router = APIRouter(
    prefix=f"{urls.SANDBOX_PREFIX}/admin",
    tags=[SANDBOX],
    dependencies=[Depends(admin_access)],
)
# In OpenAPI: the admin token, or nothing (the scope is open while the token is unset).
OPEN_OR_TOKEN: dict[str, Any] = {"security": [{}]}


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
