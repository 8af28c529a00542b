"""The vendor's view of its notifications: deliveries, attempts, redelivery (README,
"Receive notifications"). Reads only; the rows are written by app.notifications.outbox."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app import storable
from app.db import read_session
from app.fixtures import ApiKeyFixture
from app.identifiers import is_uuid4
from app.longpoll import newest_page
from app.models import EventStatus, WebhookAttempt, WebhookEvent
from app.notifications import outbox
from app.notifications.schemas import Delivery, DeliveryAttempt
from app.notifications.webhooks import effective_endpoint
from app.schemas import StatusChangedEvent

PAGE = 100


def _view(event: WebhookEvent, attempts: list[WebhookAttempt], current_url: str | None) -> Delivery:
    return Delivery(
        id=event.id,
        webhook_id=event.webhook_id,
        draft_id=event.draft_id,
        status=EventStatus(event.status),
        url=(attempts[-1].url if attempts else None) or current_url,
        payload=StatusChangedEvent.model_validate(storable.loads(event.payload)),
        created_at=event.created_at,
        next_attempt_at=event.next_attempt_at,
        attempts=[
            DeliveryAttempt(
                at=a.at,
                status_code=a.status_code,
                duration_ms=round(a.duration_ms, 1),
                error=a.error,
                response_body=a.response_body,
            )
            for a in attempts
        ],
    )


def delivery_views(
    session: Session, events: list[WebhookEvent], api_key: ApiKeyFixture
) -> list[Delivery]:
    """The events as their key sees them, with every attempt, in one query."""
    endpoint = effective_endpoint(session, owner_key=api_key.key, api_key=api_key)
    seqs = [e.seq for e in events]
    rows = session.exec(
        select(WebhookAttempt)
        .where(col(WebhookAttempt.event_seq).in_(seqs))
        .order_by(col(WebhookAttempt.id))
    ).all()
    by_event: dict[int, list[WebhookAttempt]] = {}
    for attempt in rows:
        by_event.setdefault(attempt.event_seq, []).append(attempt)
    url = endpoint.url if endpoint else None
    return [_view(e, by_event.get(e.seq or 0, []), url) for e in events]


def list_deliveries(
    engine: Engine, *, api_key: ApiKeyFixture, after: str | None = None
) -> list[Delivery]:
    """The key's events, newest first (at most 100); `after` keeps only newer ones."""
    with read_session(engine) as session:
        scope, what = WebhookEvent.owner_key == api_key.key, "one of your deliveries"
        events = newest_page(session, WebhookEvent, scope=scope, after=after, what=what, limit=PAGE)
        return delivery_views(session, list(events), api_key)


def owner_of(engine: Engine, *, delivery_id: str) -> str | None:
    """The API key a delivery belongs to, or None when there is no such delivery."""
    if not is_uuid4(delivery_id):
        return None
    with read_session(engine) as session:
        return session.exec(
            select(WebhookEvent.owner_key).where(WebhookEvent.id == delivery_id.lower())
        ).first()


def redeliver(engine: Engine, *, api_key: ApiKeyFixture, delivery_id: str) -> Delivery:
    """Send a notification again (outbox.redeliver) and show it as it now stands."""
    event = outbox.redeliver(engine, owner_key=api_key.key, delivery_id=delivery_id)
    with read_session(engine) as session:
        return delivery_views(session, [event], api_key)[0]
