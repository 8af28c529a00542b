"""Notifications: what an event says, where it goes and how it is signed.

The event rows themselves belong to app.notifications.outbox; the vendor's view of them to
app.notifications.deliveries (README, "Receive notifications").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col
from standardwebhooks import Webhook

from app import storable, urls
from app.db import read_session, write_session
from app.fixtures import ApiKeyFixture
from app.models import Draft, DraftStatus, WebhookEndpoint, utcnow
from app.notifications.schemas import WebhookBody, WebhookConfig
from app.reports.billing import billing_for
from app.schemas import Context, StatusChangedData, StatusChangedEvent


def status_event(*, draft: Draft, previous: DraftStatus, base_url: str) -> StatusChangedEvent:
    """The event body; `context` is the one sent at creation, unchanged."""
    completed = draft.status == DraftStatus.COMPLETED
    return StatusChangedEvent(
        type="telexpertise.status_changed",
        timestamp=utcnow(),
        data=StatusChangedData(
            id=draft.id,
            status=DraftStatus(draft.status),
            previous_status=previous,
            context=Context(storable.loads(draft.context_json)) if draft.context_json else None,
            report_url=urls.report_url(base_url, draft.id) if completed else None,
            billing=billing_for(draft) if completed else None,
        ),
    )


# --- Endpoints and signing ------------------------------------------------------------

SECRET_PREFIX = "whsec_"  # noqa: S105  (a format prefix, not a secret)
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


def set_endpoint(engine: Engine, *, api_key: ApiKeyFixture, body: WebhookBody) -> WebhookConfig:
    """Register (or replace) the key's webhook URL.

    The secret: the one given; else, with `rotate_secret`, a new one; else the key's current
    one (registered, or the fixtures'), so that a PUT by one member of a team does not break
    signature checks for everyone on the key; a new one only when the key has none.
    """
    owner_key, url = api_key.key, body.url
    for retry in (False, True):
        try:
            with write_session(engine) as session:
                row = session.get(WebhookEndpoint, owner_key, with_for_update=True)
                secret = body.secret
                if secret is None and not body.rotate_secret:
                    secret = row.secret if row is not None else _fixture_secret_of(api_key)
                secret = secret or generate_secret()
                if row is None:
                    row = WebhookEndpoint(owner_key=owner_key, url=url, secret=secret)
                row.url, row.secret, row.updated_at = url, secret, utcnow()
                session.add(row)
            break
        except IntegrityError:  # PostgreSQL: a concurrent first PUT inserted the row
            if retry:
                raise
    return WebhookConfig(url=url, secret=secret)


def _fixture_secret_of(api_key: ApiKeyFixture) -> str | None:
    """The secret the fixtures give the key (stated, or derived for their URL), if any."""
    if api_key.webhook_secret:
        return api_key.webhook_secret
    return fixture_secret(api_key.key) if api_key.webhook_url else None


def delete_endpoint(engine: Engine, *, api_key: ApiKeyFixture) -> WebhookConfig:
    """Forget the webhook registered at run time: the fixtures' applies again (or none)."""
    with write_session(engine) as session:
        session.execute(
            delete(WebhookEndpoint).where(col(WebhookEndpoint.owner_key) == api_key.key)
        )
    return get_endpoint(engine, api_key=api_key)


def get_endpoint(engine: Engine, *, api_key: ApiKeyFixture) -> WebhookConfig:
    with read_session(engine) as session:
        endpoint = effective_endpoint(session, owner_key=api_key.key, api_key=api_key)
    if endpoint is None:
        return WebhookConfig(url=None, secret=None)
    return WebhookConfig(url=endpoint.url, secret=endpoint.secret)
