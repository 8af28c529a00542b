"""Downstream end to end: real server processes, a real signed-webhook receiver on 127.0.0.1."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pypdf
import pytest
from standardwebhooks import Webhook

from tests.e2e.server import SandboxServer
from tests.helpers import AUTHOR, RECIPIENT
from tests.receiver import Receiver

pytestmark = pytest.mark.e2e

READY = {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT}
FAST = {"OMNIDOC_WEBHOOK_RETRY_SCHEDULE": "0.2,0.2,0.2", "OMNIDOC_WEBHOOK_TIMEOUT": "3"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


_CLIENTS: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _CLIENTS:
        _CLIENTS.pop().close()


def _api(server: SandboxServer, key: str = "sandbox-key-a") -> httpx.Client:
    client = httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=40
    )
    _CLIENTS.append(client)
    return client


def _register(api: httpx.Client, receiver: Receiver) -> str:
    response = api.put("/_sandbox/webhook", json={"url": receiver.url})
    assert response.status_code == 200, response.text
    secret: str = response.json()["secret"]
    receiver.secret = secret
    return secret


def _create(api: httpx.Client, body: dict[str, Any]) -> str:
    response = api.post("/api/interop/v1/drafts", json=body)
    assert response.status_code == 200, response.text
    draft_id: str = response.json()["id"]
    return draft_id


def _drive(api: httpx.Client, draft_id: str, *steps: str) -> dict[str, Any]:
    view: dict[str, Any] = {}
    for step in steps:
        response = api.post(f"/_sandbox/drafts/{draft_id}/{step}")
        assert response.status_code == 200, response.text
        view = response.json()
    return view


def _deliveries_when(
    api: httpx.Client, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 15
) -> list[dict[str, Any]]:
    """Poll the deliveries with a deadline until `done` holds."""
    deadline = time.monotonic() + timeout
    while True:
        items: list[dict[str, Any]] = api.get("/_sandbox/webhooks/deliveries").json()["items"]
        if done(items):
            return items
        if time.monotonic() > deadline:
            raise AssertionError(f"deliveries never reached the expected state: {items}")
        time.sleep(0.05)


def _all(status: str, count: int = 1) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda items: len(items) == count and all(i["status"] == status for i in items)


def test_vendor_ci_flow(sandbox: SandboxServer, receiver: Receiver) -> None:
    """The issue's "done when": register, create, drive to completed, get both, get the PDF."""
    api = _api(sandbox)
    _register(api, receiver)
    context = {"dossier": {"id": "DOS-42", "étapes": ["créé", "suivi"]}, "n": 1.5, "vide": None}
    draft_id = _create(api, {**READY, "context": context, "patient": {"last_name": "Test"}})
    _drive(api, draft_id, "visit", "publish")
    _drive(api, draft_id, "complete")  # no report_text: the default one
    first, second = receiver.wait_for(2)
    assert first.verified and second.verified
    assert [r.payload["data"]["status"] for r in (first, second)] == ["in_progress", "completed"]
    assert [r.payload["data"]["previous_status"] for r in (first, second)] == [
        "draft",
        "in_progress",
    ]
    assert first.payload["data"]["context"] == second.payload["data"]["context"] == context
    assert first.payload["type"] == "telexpertise.status_changed"
    report_url = second.payload["data"]["report_url"]
    assert report_url == f"{sandbox.base_url}/api/interop/v1/drafts/{draft_id}/report"
    assert second.payload["data"]["billing"]["acts"][0]["rpps"] == RECIPIENT
    pdf = api.get(report_url)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "SANDBOX" in text
    assert "Compte rendu de téléexpertise (texte par défaut du sandbox)." in text
    items = _deliveries_when(api, _all("delivered", 2))
    assert {i["webhook_id"] for i in items} == {first.webhook_id, second.webhook_id}


