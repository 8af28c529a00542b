"""The admin scope's reads (README, "Dashboard and admin scope"): every key's drafts,
journal and deliveries, the inboxes, the keys; the dashboard's cursor is in app/admin/changes.py.

Reads across keys for `/_sandbox/admin/…` and the dashboard; the rows stay owned by
their modules (journal, webhooks, inbox, autopilot), this module only looks at them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine, func, true
from sqlmodel import Session, col, select

from app import urls
from app.admin.schemas import (
    AdminDelivery,
    AdminDraft,
    AdminIssue,
    AdminKey,
    AdminRequestEntry,
    InboxSummary,
)
from app.config import Settings
from app.db import read_session
from app.drafts import service as drafts
from app.drafts import uploads
from app.errors import DeliveryNotFound, FieldIssue, FileNotFound
from app.fixtures import ApiKeyFixture, Fixtures
from app.http import api_keys
from app.identifiers import is_uuid4
from app.longpoll import newest_page
from app.models import (
    AutopilotMove,
    Draft,
    DraftStatus,
    InboxItem,
    JournalEntry,
    StoredFile,
    WebhookEndpoint,
    WebhookEvent,
)
from app.notifications import deliveries, webhooks
from app.pages import labels_fr
from app.sandbox import journal

PAGE = 100
JOURNAL_PAGE = 200


# --- Drafts -----------------------------------------------------------------------------


def admin_file_url(base_url: str, draft_id: str, file_id: str) -> str:
    return f"{base_url}{urls.SANDBOX_PREFIX}/admin/drafts/{draft_id}/files/{file_id}"


def _draft_view(
    draft: Draft, files: list[StoredFile], due: datetime | None, base_url: str
) -> AdminDraft:
    """The pull view of any draft, with its owner; files link to the admin download.
    Files and answers come preloaded: a listing of 100 drafts is three queries, not two
    hundred."""
    view = drafts.build_view(
        draft,
        files,
        autopilot_due_at=due if draft.status == DraftStatus.IN_PROGRESS else None,
        base_url=base_url,
        file_url=admin_file_url,
    )
    return AdminDraft(
        **dict(view),
        owner_key=draft.owner_key,
        updated_at=draft.updated_at,
        redirect_url=urls.redirect_url(base_url, draft.id),
    )


def list_drafts(engine: Engine, *, base_url: str) -> list[AdminDraft]:
    """Every key's drafts and the ownerless ones (URL page), newest first, at most 100."""
    with read_session(engine) as session:
        rows = session.exec(
            select(Draft).order_by(col(Draft.created_at).desc(), col(Draft.id)).limit(PAGE)
        ).all()
        ids = [d.id for d in rows]
        files: dict[str, list[StoredFile]] = {}
        for f in session.exec(
            select(StoredFile)
            .where(col(StoredFile.draft_id).in_(ids))
            .order_by(col(StoredFile.created_at))
        ).all():
            files.setdefault(f.draft_id, []).append(f)
        moves = session.exec(
            select(AutopilotMove).where(col(AutopilotMove.draft_id).in_(ids))
        ).all()
        due = {m.draft_id: m.due_at for m in moves}
    return [_draft_view(d, files.get(d.id, []), due.get(d.id), base_url) for d in rows]


def draft_file(
    engine: Engine, *, settings: Settings, draft_id: str, file_id: str
) -> tuple[StoredFile, Path]:
    """A file of any draft, with the path of its bytes; 404 when either is unknown."""
    missing = "No such file on a draft of this sandbox."
    if not is_uuid4(draft_id):
        raise FileNotFound(missing)
    return uploads.file_of_draft(
        engine, settings=settings, draft_id=draft_id.lower(), file_id=file_id, missing=missing
    )


# --- Journal ----------------------------------------------------------------------------


def _issues_fr(issues: list[FieldIssue]) -> list[AdminIssue]:
    """The journal's issues with the pages' French message next to the API's own."""
    return [
        AdminIssue(
            field=i.field, code=i.code, message=i.message, message_fr=labels_fr.issue_message(i)
        )
        for i in issues
    ]


