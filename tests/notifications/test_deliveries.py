"""The vendor's view of its notifications: listed per key, newest first; redelivered."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine

from app.config import Settings
from app.errors import DeliveryNotFound, ValidationFailed
from app.notifications import deliveries
from tests.notifications.notification_helpers import (
    BARE,
    HOOK,
    KEY,
    _events,
    _published,
    _run,
    _worker,
)


def test_redeliver_resets_to_pending_with_the_same_webhook_id(
    engine: Engine, settings: Settings
) -> None:
    _published(engine)
    ids: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        ids.append(request.headers["webhook-id"])
        return httpx.Response(200)

    _run(_worker(engine, settings, handler))
    [event] = _events(engine)
    view = deliveries.redeliver(engine, api_key=KEY, delivery_id=event.id)
    assert view.status == "pending"
    assert len(view.attempts) == 1
    _run(_worker(engine, settings, handler))
    assert ids == [event.webhook_id, event.webhook_id]
    assert _events(engine)[0].status == "delivered"


def test_redeliver_another_keys_event_is_not_found(engine: Engine) -> None:
    _published(engine)
    [event] = _events(engine)
    with pytest.raises(DeliveryNotFound):
        deliveries.redeliver(engine, api_key=BARE, delivery_id=event.id)


def test_list_deliveries_is_scoped_and_newest_first(engine: Engine) -> None:
    first = _published(engine)
    second = _published(engine)
    _published(engine, key=BARE.key)
    items = deliveries.list_deliveries(engine, api_key=KEY)
    assert [i.draft_id for i in items] == [second, first]
    assert items[0].url == HOOK
    newer = deliveries.list_deliveries(engine, api_key=KEY, after=items[1].id)
    assert [i.draft_id for i in newer] == [second]
    with pytest.raises(ValidationFailed):
        deliveries.list_deliveries(engine, api_key=BARE, after=items[1].id)
