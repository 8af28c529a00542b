"""Outbox, signing and the delivery worker, with httpx.MockTransport (no network)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import select
from standardwebhooks import Webhook

from app.config import Settings
from app.db import read_session, write_session
from app.drafts import service as drafts
from app.drafts import state_machine
from app.errors import DeliveryNotFound, ValidationFailed
from app.fixtures import ApiKeyFixture, Fixtures
from app.models import Draft, DraftStatus, WebhookAttempt, WebhookEndpoint, WebhookEvent
from app.notifications import deliveries, outbox, webhooks
from app.notifications.schemas import WebhookBody, WebhookConfig
from app.notifications.worker import NO_ENDPOINT, DeliveryWorker
from tests.helpers import AUTHOR, RECIPIENT, cancel_as_woken
from tests.receiver import Receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
HOOK = "http://vendor.test/hook"
KEY = ApiKeyFixture(key="k-hook", name="Hooked", webhook_url=HOOK, webhook_secret=SECRET)
OTHER = ApiKeyFixture(
    key="k-other", name="Other", webhook_url="http://other.test/hook", webhook_secret=SECRET
)
BARE = ApiKeyFixture(key="k-bare", name="No webhook")
FIXTURES = Fixtures(api_keys=(KEY, OTHER, BARE))
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        webhook_retry_schedule="0,0",
        webhook_timeout=2,
    )


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


def test_signed_headers_verify_with_standardwebhooks() -> None:
    payload = '{"type":"telexpertise.status_changed","data":{"é":1}}'
    headers = webhooks.signed_headers(
        secret=SECRET, webhook_id="msg_1", payload=payload, at=datetime.now(UTC)
    )
    assert Webhook(SECRET).verify(payload.encode(), headers) == json.loads(payload)
    assert headers["webhook-id"] == "msg_1"


def test_run_once_delivers_a_signed_event(engine: Engine, settings: Settings) -> None:
    context = {"dossier": {"id": "A-1", "tags": ["é", "ü"]}, "n": [1, 2.5, None]}
    draft_id = _published(engine, context=context)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="merci")

    assert _run(_worker(engine, settings, handler)) == 1
    [request] = seen
    assert str(request.url) == HOOK
    payload = Webhook(SECRET).verify(request.content, dict(request.headers))
    assert payload["data"]["id"] == draft_id
    assert payload["data"]["status"] == "in_progress"
    assert payload["data"]["context"] == context
    [event] = _events(engine)
    assert event.status == "delivered"
    [attempt] = _attempts(engine)
    assert (attempt.status_code, attempt.error, attempt.response_body) == (200, None, "merci")


def test_run_once_retries_on_the_schedule_then_fails(engine: Engine, settings: Settings) -> None:
    _published(engine)
    worker = _worker(engine, settings, lambda _: httpx.Response(503))
    assert _run(worker, rounds=4) == 3  # "0,0": three attempts, then nothing is due
    [event] = _events(engine)
    assert event.status == "failed"
    assert [a.status_code for a in _attempts(engine)] == [503, 503, 503]


def test_run_once_records_a_timeout(engine: Engine, settings: Settings) -> None:
    _published(engine)

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    _run(_worker(engine, settings, handler))
    [attempt] = _attempts(engine)
    assert attempt.status_code is None
    assert attempt.error == "timeout after 2s"
    assert _events(engine)[0].status == "pending"


def test_run_once_records_a_connection_error(engine: Engine, settings: Settings) -> None:
    _published(engine)

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    _run(_worker(engine, settings, handler))
    assert _attempts(engine)[0].error == "connection error (ConnectError)"


def test_run_once_truncates_the_response_body(engine: Engine, settings: Settings) -> None:
    _published(engine)
    _run(_worker(engine, settings, lambda _: httpx.Response(500, content=b"x" * 5000)))
    [attempt] = _attempts(engine)
    assert attempt.response_body == "x" * 1024


def test_run_once_without_endpoint_follows_the_schedule(engine: Engine, settings: Settings) -> None:
    _published(engine, key=BARE.key)
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200)

    _run(_worker(engine, settings, handler), rounds=3)
    assert calls == []
    assert [a.error for a in _attempts(engine)] == [NO_ENDPOINT] * 3
    assert _events(engine)[0].status == "failed"


def test_run_once_without_endpoint_says_how_to_send_it(engine: Engine, settings: Settings) -> None:
    _published(engine, key=BARE.key)
    _run(_worker(engine, settings, lambda _: httpx.Response(200)))
    [delivery] = deliveries.list_deliveries(engine, api_key=BARE)
    error = delivery.attempts[0].error or ""
    assert error.startswith("no webhook URL registered for this key: PUT /_sandbox/webhook, ")
    assert "POST /_sandbox/webhooks/deliveries/{id}/redeliver with this delivery's id" in error
    assert len(error) <= 500  # what an attempt row keeps (outbox.record)


def test_run_once_keeps_per_draft_order(engine: Engine, settings: Settings) -> None:
    draft_id = _published(engine)
    drafts.cancel_draft(engine, draft_id=draft_id, owner_key=KEY.key, base_url="http://s")
    statuses: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        statuses.append(json.loads(request.content)["data"]["status"])
        return httpx.Response(500 if len(statuses) == 1 else 200)

    _run(_worker(engine, settings, handler), rounds=3)
    # The cancel waits while in_progress is retried, then follows it.
    assert statuses == ["in_progress", "in_progress", "cancelled"]


def test_run_once_uses_the_endpoint_current_at_each_attempt(
    engine: Engine, settings: Settings
) -> None:
    _published(engine)
    urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return httpx.Response(500)

    worker = _worker(engine, settings, handler)
    new_url = "http://other.test/hook"

    async def go() -> None:
        await worker.run_once()
        webhooks.set_endpoint(engine, api_key=KEY, body=WebhookBody(url=new_url))
        await worker.run_once()
        await worker.aclose()

    asyncio.run(go())
    assert urls == [HOOK, new_url]


def test_claim_is_exclusive(engine: Engine) -> None:
    _published(engine)
    [head] = outbox.due_heads(engine, limit=10)
    assert outbox.claim(engine, head.seq, fixtures=FIXTURES) is not None
    assert outbox.claim(engine, head.seq, fixtures=FIXTURES) is None
    assert outbox.due_heads(engine, limit=10) == []


def test_two_workers_on_one_database_send_each_event_once(
    engine: Engine, settings: Settings
) -> None:
    for _ in range(6):
        _published(engine)
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["webhook-id"])
        return httpx.Response(200)

    first, second = (_worker(engine, settings, handler) for _ in range(2))

    async def go() -> None:
        await asyncio.gather(first.run_once(), second.run_once())

    asyncio.run(go())
    assert len(sent) == 6
    assert len(set(sent)) == 6
    assert {e.status for e in _events(engine)} == {"delivered"}


def test_run_a_hanging_receiver_does_not_hold_back_another_key(
    engine: Engine, settings: Settings
) -> None:
    for _ in range(5):
        _published(engine)  # due first: the hanging receiver's
    _published(engine, key=OTHER.key)
    slow = settings.model_copy(update={"webhook_timeout": 60.0})
    hanging: list[str] = []

    async def go() -> None:
        released, other_sent = asyncio.Event(), asyncio.Event()

        async def handler(request: httpx.Request) -> httpx.Response:
            if request.url.host == "other.test":
                other_sent.set()
            else:
                hanging.append(request.headers["webhook-id"])
                await released.wait()  # until the test ends: never within the timeout
            return httpx.Response(200)

        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        worker = DeliveryWorker(
            engine=engine, settings=slow, fixtures=FIXTURES, client=client, per_receiver=2
        )
        running = asyncio.create_task(worker.run())
        try:
            # Before, the worker waited for the whole group it took: the 60 s timeouts.
            await asyncio.wait_for(other_sent.wait(), timeout=10)
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
            await worker.aclose()

    asyncio.run(go())
    assert 1 <= len(hanging) <= 2  # the hanging receiver got its share, no more
    # Cut off by the shutdown, unrecorded, their claims given back: due at the next start.
    held = [(e.status, e.claimed_until) for e in _events(engine) if e.owner_key == KEY.key]
    assert held == [("pending", None)] * 5


def test_run_keeps_at_most_max_in_flight_attempts(engine: Engine, settings: Settings) -> None:
    for _ in range(4):
        _published(engine)
        _published(engine, key=OTHER.key)
    slow = settings.model_copy(update={"webhook_timeout": 60.0})
    started: list[str] = []

    async def go() -> None:
        released, three = asyncio.Event(), asyncio.Event()

        async def handler(request: httpx.Request) -> httpx.Response:
            started.append(request.url.host or "")
            if len(started) == 3:
                three.set()
            await released.wait()
            return httpx.Response(200)

        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        worker = DeliveryWorker(
            engine=engine,
            settings=slow,
            fixtures=FIXTURES,
            client=client,
            max_in_flight=3,
            per_receiver=2,
        )
        running = asyncio.create_task(worker.run())
        try:
            await asyncio.wait_for(three.wait(), timeout=10)
            assert await worker.fill() == 0  # nothing more starts while the three hang
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
            await worker.aclose()

    asyncio.run(go())
    assert len(started) == 3
    assert max(started.count("vendor.test"), started.count("other.test")) == 2


def test_run_stops_when_cancelled_as_it_is_woken(engine: Engine, settings: Settings) -> None:
    async def go() -> bool:
        worker = _worker(engine, settings, lambda _: httpx.Response(200))
        try:
            return await cancel_as_woken(worker)
        finally:
            await worker.aclose()

    assert asyncio.run(go())


def test_run_lets_an_attempt_in_flight_finish_at_shutdown(
    engine: Engine, settings: Settings
) -> None:
    _published(engine)

    async def go() -> None:
        in_flight, answer = asyncio.Event(), asyncio.Event()

        async def handler(_: httpx.Request) -> httpx.Response:
            in_flight.set()
            await answer.wait()
            return httpx.Response(204)

        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        worker = DeliveryWorker(engine=engine, settings=settings, fixtures=FIXTURES, client=client)
        running = asyncio.create_task(worker.run())
        await asyncio.wait_for(in_flight.wait(), timeout=10)
        deadline = asyncio.get_running_loop().time() + 10
        while not getattr(worker._wake, "_waiters", None):  # the loop idle, the attempt on
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.01)
        running.cancel()  # shutdown begins...
        answer.set()  # ...and the receiver answers just after
        await asyncio.wait({running}, timeout=10)
        await worker.aclose()

    asyncio.run(go())
    # Before, the attempt was cut off and released: sent again after the restart.
    [event] = _events(engine)
    assert (event.status, len(_attempts(engine))) == ("delivered", 1)


def test_renew_extends_only_the_claims_held(engine: Engine) -> None:
    _published(engine)
    _published(engine, key=OTHER.key)
    first, second = (
        outbox.claim(engine, head.seq, fixtures=FIXTURES)
        for head in outbox.due_heads(engine, limit=10)
    )
    assert first is not None and second is not None
    before = {e.seq: e.claimed_until for e in _events(engine)}
    outbox.renew(engine, [first.token])
    after = {e.seq: e.claimed_until for e in _events(engine)}
    renewed, was = after[first.seq], before[first.seq]
    assert renewed is not None and was is not None and renewed > was
    assert after[second.seq] == before[second.seq]


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


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "url"),
        ({"url": "ftp://x.test/h"}, "url"),
        ({"url": "/relative"}, "url"),
        ({"url": "http://x.test:99999/"}, "url"),
        ({"url": 7}, "url"),
        ({"url": "http://x.test/h", "secret": "nope"}, "secret"),
        ({"url": "http://x.test/h", "secret": "whsec_A"}, "secret"),
        ({"url": "http://x.test/h", "extra": 1}, "extra"),
        ({"url": "http:// x.test/"}, "url"),
        ({"url": "http://"}, "url"),
        ({"url": "http://[::::]/h"}, "url"),
        ({"url": "http://[fe80::1]/h"}, "url"),
        ({"url": "http://x.test/h", "rotate_secret": "yes"}, "rotate_secret"),
    ],
)
def test_webhook_body_rejects_bad_input(body: object, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        WebhookBody.model_validate(body)
    assert [e["loc"] for e in caught.value.errors()] == [(field,)]


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9000/hook", "https://x.test", "http://[::1]:8080/h?a=b#c", "http://h:65535"],
)
def test_webhook_body_accepts_urls(url: str) -> None:
    assert WebhookBody(url=url).url == url


def test_enqueue_wakes_the_worker_after_commit_only(engine: Engine) -> None:
    woken: list[str] = []
    unsubscribe = outbox.NEW_WORK.subscribe(engine, lambda: woken.append("woken"))
    draft = drafts.create_draft(engine, owner_key=KEY.key, body={})
    with pytest.raises(RuntimeError), write_session(engine) as session:
        row = session.get(Draft, draft.id)
        assert row is not None
        state_machine.transition(session, draft=row, to=DraftStatus.CANCELLED, base_url="http://s")
        assert woken == []  # not before the commit
        raise RuntimeError("rolled back")
    assert woken == []  # nor after a rollback
    drafts.cancel_draft(engine, draft_id=draft.id, owner_key=KEY.key, base_url="http://s")
    assert woken == ["woken"]
    unsubscribe()
    drafts.visit_draft(engine, draft_id=_published(engine), base_url="http://s", owner_key=KEY.key)
    assert woken == ["woken"]


# --- Secrets kept, rotated on request; DELETE back to the fixtures' (SPEC §6) ----------


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


# --- Never to a link-local address, even after resolution (SPEC §7) -------------------


@pytest.mark.parametrize(
    ("url", "host"),
    [
        # Registration refuses this one; a fixtures file checked by an older version did not.
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://2852039166:9/hook", "2852039166"),  # as the resolver reads a bare number
        ("http://169.254.43518:9/hook", "169.254.43518"),  # and a short dotted form
    ],
)
def test_worker_never_connects_to_a_link_local_address(
    engine: Engine, settings: Settings, url: str, host: str
) -> None:
    # The worker's own client (no transport injected): the check is in its transport.
    _published(engine, key=BARE.key)
    webhooks.set_endpoint(engine, api_key=BARE, body=WebhookBody.model_construct(url=url))
    _run(DeliveryWorker(engine=engine, settings=settings, fixtures=FIXTURES))
    [attempt] = _attempts(engine)
    assert attempt.status_code is None
    assert attempt.error == (
        f"refused: {host} resolves to the link-local address 169.254.169.254: not sent"
    )


def test_worker_sends_to_a_name_that_resolves_to_loopback(
    engine: Engine, settings: Settings
) -> None:
    receiver = Receiver(secret=SECRET).start()
    try:
        _published(engine, key=BARE.key)
        url = receiver.url.replace("127.0.0.1", "localhost")
        body = WebhookBody(url=url, secret=SECRET)
        webhooks.set_endpoint(engine, api_key=BARE, body=body)
        _run(DeliveryWorker(engine=engine, settings=settings, fixtures=FIXTURES))
    finally:
        receiver.stop()
    [attempt] = _attempts(engine)
    assert (attempt.status_code, attempt.error) == (204, None)
    [received] = receiver.received
    assert received.verified
