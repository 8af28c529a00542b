"""Snapshots over HTTP: written to a temp file of the data dir, then sent and removed
(the admin export and the vendor's own, `GET /_sandbox/export`)."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from app.runtime import Runtime
from app.sandbox import snapshots

# A tar archive; served as octet-stream, the media type generated clients read as bytes.
SNAPSHOT_MEDIA_TYPE = "application/octet-stream"


def snapshot_response(runtime: Runtime, path: Path, *, filename: str) -> FileResponse:
    """A snapshot written to a temp file, sent, then removed."""
    return FileResponse(
        path,
        media_type=SNAPSHOT_MEDIA_TYPE,
        filename=filename,
        headers={"Cache-Control": "private, no-store"},
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


async def write_snapshot(runtime: Runtime, *, owner_key: str | None) -> Path:
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
