"""Drafts: creation, the pull view, and the state machine as data."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app import autopilot, reports, webhooks
from app.db import read_session, write_session
from app.errors import (
    DraftIncomplete,
    DraftNotFound,
    InvalidTransition,
    ReportNotReady,
    ValidationFailed,
)
from app.identifiers import is_rpps
from app.models import Draft, DraftStatus, StoredFile, utcnow
from app.validation import FieldIssue

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

# Other side effects of entering a status, in the same unit of work: a scenario
# recipient's automatic answer is booked on publication (SPEC §1 `autopilot`).
ON_ENTER: dict[DraftStatus, Callable[[Session, Draft, str, reports.Directory | None], None]] = {
    S.IN_PROGRESS: autopilot.schedule,
}


def transition(
    session: Session,
    *,
    draft: Draft,
    to: DraftStatus,
    base_url: str,
    directory: reports.Directory | None = None,
) -> None:
    """Move a draft to `to`, the only writer of `status`; the event joins the same unit of work.

    `directory` (the fixtures' practitioners) is needed to enter `in_progress`.
    """
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
    if (on_enter := ON_ENTER.get(to)) is not None:
        on_enter(session, draft, base_url, directory)


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
        # Sandbox-defined: when a scenario recipient answers by itself (fixtures `autopilot`).
        "autopilot_due_at": _iso(autopilot.due_at(session, draft=draft)),
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


# --- Downstream transitions (sandbox-defined, SPEC §5-6): the helpers and the pages. ---

REPORT_TEXT_MAX_CHARS = 20_000
DEFAULT_REPORT_TEXT = "Compte rendu de téléexpertise (texte par défaut du sandbox)."
# NUL and lone surrogates parse from JSON but cannot be stored as UTF-8 or PostgreSQL text.
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")


def _body_object(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationFailed(
            "The body must be a JSON object.",
            errors=[FieldIssue("", "not_an_object", "The body must be a JSON object.")],
        )
    return body


def _locked(session: Session, *, draft_id: str, owner_key: str | None) -> Draft:
    """The draft under the write lock; `owner_key=None` is the pages (whoever holds the URL)."""
    if owner_key is None:
        return _get_any_draft(session, draft_id=draft_id)
    return get_owned_draft(session, draft_id=draft_id, owner_key=owner_key, for_update=True)


def _check_move(draft: Draft, to: DraftStatus) -> None:
    """Refuse an impossible move before looking at anything else (e.g. missing fields)."""
    if (DraftStatus(draft.status), to) not in ALLOWED_MOVES:
        raise InvalidTransition(
            f"A draft in status '{draft.status}' cannot become '{to}'.",
            extra={"current_status": str(draft.status), "requested_status": str(to)},
        )


def _author_from_body(body: dict[str, Any], is_known_practitioner: Callable[[str], bool]) -> Any:
    author = body.get("author_rpps")
    if author is None:
        return None
    if not (isinstance(author, str) and is_rpps(author)):
        message = "author_rpps must be a string of 11 digits."
        raise ValidationFailed(message, errors=[FieldIssue("author_rpps", "rpps_format", message)])
    if not is_known_practitioner(author):
        message = "author_rpps is not in the practitioner directory (OMNIDOC_FIXTURES)."
        raise ValidationFailed(
            message, errors=[FieldIssue("author_rpps", "unknown_author_rpps", message)]
        )
    return author


def publish_draft(
    engine: Engine,
    *,
    draft_id: str,
    owner_key: str | None,
    base_url: str,
    body: object,
    is_known_practitioner: Callable[[str], bool],
    directory: reports.Directory,
) -> dict[str, Any]:
    """`draft` → `in_progress`; needs an author (the draft's, else the body's) and a recipient."""
    author = _author_from_body(_body_object(body), is_known_practitioner)
    with write_session(engine) as session:
        draft = _locked(session, draft_id=draft_id, owner_key=owner_key)
        _check_move(draft, DraftStatus.IN_PROGRESS)
        if not draft.author_rpps and author:
            draft.author_rpps = author
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
    engine: Engine, *, draft_id: str, owner_key: str | None, base_url: str, body: object
) -> dict[str, Any]:
    """`in_progress` → `completed`, the recipient's answer; `body.report_text` is optional."""
    report_text = _body_object(body).get("report_text")
    if report_text is not None and not (
        isinstance(report_text, str) and len(report_text) <= REPORT_TEXT_MAX_CHARS
    ):
        message = f"report_text must be a string of at most {REPORT_TEXT_MAX_CHARS} characters."
        raise ValidationFailed(message, errors=[FieldIssue("report_text", "invalid", message)])
    if report_text is not None and _UNSTORABLE_RE.search(report_text):
        message = "report_text holds a NUL character or a lone surrogate."
        raise ValidationFailed(message, errors=[FieldIssue("report_text", "invalid", message)])
    with write_session(engine) as session:
        draft = _locked(session, draft_id=draft_id, owner_key=owner_key)
        _check_move(draft, DraftStatus.COMPLETED)
        draft.report_text = report_text or DEFAULT_REPORT_TEXT
        transition(session, draft=draft, to=DraftStatus.COMPLETED, base_url=base_url)
        return draft_view(session, draft=draft, base_url=base_url)


def cancel_draft(
    engine: Engine, *, draft_id: str, owner_key: str | None, base_url: str
) -> dict[str, Any]:
    """`temporary`, `draft` or `in_progress` → `cancelled`."""
    with write_session(engine) as session:
        draft = _locked(session, draft_id=draft_id, owner_key=owner_key)
        transition(session, draft=draft, to=DraftStatus.CANCELLED, base_url=base_url)
        return draft_view(session, draft=draft, base_url=base_url)


def visit_owned_draft(
    engine: Engine, *, draft_id: str, owner_key: str, base_url: str
) -> dict[str, Any]:
    """The `visit` helper: what the redirect_url's first GET does; already visited = no-op."""
    visit_draft(engine, draft_id=draft_id, base_url=base_url, owner_key=owner_key)
    return read_owned_view(engine, draft_id=draft_id, owner_key=owner_key, base_url=base_url)


def read_report(
    engine: Engine, *, draft_id: str, owner_key: str, directory: reports.Directory
) -> tuple[Draft, bytes]:
    """The compte rendu PDF of a completed draft; 409 `report_not_ready` before."""
    with read_session(engine) as session:
        draft = get_owned_draft(session, draft_id=draft_id, owner_key=owner_key)
    if draft.status != DraftStatus.COMPLETED:
        raise ReportNotReady(
            f"The draft is '{draft.status}'; its report exists once it is 'completed'.",
            extra={"current_status": str(draft.status)},
        )
    return draft, reports.render_report(draft, directory=directory)
