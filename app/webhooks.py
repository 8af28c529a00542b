"""Notifications: the durable outbox of status events (sandbox-defined, SPEC §5)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from standardwebhooks import Webhook

from app import reports
from app.db import read_session, write_session
from app.errors import DeliveryNotFound, ValidationFailed
from app.fixtures import ApiKeyFixture
from app.longpoll import newer_than
from app.models import (
    Draft,
    DraftStatus,
    EventStatus,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEvent,
    utcnow,
)
from app.validation import FieldIssue

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


# --- Endpoints and signing ------------------------------------------------------------

SECRET_PREFIX = "whsec_"  # noqa: S105  (a format prefix, not a secret)
URL_MAX_CHARS = 2000
_SECRET_RE = re.compile(r"^whsec_[A-Za-z0-9+/]+={0,2}$")
_FIXTURE_SECRET_SALT = b"omnidoc-sandbox fixture webhook secret"


@dataclass(frozen=True)
class Endpoint:
    """Where and how an event is sent: the key's URL and its Standard Webhooks secret."""

    url: str
    secret: str


def generate_secret() -> str:
    """`whsec_` + base64 of 24 random bytes, the Standard Webhooks format."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def fixture_secret(owner_key: str) -> str:
    """The secret of a fixture webhook_url given without webhook_secret: stable per key."""
    digest = hmac.new(_FIXTURE_SECRET_SALT, owner_key.encode(), hashlib.sha256).digest()
    return SECRET_PREFIX + base64.b64encode(digest[:24]).decode()


def effective_endpoint(
    session: Session, *, owner_key: str, api_key: ApiKeyFixture | None
) -> Endpoint | None:
    """The endpoint registered at run time, else the fixture's; None when there is none."""
    row = session.get(WebhookEndpoint, owner_key)
    if row is not None:
        return Endpoint(url=row.url, secret=row.secret)
    if api_key is not None and api_key.webhook_url:
        secret = api_key.webhook_secret or fixture_secret(owner_key)
        return Endpoint(url=api_key.webhook_url, secret=secret)
    return None


def signed_headers(*, secret: str, webhook_id: str, payload: str, at: datetime) -> dict[str, str]:
    """Standard Webhooks headers for one attempt (`webhook-id` is the same on every retry)."""
    signature = Webhook(secret).sign(webhook_id, at, payload)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": "omnidoc-sandbox",
    }


def _url_issue(url: object) -> str | None:
    if not isinstance(url, str) or not url:
        return "url is required: a string such as http://127.0.0.1:9000/hook."
    if len(url) > URL_MAX_CHARS:
        return f"url is longer than {URL_MAX_CHARS} characters."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return "url is not a valid URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "url must be an absolute http:// or https:// URL with a host."
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return "url must not contain spaces or control characters."
    return None


def _secret_issue(secret: object) -> str | None:
    if not isinstance(secret, str) or len(secret) > 200 or not _SECRET_RE.match(secret):
        return "secret must look like whsec_<base64>, at most 200 characters."
    try:
        Webhook(secret)
    except Exception:  # binascii.Error or EmptyWebhookSecretError
        return "secret must be whsec_ followed by non-empty base64."
    return None


def set_endpoint(engine: Engine, *, owner_key: str, body: object) -> dict[str, str]:
    """Register (or replace) the key's webhook; a secret is generated when none is given."""
    if not isinstance(body, dict):
        raise ValidationFailed(errors=[FieldIssue("", "not_an_object", "Send a JSON object.")])
    issues = []
    if (url_problem := _url_issue(body.get("url"))) is not None:
        issues.append(FieldIssue("url", "invalid_url", url_problem))
    secret = body.get("secret")
    if secret is not None and (secret_problem := _secret_issue(secret)) is not None:
        issues.append(FieldIssue("secret", "invalid_secret", secret_problem))
    if issues:
        raise ValidationFailed(errors=issues)
    url = str(body["url"])
    secret = str(secret) if secret is not None else generate_secret()
    for retry in (False, True):
        try:
            with write_session(engine) as session:
                row = session.get(WebhookEndpoint, owner_key, with_for_update=True)
                if row is None:
                    row = WebhookEndpoint(owner_key=owner_key, url=url, secret=secret)
                row.url, row.secret, row.updated_at = url, secret, utcnow()
                session.add(row)
            break
        except IntegrityError:  # PostgreSQL: a concurrent first PUT inserted the row
            if retry:
                raise
    return {"url": url, "secret": secret}


