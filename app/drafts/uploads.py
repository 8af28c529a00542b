"""Attachments: all-or-nothing commit of streamed files, downloads, the startup sweep."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app.config import Settings
from app.db import read_session, write_session
from app.drafts.multipart_stream import (
    PART_OVERHEAD,
    Part,
    Receiver,
    boundary_of,
    field_issue,
    receive,
    sniff,
    try_lock,
)
from app.drafts.service import get_owned_draft
from app.errors import DraftLocked, FileNotFound, FileTooLarge, StorageFailed
from app.identifiers import is_uuid4
from app.models import DraftStatus, StoredFile

logger = logging.getLogger("omnidoc_sandbox")


def _precheck(engine: Engine, *, draft_id: str, owner_key: str, max_files: int) -> int:
    """Cheap checks before any byte of the body is read; the free file slots."""
    with read_session(engine) as session:
        draft = get_owned_draft(session, draft_id=draft_id, owner_key=owner_key)
        if draft.status != DraftStatus.TEMPORARY:
            raise DraftLocked(_locked_detail(draft.status))
        return max_files - _count_files(session, draft.id)


def _count_files(session: Session, draft_id: str) -> int:
    query = select(func.count()).select_from(StoredFile).where(StoredFile.draft_id == draft_id)
    return int(session.exec(query).one())


def _locked_detail(status: str) -> str:
    return (
        f"The draft is '{status}': files can only be attached while it is 'temporary', "
        "before its redirect_url is visited."
    )


async def attach_files(
    engine: Engine,
    *,
    settings: Settings,
    draft_id: str,
    owner_key: str,
    content_type: str,
    content_length: str | None,
    stream: AsyncIterator[bytes],
) -> list[StoredFile]:
    """Stream every `file` part to disk, then store all of them or none."""
    max_files, max_bytes = settings.max_files_per_draft, settings.max_file_bytes
    slots = await run_in_threadpool(
        _precheck, engine, draft_id=draft_id, owner_key=owner_key, max_files=max_files
    )
    boundary = boundary_of(content_type)
    if slots <= 0:
        raise field_issue(
            "too_many_files", f"The draft already has {max_files} files, the maximum."
        )
    body_limit = slots * (max_bytes + PART_OVERHEAD) + PART_OVERHEAD
    if content_length and content_length.isdigit() and int(content_length) > body_limit:
        raise FileTooLarge(
            f"The body ({content_length} bytes) cannot fit: at most {slots} file(s) of "
            f"OMNIDOC_MAX_FILE_BYTES ({max_bytes} bytes) each."
        )
    receiver = Receiver(tmp_dir=settings.files_dir / "tmp", max_file_bytes=max_bytes, slots=slots)
    try:
        await receive(receiver, stream, boundary=boundary, body_limit=body_limit)
        _check_parts(receiver)
        return await run_in_threadpool(
            _commit,
            engine,
            settings=settings,
            draft_id=draft_id,
            owner_key=owner_key,
            parts=receiver.parts,
        )
    except OSError as exc:  # disk full, data dir not writable: a server problem, said clearly
        logger.error("upload not stored: %s", type(exc).__name__)
        raise StorageFailed() from None
    finally:
        for part in receiver.parts:
            if part.handle is not None:
                part.handle.close()
            part.temp_path.unlink(missing_ok=True)


def _check_parts(receiver: Receiver) -> None:
    if not receiver.parts:
        raise field_issue(
            "missing_file", "No part named `file`: send each file as `-F 'file=@a.png'`."
        )
    for part in receiver.parts:
        if part.size == 0:
            raise field_issue("empty_file", f"File #{part.index} is empty; nothing was stored.")


def _commit(
    engine: Engine, *, settings: Settings, draft_id: str, owner_key: str, parts: list[Part]
) -> list[StoredFile]:
    """One unit of work under the write lock: re-check the draft, place the files, add rows.

    The visit takes the same lock (BEGIN IMMEDIATE on SQLite, FOR UPDATE on the draft row on
    PostgreSQL), so an upload either commits before a visit or sees the draft locked.
    """
    placed: list[Path] = []
    try:
        with write_session(engine) as session:
            draft = get_owned_draft(
                session, draft_id=draft_id, owner_key=owner_key, for_update=True
            )
            if draft.status != DraftStatus.TEMPORARY:
                raise DraftLocked(_locked_detail(draft.status))
            free = settings.max_files_per_draft - _count_files(session, draft.id)
            if len(parts) > free:
                raise field_issue(
                    "too_many_files",
                    f"This draft can take {max(free, 0)} more file(s) "
                    f"(OMNIDOC_MAX_FILES_PER_DRAFT = {settings.max_files_per_draft}).",
                )
            rows = []
            for part in parts:
                final = settings.files_dir / part.storage_name
                os.replace(part.temp_path, final)
                placed.append(final)
                rows.append(
                    StoredFile(
                        draft_id=draft.id,
                        filename=part.filename,
                        content_type=part.declared_type,
                        sniffed_type=sniff(bytes(part.head), part.declared_type),
                        size=part.size,
                        sha256=part.hasher.hexdigest(),
                        storage_name=part.storage_name,
                    )
                )
            _fsync_dir(settings.files_dir)
            session.add_all(rows)
        return rows
    except BaseException:
        for path in placed:
            path.unlink(missing_ok=True)
        raise


def _fsync_dir(path: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def stored_file(
    engine: Engine, *, settings: Settings, draft_id: str, file_id: str, owner_key: str
) -> tuple[StoredFile, Path]:
    """A file of a draft the key owns, with its path on disk; 404 otherwise."""
    with read_session(engine) as session:
        draft = get_owned_draft(session, draft_id=draft_id, owner_key=owner_key)
    return file_of_draft(engine, settings=settings, draft_id=draft.id, file_id=file_id)


def file_of_draft(
    engine: Engine, *, settings: Settings, draft_id: str, file_id: str, missing: str = ""
) -> tuple[StoredFile, Path]:
    """The one lookup of a draft's file (API, page, admin): its row and the path of its
    bytes; FileNotFound (with `missing` as detail, if given) when either is not there."""
    row = None
    if is_uuid4(file_id):  # file ids have the same UUID4 shape as draft ids
        with read_session(engine) as session:
            query = select(StoredFile).where(
                StoredFile.id == file_id.lower(), StoredFile.draft_id == draft_id
            )
            row = session.exec(query).first()
    if row is None:
        raise FileNotFound(missing or None)
    path = (settings.files_dir / row.storage_name).resolve()
    if not path.is_file():
        raise FileNotFound("The file's bytes are missing from the data dir.")
    return row, path


def sweep_orphans(engine: Engine, *, settings: Settings, lock_wait: float = 10.0) -> int:
    """Delete files no row names: temp files of dead uploads, stored files with no row.

    Safe while uploads run (start-up of a second worker, `omnidoc-sandbox reset`): files
    are removed one by one, never a directory; a temp file a live upload holds is skipped
    (that upload removes it itself); a stored file locked by an upload's commit is judged
    once the commit ends, and kept if its row is there. Returns the count removed.
    """
    files_dir = settings.files_dir
    if not files_dir.is_dir():
        return 0
    removed = 0
    tmp_dir = files_dir / "tmp"
    if tmp_dir.is_dir():
        for path in tmp_dir.iterdir():
            removed += path.is_file() and _remove_if_orphan(path, lambda: True, lock_wait=0)
    with read_session(engine) as session:
        known = set(session.exec(select(StoredFile.storage_name)).all())
    for path in files_dir.iterdir():
        if path.is_file() and path.name not in known:
            still_orphan = partial(_is_orphan, engine, path.name)
            removed += _remove_if_orphan(path, still_orphan, lock_wait=lock_wait)
    return removed


def _is_orphan(engine: Engine, storage_name: str) -> bool:
    with read_session(engine) as session:
        query = select(StoredFile.id).where(StoredFile.storage_name == storage_name)
        return session.exec(query).first() is None


def _remove_if_orphan(path: Path, still_orphan: Callable[[], bool], *, lock_wait: float) -> bool:
    try:
        handle = path.open("rb")
    except OSError:
        return False
    with handle:
        deadline = time.monotonic() + lock_wait
        while not try_lock(handle):
            if time.monotonic() >= deadline:
                return False  # still busy: the next start-up sweep will judge it
            time.sleep(0.01)
        # The uploader holds the lock until its commit ends, so a row check made while
        # we hold it is final.
        if not still_orphan():
            return False
        path.unlink(missing_ok=True)
        return True
