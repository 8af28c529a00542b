"""Drafts: creation, the pull view, and the state machine as data."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app import reports, webhooks
from app.db import read_session, write_session
from app.errors import DraftNotFound, InvalidTransition
from app.models import Draft, DraftStatus, StoredFile, utcnow

S = DraftStatus

# The only moves transition() accepts: (from, to).
ALLOWED_MOVES: frozenset[tuple[DraftStatus, DraftStatus]] = frozenset(
    {
        (S.TEMPORARY, S.DRAFT),
        (S.DRAFT, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.COMPLETED),
        (S.TEMPORARY, S.CANCELLED),
        (S.DRAFT, S.CANCELLED),
        (S.IN_PROGRESS, S.CANCELLED),
    }
)

# Which timestamp each status stamps when it is entered.
STAMPED_AT: dict[DraftStatus, str] = {
    S.DRAFT: "visited_at",
    S.IN_PROGRESS: "published_at",
    S.COMPLETED: "completed_at",
    S.CANCELLED: "cancelled_at",
}

# Entering these statuses notifies the owning key (SPEC §5).
NOTIFIED: frozenset[DraftStatus] = frozenset({S.IN_PROGRESS, S.COMPLETED, S.CANCELLED})


def transition(session: Session, *, draft: Draft, to: DraftStatus, base_url: str) -> None:
    """Move a draft to `to`, the only writer of `status`; the event joins the same unit of work."""
    previous = DraftStatus(draft.status)
    if (previous, to) not in ALLOWED_MOVES:
        raise InvalidTransition(
            f"A draft in status '{previous}' cannot become '{to}'.",
            extra={"current_status": str(previous), "requested_status": str(to)},
        )
    now = utcnow()
    draft.status = to
    draft.updated_at = now
    setattr(draft, STAMPED_AT[to], now)
    session.add(draft)
    if to in NOTIFIED and draft.owner_key is not None:
        webhooks.enqueue_status_event(session, draft=draft, previous=previous, base_url=base_url)


def is_draft_id(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def canonical_context(context: object) -> str | None:
    """The compact JSON text stored and echoed; key order and values as sent."""
    if context is None:
        return None
    return json.dumps(context, ensure_ascii=False, separators=(",", ":"))


def create_draft(engine: Engine, *, owner_key: str | None, body: dict[str, Any]) -> Draft:
    """Store a validated body as a `temporary` draft owned by `owner_key`."""
    patient = body.get("patient")
    draft = Draft(
        owner_key=owner_key,
        patient=patient if isinstance(patient, dict) else None,
        author_rpps=body.get("author_rpps"),
        recipient_rpps=body.get("recipient_rpps"),
        text=body.get("text"),
        context_json=canonical_context(body.get("context")),
    )
    with write_session(engine) as session:
        session.add(draft)
    return draft


def get_owned_draft(
    session: Session, *, draft_id: str, owner_key: str | None, for_update: bool = False
) -> Draft:
    """The draft if `owner_key` owns it; 404 alike for unknown, malformed and foreign ids."""
    if not is_draft_id(draft_id):
        raise DraftNotFound()
    query = select(Draft).where(Draft.id == draft_id.lower())
    if for_update:
        query = query.with_for_update()
    draft = session.exec(query).first()
    if draft is None or draft.owner_key != owner_key:
        raise DraftNotFound()
    return draft


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def draft_view(session: Session, *, draft: Draft, base_url: str) -> dict[str, Any]:
    """The pull view of SPEC §5, the same for the interop API and the helpers."""
    files = session.exec(
        select(StoredFile)
        .where(StoredFile.draft_id == draft.id)
        .order_by(col(StoredFile.created_at))
    ).all()
    completed = draft.status == DraftStatus.COMPLETED
    return {
        "id": draft.id,
        "status": draft.status,
        "created_at": _iso(draft.created_at),
        "visited_at": _iso(draft.visited_at),
        "published_at": _iso(draft.published_at),
        "completed_at": _iso(draft.completed_at),
        "cancelled_at": _iso(draft.cancelled_at),
        "author_rpps": draft.author_rpps,
        "recipient_rpps": draft.recipient_rpps,
        "patient": draft.patient,
        "text": draft.text,
        "context": json.loads(draft.context_json) if draft.context_json else None,
        "files": [
            {
                "id": f.id,
                "filename": f.filename,
                "content_type": f.content_type,
                "size": f.size,
                "sha256": f.sha256,
                "url": f"{base_url}/api/interop/v1/drafts/{draft.id}/files/{f.id}",
            }
            for f in files
        ],
        "report_url": reports.report_url(draft, base_url) if completed else None,
        "billing": reports.billing_for(draft) if completed else None,
    }


def read_owned_view(
    engine: Engine, *, draft_id: str, owner_key: str, base_url: str
) -> dict[str, Any]:
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
        if owner_key is None:
            draft = _get_any_draft(session, draft_id=draft_id)
        else:
            draft = get_owned_draft(
                session, draft_id=draft_id, owner_key=owner_key, for_update=True
            )
        if draft.status == DraftStatus.TEMPORARY:
            transition(session, draft=draft, to=DraftStatus.DRAFT, base_url=base_url)
        return draft


def _get_any_draft(session: Session, *, draft_id: str) -> Draft:
    if not is_draft_id(draft_id):
        raise DraftNotFound()
    query = select(Draft).where(Draft.id == draft_id.lower()).with_for_update()
    draft = session.exec(query).first()
    if draft is None:
        raise DraftNotFound()
    return draft
