"""The delivery worker: signed attempts on the retry schedule, per-draft order, several
workers on one database, limits in flight, shutdown, never a link-local address."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx
import pytest
from sqlalchemy import Engine
from standardwebhooks import Webhook

from app.config import Settings
from app.drafts import service as drafts
from app.notifications import deliveries, webhooks
from app.notifications.schemas import WebhookBody
from app.notifications.worker import NO_ENDPOINT, DeliveryWorker
from tests.helpers import cancel_as_woken
from tests.notifications.notification_helpers import (
    BARE,
    FIXTURES,
    HOOK,
    KEY,
    OTHER,
    SECRET,
    _attempts,
    _events,
    _published,
    _run,
    _worker,
)
from tests.receiver import Receiver


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
