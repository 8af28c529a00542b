"""Notifications: the durable outbox of status events (sandbox-defined, SPEC §5)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlmodel import Session

from app import reports
from app.models import Draft, DraftStatus, EventStatus, WebhookEvent, utcnow

STATUS_CHANGED = "telexpertise.status_changed"


def status_event_payload(*, draft: Draft, previous: DraftStatus, base_url: str) -> dict[str, Any]:
    """The event body; `context` is the one sent at creation, unchanged."""
    completed = draft.status == DraftStatus.COMPLETED
    now = utcnow()
    return {
        "type": STATUS_CHANGED,
        "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "data": {
            "id": draft.id,
            "status": str(draft.status),
            "previous_status": str(previous),
            "context": json.loads(draft.context_json) if draft.context_json else None,
            "report_url": reports.report_url(draft, base_url) if completed else None,
            "billing": reports.billing_for(draft) if completed else None,
        },
    }


def enqueue_status_event(
    session: Session, *, draft: Draft, previous: DraftStatus, base_url: str
) -> WebhookEvent:
    """Add the event to the outbox in the caller's transaction; the worker sends it."""
    assert draft.owner_key is not None
    payload = status_event_payload(draft=draft, previous=previous, base_url=base_url)
    event = WebhookEvent(
        webhook_id=f"msg_{uuid.uuid4().hex}",
        owner_key=draft.owner_key,
        draft_id=draft.id,
        event_type=STATUS_CHANGED,
        payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        status=EventStatus.PENDING,
        next_attempt_at=utcnow(),
    )
    session.add(event)
    return event
