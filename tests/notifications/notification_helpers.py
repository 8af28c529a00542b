"""What the notification tests share: keys with and without a webhook, a worker on a
mock transport (the vendor's receiver), drafts published through the drafts service."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
from sqlalchemy import Engine
from sqlmodel import select

from app.config import Settings
from app.db import read_session
from app.drafts import service as drafts
from app.fixtures import ApiKeyFixture, Fixtures
from app.models import WebhookAttempt, WebhookEvent
from app.notifications.worker import DeliveryWorker
from tests.helpers import AUTHOR, RECIPIENT

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
HOOK = "http://vendor.test/hook"
KEY = ApiKeyFixture(key="k-hook", name="Hooked", webhook_url=HOOK, webhook_secret=SECRET)
OTHER = ApiKeyFixture(
    key="k-other", name="Other", webhook_url="http://other.test/hook", webhook_secret=SECRET
)
BARE = ApiKeyFixture(key="k-bare", name="No webhook")
FIXTURES = Fixtures(api_keys=(KEY, OTHER, BARE))
Handler = Callable[[httpx.Request], httpx.Response]


def _worker(engine: Engine, settings: Settings, handler: Handler) -> DeliveryWorker:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return DeliveryWorker(engine=engine, settings=settings, fixtures=FIXTURES, client=client)


def _run(worker: DeliveryWorker, rounds: int = 1) -> int:
    async def go() -> int:
        total = 0
        for _ in range(rounds):
            total += await worker.run_once()
        await worker.aclose()
        return total

    return asyncio.run(go())


def _published(engine: Engine, key: str = KEY.key, context: object = None) -> str:
    body = {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT, "context": context}
    draft_id = drafts.create_draft(engine, owner_key=key, body=body).id
    drafts.visit_draft(engine, draft_id=draft_id, base_url="http://s", owner_key=key)
    drafts.publish_draft(
        engine, draft_id=draft_id, owner_key=key, base_url="http://s", directory=lambda _: None
    )
    return draft_id


def _events(engine: Engine) -> list[WebhookEvent]:
    with read_session(engine) as session:
        return list(session.exec(select(WebhookEvent).order_by(WebhookEvent.seq)).all())  # type: ignore[arg-type]


def _attempts(engine: Engine) -> list[WebhookAttempt]:
    with read_session(engine) as session:
        return list(session.exec(select(WebhookAttempt).order_by(WebhookAttempt.id)).all())  # type: ignore[arg-type]