def get_endpoint(engine: Engine, *, api_key: ApiKeyFixture) -> dict[str, str | None]:
    with read_session(engine) as session:
        endpoint = effective_endpoint(session, owner_key=api_key.key, api_key=api_key)
    if endpoint is None:
        return {"url": None, "secret": None}
    return {"url": endpoint.url, "secret": endpoint.secret}


# --- Deliveries: what the vendor sees of the outbox -------------------------------------

DELIVERIES_PAGE = 100
_ID_RE = re.compile(r"^[0-9a-f-]{36}$")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _delivery_view(
    event: WebhookEvent, attempts: list[WebhookAttempt], current_url: str | None
) -> dict[str, Any]:
    return {
        "id": event.id,
        "webhook_id": event.webhook_id,
        "draft_id": event.draft_id,
        "status": event.status,
        "url": (attempts[-1].url if attempts else None) or current_url,
        "payload": json.loads(event.payload),
        "created_at": _iso(event.created_at),
        "next_attempt_at": _iso(event.next_attempt_at),
        "attempts": [
            {
                "at": _iso(a.at),
                "status_code": a.status_code,
                "duration_ms": round(a.duration_ms, 1),
                "error": a.error,
                "response_body": a.response_body,
            }
            for a in attempts
        ],
    }


def _views(session: Session, events: list[WebhookEvent], api_key: ApiKeyFixture) -> list[Any]:
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
    return [_delivery_view(e, by_event.get(e.seq or 0, []), url) for e in events]


def list_deliveries(
    engine: Engine, *, api_key: ApiKeyFixture, after: str | None = None
) -> list[dict[str, Any]]:
    """The key's events, newest first (at most 100); `after` keeps only newer ones."""
    with read_session(engine) as session:
        query = select(WebhookEvent).where(WebhookEvent.owner_key == api_key.key)
        if after is not None:
            scope, what = WebhookEvent.owner_key == api_key.key, "one of your deliveries"
            query = query.where(
                newer_than(session, WebhookEvent, after=after, scope=scope, what=what)
            )
        events = session.exec(
            query.order_by(col(WebhookEvent.seq).desc()).limit(DELIVERIES_PAGE)
        ).all()
        return _views(session, list(events), api_key)


def redeliver(engine: Engine, *, api_key: ApiKeyFixture, delivery_id: str) -> dict[str, Any]:
    """Send an event again, same `webhook-id`: back to pending, first attempt now."""
    if not _ID_RE.match(delivery_id):
        raise DeliveryNotFound(f"No delivery '{delivery_id[:64]}' belongs to your API key.")
    with write_session(engine) as session:
        event = session.exec(
            select(WebhookEvent)
            .where(WebhookEvent.id == delivery_id, WebhookEvent.owner_key == api_key.key)
            .with_for_update()
        ).first()
        if event is None:
            raise DeliveryNotFound(f"No delivery '{delivery_id[:64]}' belongs to your API key.")
        now = utcnow()
        event.status = EventStatus.PENDING
        event.attempt_count = 0  # a fresh retry schedule; earlier attempts stay listed
        event.next_attempt_at = now
        # An attempt in flight keeps its row but no longer decides the status.
        event.claim_token = None
        event.claimed_until = None
        event.updated_at = now
        session.add(event)
        session.flush()
        view: dict[str, Any] = _views(session, [event], api_key)[0]
        return view