def test_delivery_retries_until_the_receiver_recovers(
    make_server: Callable[..., SandboxServer], receiver: Receiver
) -> None:
    api = _api(make_server(FAST))
    _register(api, receiver)
    receiver.statuses = [500, 503]
    draft_id = _create(api, READY)
    _drive(api, draft_id, "visit", "cancel")
    received = receiver.wait_for(3)
    assert len({r.webhook_id for r in received}) == 1
    assert [r.answered for r in received] == [500, 503, 204]
    [item] = _deliveries_when(api, _all("delivered"))
    assert [a["status_code"] for a in item["attempts"]] == [500, 503, 204]
    assert item["attempts"][0]["error"] == "non-2xx response (500)"
    assert item["attempts"][2]["error"] is None
    assert item["url"] == receiver.url


def test_delivery_fails_after_every_retry_then_redeliver(
    make_server: Callable[..., SandboxServer], receiver: Receiver
) -> None:
    api = _api(make_server(FAST))
    _register(api, receiver)
    receiver.default_status = 500
    draft_id = _create(api, READY)
    _drive(api, draft_id, "cancel")
    [item] = _deliveries_when(api, _all("failed"))
    assert [a["status_code"] for a in item["attempts"]] == [500] * 4  # "0.2,0.2,0.2"
    receiver.default_status = 200
    response = api.post(f"/_sandbox/webhooks/deliveries/{item['id']}/redeliver")
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    received = receiver.wait_for(5)
    assert received[-1].answered == 200
    assert {r.webhook_id for r in received} == {item["webhook_id"]}
    [again] = _deliveries_when(api, _all("delivered"))
    assert len(again["attempts"]) == 5


def test_pending_delivery_resumes_after_a_restart(
    make_server: Callable[..., SandboxServer], receiver: Receiver
) -> None:
    server = make_server({"OMNIDOC_WEBHOOK_RETRY_SCHEDULE": "1.5,1.5,1.5"})
    api = _api(server)
    _register(api, receiver)
    receiver.default_status = 503
    draft_id = _create(api, READY)
    _drive(api, draft_id, "visit", "publish")
    receiver.wait_for(1)
    server.stop()  # the retry falls due while the server is down
    receiver.default_status = 204
    server.start()
    _deliveries_when(api, _all("delivered"))
    assert receiver.received[-1].answered == 204
    assert len({r.webhook_id for r in receiver.received}) == 1


def test_two_servers_on_one_database_deliver_each_event_once(
    make_server: Callable[..., SandboxServer], receiver: Receiver
) -> None:
    apis = [_api(make_server(FAST)), _api(make_server(FAST))]
    _register(apis[0], receiver)
    draft_ids = [_create(apis[n % 2], READY) for n in range(8)]
    for n, draft_id in enumerate(draft_ids):
        _drive(apis[n % 2], draft_id, "visit", "publish")
        _drive(apis[(n + 1) % 2], draft_id, "complete")
    _deliveries_when(apis[1], _all("delivered", 16))
    received = receiver.delivered()
    assert len(received) == len(receiver.received) == 16
    assert len({r.webhook_id for r in received}) == 16
    for draft_id in draft_ids:
        statuses = [
            r.payload["data"]["status"] for r in received if r.payload["data"]["id"] == draft_id
        ]
        assert statuses == ["in_progress", "completed"]


def test_inbox_receives_signed_notifications(sandbox: SandboxServer) -> None:
    api = _api(sandbox)
    inbox = f"{sandbox.base_url}/_sandbox/inbox/ci-demo"
    secret = api.put("/_sandbox/webhook", json={"url": inbox}).json()["secret"]
    draft_id = _create(api, {"context": {"k": "v"}})
    _drive(api, draft_id, "cancel")
    items = httpx.get(f"{inbox}?wait=10", timeout=20).json()["items"]
    [item] = items
    payload = Webhook(secret).verify(item["body"], item["headers"])
    assert payload["data"]["status"] == "cancelled"
    assert payload["data"]["context"] == {"k": "v"}
