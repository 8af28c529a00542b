"""Signed headers, and the webhook endpoint a key registers: the fixture's or its own, secrets
kept or rotated, DELETE back to the fixtures'; the body's rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Engine
from standardwebhooks import Webhook

from app.db import read_session, write_session
from app.fixtures import ApiKeyFixture
from app.models import WebhookEndpoint
from app.notifications import webhooks
from app.notifications.schemas import WebhookBody, WebhookConfig
from tests.notifications.notification_helpers import (
    BARE,
    HOOK,
    KEY,
    SECRET,
)


def test_signed_headers_verify_with_standardwebhooks() -> None:
    payload = '{"type":"telexpertise.status_changed","data":{"é":1}}'
    headers = webhooks.signed_headers(
        secret=SECRET, webhook_id="msg_1", payload=payload, at=datetime.now(UTC)
    )
    assert Webhook(SECRET).verify(payload.encode(), headers) == json.loads(payload)
    assert headers["webhook-id"] == "msg_1"


def test_get_endpoint_fixture_without_secret_gets_a_stable_one(engine: Engine) -> None:
    key = ApiKeyFixture(key="k-nosecret", name="N", webhook_url=HOOK)
    first = webhooks.get_endpoint(engine, api_key=key)
    assert first.url == HOOK
    assert first.secret == webhooks.fixture_secret("k-nosecret")
    assert str(first.secret).startswith("whsec_")
    Webhook(str(first.secret))


def test_set_endpoint_overrides_the_fixture(engine: Engine) -> None:
    body = WebhookBody(url="https://x.test/h")
    answer = webhooks.set_endpoint(engine, api_key=KEY, body=body)
    assert str(answer.secret).startswith("whsec_")
    assert webhooks.get_endpoint(engine, api_key=KEY) == answer
    with write_session(engine) as session:
        assert session.get(WebhookEndpoint, KEY.key) is not None


def test_set_endpoint_keeps_the_fixtures_secret_when_none_is_given(engine: Engine) -> None:
    answer = webhooks.set_endpoint(engine, api_key=KEY, body=WebhookBody(url="http://x.test/1"))
    assert answer.secret == SECRET
    derived = ApiKeyFixture(key="k-derived", name="D", webhook_url=HOOK)
    kept = webhooks.set_endpoint(engine, api_key=derived, body=WebhookBody(url="http://x.test/2"))
    assert kept.secret == webhooks.fixture_secret("k-derived")  # the one GET showed before


def test_set_endpoint_keeps_a_registered_secret_and_rotates_on_request(engine: Engine) -> None:
    first = webhooks.set_endpoint(engine, api_key=BARE, body=WebhookBody(url="http://x.test/1"))
    assert str(first.secret).startswith("whsec_")  # the key had none: a new one
    again = webhooks.set_endpoint(engine, api_key=BARE, body=WebhookBody(url="http://x.test/2"))
    assert again == WebhookConfig(url="http://x.test/2", secret=first.secret)
    rotated = webhooks.set_endpoint(
        engine, api_key=BARE, body=WebhookBody(url="http://x.test/2", rotate_secret=True)
    )
    assert rotated.secret not in (None, first.secret)
    Webhook(str(rotated.secret))
    given = webhooks.set_endpoint(
        engine, api_key=BARE, body=WebhookBody(url="http://x.test/3", secret=SECRET)
    )
    assert given.secret == SECRET
    assert webhooks.get_endpoint(engine, api_key=BARE) == given


def test_delete_endpoint_returns_to_the_fixtures_webhook(engine: Engine) -> None:
    webhooks.set_endpoint(
        engine, api_key=KEY, body=WebhookBody(url="http://x.test/1", rotate_secret=True)
    )
    restored = webhooks.delete_endpoint(engine, api_key=KEY)
    assert restored == WebhookConfig(url=HOOK, secret=SECRET)
    assert webhooks.get_endpoint(engine, api_key=KEY) == restored
    with read_session(engine) as session:
        assert session.get(WebhookEndpoint, KEY.key) is None


def test_delete_endpoint_without_fixtures_webhook_answers_nulls(engine: Engine) -> None:
    webhooks.set_endpoint(engine, api_key=BARE, body=WebhookBody(url="http://x.test/1"))
    nulls = WebhookConfig(url=None, secret=None)
    assert webhooks.delete_endpoint(engine, api_key=BARE) == nulls
    assert webhooks.delete_endpoint(engine, api_key=BARE) == nulls  # again: still 200's body
    again = webhooks.set_endpoint(engine, api_key=BARE, body=WebhookBody(url="http://x.test/2"))
    assert str(again.secret).startswith("whsec_")  # none left to keep: a new one
