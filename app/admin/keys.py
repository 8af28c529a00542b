"""API keys added and revoked at run time (SPEC §11): the writes to `models.RuntimeKey`.

The lookup every request uses is `app.http.api_keys`: it reads the database for any key
the fixtures do not know, so a key added here is accepted at once by every worker and
replica, and a revoked one refused at once. Keys of the fixtures cannot be revoked.
"""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, delete
from sqlmodel import col

from app import targets
from app.admin.schemas import AdminKeyBody, AdminKeyCreated
from app.db import write_session
from app.errors import FixtureKey, KeyNotFound
from app.fixtures import Fixtures
from app.http import api_keys
from app.models import RuntimeKey
from app.notifications import webhooks

KEY_PREFIX = "sbx_"


def new_key() -> str:
    """`sbx_` + 32 random bytes, URL-safe: usable as a bearer and in a path."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create(engine: Engine, *, body: AdminKeyBody) -> AdminKeyCreated:
    """Store a new key (and a generated webhook secret when a webhook_url is given)."""
    if body.webhook_url is not None:
        targets.check_target_url(body.webhook_url, field="webhook_url")
    secret = webhooks.generate_secret() if body.webhook_url is not None else None
    row = RuntimeKey(
        key=new_key(), name=body.name, webhook_url=body.webhook_url, webhook_secret=secret
    )
    with write_session(engine) as session:
        session.add(row)
    return AdminKeyCreated(
        key=row.key, name=row.name, webhook_url=row.webhook_url, webhook_secret=secret
    )


def revoke(engine: Engine, *, fixtures: Fixtures, key: str) -> None:
    """Delete a run-time key: 409 `fixture_key` for a key of the fixtures, 404 if unknown.

    Its drafts, deliveries and journal stay (admin scope) until a reset."""
    if fixtures.find_key(key) is not None:
        raise FixtureKey()
    if len(key) > api_keys.MAX_KEY_CHARS:
        raise KeyNotFound()
    with write_session(engine) as session:
        result = session.execute(delete(RuntimeKey).where(col(RuntimeKey.key) == key))
        if int(result.rowcount) == 0:  # type: ignore[attr-defined]
            raise KeyNotFound()
