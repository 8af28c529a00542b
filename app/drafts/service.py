"""Drafts: creation, the pull view, the owned and locked reads, and the downstream moves
(publish, complete, cancel) through app.drafts.state_machine."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Table, insert
from sqlmodel import Session, col, select

from app import storable, urls
from app.db import read_session, write_connection, write_session
from app.drafts import scenarios
from app.drafts.state_machine import check_move, transition
from app.errors import DraftIncomplete, DraftNotFound, ReportNotReady
from app.fixtures import Directory
from app.groupcommit import GroupCommit
from app.identifiers import is_uuid4
from app.models import Draft, DraftStatus, StoredFile, new_id, utcnow
from app.reports import service as reports
from app.reports.billing import billing_for
from app.schemas import Context, DraftFile, DraftView, Patient

_DRAFT_TABLE: Table = Draft.__table__  # type: ignore[attr-defined]


def canonical_context(context: object) -> str | None:
    """The compact JSON text stored and echoed; key order and values as sent."""
    if context is None:
        return None
    return json.dumps(context, ensure_ascii=False, separators=(",", ":"))


def new_draft_row(*, owner_key: str | None, body: dict[str, Any]) -> dict[str, Any]:
    """A validated body as a `temporary` draft's row, every column given (a Core insert
    applies no model defaults; the other timestamps and the report stay empty)."""
    patient = body.get("patient")
    now = utcnow()
    return {
        "id": new_id(),
        "owner_key": owner_key,
        "status": DraftStatus.TEMPORARY.value,
        "created_at": now,
        "updated_at": now,
        "patient": patient if isinstance(patient, dict) else None,
        "author_rpps": body.get("author_rpps"),
        "recipient_rpps": body.get("recipient_rpps"),
        "text": body.get("text"),
        "context_json": canonical_context(body.get("context")),
    }


async def store_draft(writer: GroupCommit, *, owner_key: str, body: dict[str, Any]) -> str:
    """Store a validated body as a `temporary` draft of `owner_key`; its id, once committed.

    The create route's path: the row joins the next group commit (app.groupcommit).
    """
    row = new_draft_row(owner_key=owner_key, body=body)
    await writer.insert(_DRAFT_TABLE, row)
    return str(row["id"])


def create_draft(engine: Engine, *, owner_key: str | None, body: dict[str, Any]) -> Draft:
    """`store_draft` in one transaction of its own, for callers without the event loop."""
    row = new_draft_row(owner_key=owner_key, body=body)
    with write_connection(engine) as connection:
        connection.execute(insert(_DRAFT_TABLE), row)
    return Draft.model_validate(row)


def get_owned_draft(
    session: Session, *, draft_id: str, owner_key: str | None, for_update: bool = False
) -> Draft:
    """The draft if `owner_key` owns it; 404 alike for unknown, malformed and foreign ids."""
    if not is_uuid4(draft_id):
        raise DraftNotFound()
    query = select(Draft).where(Draft.id == draft_id.lower())
    if for_update:
        query = query.with_for_update()
    draft = session.exec(query).first()
    if draft is None or draft.owner_key != owner_key:
        raise DraftNotFound()
    return draft


def draft_view(session: Session, *, draft: Draft, base_url: str) -> DraftView:
    """The pull view, the same for the interop API and the helpers (README, "Read a draft
    back")."""
    files = session.exec(
        select(StoredFile)
        .where(StoredFile.draft_id == draft.id)
        .order_by(col(StoredFile.created_at))
    ).all()
    return build_view(
        draft,
        files,
        autopilot_due_at=scenarios.due_at(session, draft=draft),
        base_url=base_url,
        file_url=urls.file_url,
    )


def build_view(
    draft: Draft,
    files: Sequence[StoredFile],
    *,
    autopilot_due_at: datetime | None,
    base_url: str,
    file_url: Callable[[str, str, str], str],
) -> DraftView:
    """The pull view from rows already read: one builder for the API and the admin scope,
    which lists many drafts with their files preloaded and links them to its own download."""
    completed = draft.status == DraftStatus.COMPLETED
    return DraftView(
        id=draft.id,
        status=DraftStatus(draft.status),
        created_at=draft.created_at,
        visited_at=draft.visited_at,
        published_at=draft.published_at,
        completed_at=draft.completed_at,
        cancelled_at=draft.cancelled_at,
        author_rpps=draft.author_rpps,
        recipient_rpps=draft.recipient_rpps,
        patient=Patient.model_validate(draft.patient) if draft.patient is not None else None,
        text=draft.text,
        context=Context(storable.loads(draft.context_json)) if draft.context_json else None,
        files=[
            DraftFile(
                id=f.id,
                filename=f.filename,
                content_type=f.content_type,
                size=f.size,
                sha256=f.sha256,
                url=file_url(base_url, draft.id, f.id),
            )
            for f in files
        ],
        report_url=urls.report_url(base_url, draft.id) if completed else None,
        billing=billing_for(draft) if completed else None,
        autopilot_due_at=autopilot_due_at,
    )


def read_owned_view(engine: Engine, *, draft_id: str, owner_key: str, base_url: str) -> DraftView:
    with read_session(engine) as session:
        draft = get_owned_draft(session, draft_id=draft_id, owner_key=owner_key)
        return draft_view(session, draft=draft, base_url=base_url)


def visit_draft(
    engine: Engine, *, draft_id: str, base_url: str, owner_key: str | None = None
) -> Draft:
    """The redirect_url's first GET: `temporary` → `draft`; later visits change nothing.

    Runs under the write lock (BEGIN IMMEDIATE / FOR UPDATE) so an upload in flight
    either commits before it or sees the draft locked. `owner_key=None` means the page,
    which anyone holding the URL may open.
    """
    with write_session(engine) as session:
        draft = locked_draft(session, draft_id=draft_id, owner_key=owner_key)
        if draft.status == DraftStatus.TEMPORARY:
            transition(session, draft=draft, to=DraftStatus.DRAFT, base_url=base_url)
        return draft


def _get_any_draft(session: Session, *, draft_id: str) -> Draft:
    if not is_uuid4(draft_id):
        raise DraftNotFound()
    query = select(Draft).where(Draft.id == draft_id.lower()).with_for_update()
    draft = session.exec(query).first()
    if draft is None:
        raise DraftNotFound()
    return draft


def locked_draft(session: Session, *, draft_id: str, owner_key: str | None) -> Draft:
    """The draft under the write lock; `owner_key=None` is the pages (whoever holds the URL)."""
    if owner_key is None:
        return _get_any_draft(session, draft_id=draft_id)
    return get_owned_draft(session, draft_id=draft_id, owner_key=owner_key, for_update=True)


# --- Downstream transitions (sandbox-defined): the helpers and the pages. --------------

DEFAULT_REPORT_TEXT = "Compte rendu de téléexpertise (texte par défaut du sandbox)."


def publish_draft(
    engine: Engine,
    *,
    draft_id: str,
    owner_key: str | None,
    base_url: str,
    directory: Directory,
    author_rpps: str | None = None,
    recipient_rpps: str | None = None,
) -> DraftView:
    """`draft` → `in_progress`; each RPPS given is used only when the draft has none.

    The caller checks the given RPPS first (app.drafts.validation.validate_practitioners).
    """
    with write_session(engine) as session:
        draft = locked_draft(session, draft_id=draft_id, owner_key=owner_key)
        check_move(draft, DraftStatus.IN_PROGRESS)
        draft.author_rpps = draft.author_rpps or author_rpps
        draft.recipient_rpps = draft.recipient_rpps or recipient_rpps
        missing = [name for name in ("author_rpps", "recipient_rpps") if not getattr(draft, name)]
        if missing:
            raise DraftIncomplete(
                f"Publishing needs {' and '.join(missing)}; the draft has none.",
                extra={"missing": missing},
            )
        transition(
            session, draft=draft, to=DraftStatus.IN_PROGRESS, base_url=base_url, directory=directory
        )
        return draft_view(session, draft=draft, base_url=base_url)


def complete_draft(
    engine: Engine,
    *,
    draft_id: str,
    owner_key: str | None,
    base_url: str,
    report_text: str | None = None,
) -> DraftView:
    """`in_progress` → `completed`, the recipient's answer (a default text when none)."""
    with write_session(engine) as session:
        draft = locked_draft(session, draft_id=draft_id, owner_key=owner_key)
        check_move(draft, DraftStatus.COMPLETED)
        draft.report_text = report_text or DEFAULT_REPORT_TEXT
        transition(session, draft=draft, to=DraftStatus.COMPLETED, base_url=base_url)
        return draft_view(session, draft=draft, base_url=base_url)


def cancel_draft(
    engine: Engine, *, draft_id: str, owner_key: str | None, base_url: str
) -> DraftView:
    """`temporary`, `draft` or `in_progress` → `cancelled`."""
    with write_session(engine) as session:
        draft = locked_draft(session, draft_id=draft_id, owner_key=owner_key)
        transition(session, draft=draft, to=DraftStatus.CANCELLED, base_url=base_url)
        return draft_view(session, draft=draft, base_url=base_url)


def visit_owned_draft(engine: Engine, *, draft_id: str, owner_key: str, base_url: str) -> DraftView:
    """The `visit` helper: what the redirect_url's first GET does; already visited = no-op."""
    visit_draft(engine, draft_id=draft_id, base_url=base_url, owner_key=owner_key)
    return read_owned_view(engine, draft_id=draft_id, owner_key=owner_key, base_url=base_url)


def read_report(
    engine: Engine, *, draft_id: str, owner_key: str, directory: Directory
) -> tuple[Draft, bytes]:
    """The compte rendu PDF of a completed draft; 409 `report_not_ready` before."""
    with read_session(engine) as session:
        draft = get_owned_draft(session, draft_id=draft_id, owner_key=owner_key)
    if draft.status != DraftStatus.COMPLETED:
        raise ReportNotReady(
            f"The draft is '{draft.status}'; its report exists once it is 'completed'.",
            extra={"current_status": str(draft.status)},
        )
    return draft, reports.stored_report(engine, draft=draft, directory=directory)