def list_requests(
    engine: Engine, *, owner_key: str | None = None, after: str | None = None
) -> list[AdminRequestEntry]:
    """Every key's journaled calls (or one key's), newest first, at most 200."""
    with read_session(engine) as session:
        scope = JournalEntry.owner_key == owner_key if owner_key is not None else true()
        what = "an entry still in the journal"
        rows = newest_page(
            session, JournalEntry, scope=scope, after=after, what=what, limit=JOURNAL_PAGE
        )
        items = []
        for row in rows:
            view = journal.entry_view(row)
            fields = view.model_dump(exclude={"errors", "warnings"})
            items.append(
                AdminRequestEntry(
                    **fields,
                    owner_key=row.owner_key,
                    errors=_issues_fr(view.errors),
                    warnings=_issues_fr(view.warnings),
                )
            )
        return items


# --- Deliveries -------------------------------------------------------------------------


def _owner(session: Session, fixtures: Fixtures, owner_key: str) -> ApiKeyFixture:
    """The key (of the fixtures or added at run time), or a stand-in for rows of a key
    the fixtures dropped or that was revoked."""
    found = api_keys.find_key_in(session, fixtures, owner_key)
    return found or ApiKeyFixture.model_construct(key=owner_key, name=owner_key)


def _delivery_views(
    session: Session, events: list[WebhookEvent], fixtures: Fixtures
) -> list[AdminDelivery]:
    views: dict[str, AdminDelivery] = {}
    for owner_key in {e.owner_key for e in events}:
        mine = [e for e in events if e.owner_key == owner_key]
        seen = deliveries.delivery_views(session, mine, _owner(session, fixtures, owner_key))
        for event, view in zip(mine, seen, strict=True):
            views[event.id] = AdminDelivery(**dict(view), owner_key=owner_key)
    return [views[e.id] for e in events]


def list_deliveries(
    engine: Engine, *, fixtures: Fixtures, owner_key: str | None = None, after: str | None = None
) -> list[AdminDelivery]:
    """Every key's notifications (or one key's) with their attempts, newest first."""
    with read_session(engine) as session:
        scope = WebhookEvent.owner_key == owner_key if owner_key is not None else true()
        what = "a delivery of this sandbox"
        events = newest_page(session, WebhookEvent, scope=scope, after=after, what=what, limit=PAGE)
        return _delivery_views(session, list(events), fixtures)


def redeliver(engine: Engine, *, fixtures: Fixtures, delivery_id: str) -> AdminDelivery:
    """Send any key's notification again, as its key would (deliveries.redeliver)."""
    owner_key = deliveries.owner_of(engine, delivery_id=delivery_id)
    if owner_key is None:
        raise DeliveryNotFound(f"No delivery '{delivery_id[:64]}' in this sandbox.")
    with read_session(engine) as session:
        api_key = _owner(session, fixtures, owner_key)
    view = deliveries.redeliver(engine, api_key=api_key, delivery_id=delivery_id.lower())
    return AdminDelivery(**dict(view), owner_key=owner_key)


# --- Inboxes and keys ---------------------------------------------------------------------


def list_inboxes(engine: Engine) -> list[InboxSummary]:
    """Each inbox that received something: its name, count and last arrival, latest first."""
    with read_session(engine) as session:
        rows = session.exec(
            select(
                InboxItem.name,
                func.count(col(InboxItem.seq)),
                func.max(InboxItem.received_at),
                func.max(InboxItem.seq),
            )
            .group_by(col(InboxItem.name))
            .order_by(func.max(InboxItem.seq).desc())
        ).all()
    return [InboxSummary(name=n, count=c, last_received_at=last) for n, c, last, _ in rows]


def list_keys(engine: Engine, *, fixtures: Fixtures) -> list[AdminKey]:
    """Every API key (fixtures', then run-time), each with where its notifications go."""
    with read_session(engine) as session:
        registered = set(session.exec(select(WebhookEndpoint.owner_key)).all())
        items = []
        for api_key, key_source in api_keys.all_keys(session, fixtures):
            endpoint = webhooks.effective_endpoint(session, owner_key=api_key.key, api_key=api_key)
            source: Literal["fixtures", "registered"] | None = None
            if api_key.key in registered:
                source = "registered"
            elif endpoint is not None:
                source = "fixtures"
            items.append(
                AdminKey(
                    key=api_key.key,
                    name=api_key.name,
                    source=key_source,
                    webhook_url=endpoint.url if endpoint else None,
                    webhook_secret=endpoint.secret if endpoint else None,
                    webhook_source=source,
                )
            )
    return items
