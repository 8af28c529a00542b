"""The clock's advance end to end (SPEC §10): real server processes, a real receiver.

Scenario practitioners answer after an hour (tests/e2e/clock_fixtures.yaml), so only an
advance makes them answer within a test; the receiver fails on purpose to show retries.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import MakeServer, SandboxServer
from tests.helpers import AUTHOR, KEY_A, KEY_B, SCENARIO_PRACTITIONERS, auth
from tests.receiver import Receiver

pytestmark = pytest.mark.e2e

ANSWERS, DECLINES = SCENARIO_PRACTITIONERS
FIXTURES = {"OMNIDOC_FIXTURES": str(Path(__file__).with_name("clock_fixtures.yaml"))}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


def _api(server: SandboxServer, key: str = KEY_A) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers=auth(key), timeout=60)


def _published(api: httpx.Client, recipient: str = ANSWERS) -> dict[str, Any]:
    created = api.post(
        "/api/interop/v1/drafts", json={"author_rpps": AUTHOR, "recipient_rpps": recipient}
    )
    assert created.status_code == 200, created.text
    view: dict[str, Any] = {}
    for step in ("visit", "publish"):
        response = api.post(f"/_sandbox/drafts/{created.json()['id']}/{step}")
        assert response.status_code == 200, response.text
        view = response.json()
    assert view["status"] == "in_progress"
    return view


def _until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def _advance(api: httpx.Client, seconds: int) -> dict[str, Any]:
    response = api.post("/_sandbox/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["advanced_seconds"] == seconds
    return body


def test_advance_answers_a_practitioner_due_in_an_hour(
    make_server: MakeServer, receiver: Receiver
) -> None:
    server = make_server(FIXTURES)
    with _api(server) as api:
        hook = api.put("/_sandbox/webhook", json={"url": receiver.url})
        receiver.secret = hook.json()["secret"]
        view = _published(api)
        draft_id = view["id"]
        assert view["autopilot_due_at"] is not None

        # Not due within a minute: nothing happens, nothing is shifted.
        assert _advance(api, 60)["performed"] == []
        assert api.get(f"/api/interop/v1/drafts/{draft_id}").json()["status"] == "in_progress"

        answered = _advance(api, 3600)
        assert answered["performed"] == [
            {"kind": "autopilot", "draft_id": draft_id, "due_at": view["autopilot_due_at"]}
        ]
        # Performed before the answer: completed at once, with its report.
        pulled = api.get(f"/api/interop/v1/drafts/{draft_id}").json()
        assert pulled["status"] == "completed"
        assert pulled["autopilot_due_at"] is None
        completed_at = datetime.fromisoformat(pulled["completed_at"])
        assert completed_at < datetime.fromisoformat(view["autopilot_due_at"])  # real time
        report = api.get(f"/api/interop/v1/drafts/{draft_id}/report")
        assert report.status_code == 200 and report.content.startswith(b"%PDF")
        # Its webhook, signed, through the outbox.
        received = receiver.wait_until(
            lambda got: any(r.payload["data"]["status"] == "completed" for r in got)
        )
        done = [r for r in received if r.payload["data"]["status"] == "completed"]
        assert len(done) == 1 and done[0].verified
        assert done[0].payload["data"]["id"] == draft_id
        # Done once: a second advance finds nothing left.
        assert _advance(api, 7200)["performed"] == []


def test_advance_performs_a_failing_receivers_retries_at_once(
    make_server: MakeServer, receiver: Receiver
) -> None:
    receiver.default_status = 500
    server = make_server(FIXTURES)  # the default schedule: 5, 30, 120, 600, 3600 s
    with _api(server) as api:
        api.put("/_sandbox/webhook", json={"url": receiver.url})
        created = api.post("/api/interop/v1/drafts", json={"author_rpps": AUTHOR})
        draft_id = created.json()["id"]
        assert api.post(f"/_sandbox/drafts/{draft_id}/cancel").status_code == 200
        receiver.wait_for(1)

        def first_recorded() -> bool:
            items = api.get("/_sandbox/webhooks/deliveries").json()["items"]
            return len(items) == 1 and len(items[0]["attempts"]) == 1

        _until(first_recorded, "the first attempt recorded")
        [delivery] = api.get("/_sandbox/webhooks/deliveries").json()["items"]
        assert delivery["status"] == "pending"

        # A day of retries in one call: each retry books the next on the real clock.
        advanced = _advance(api, 86_400)
        assert [m["kind"] for m in advanced["performed"]] == ["webhook_retry"] * 5
        assert {m["draft_id"] for m in advanced["performed"]} == {draft_id}
        dues = [m["due_at"] for m in advanced["performed"]]
        assert dues == sorted(dues)
        assert dues[0] == delivery["next_attempt_at"]
        [after] = api.get("/_sandbox/webhooks/deliveries").json()["items"]
        assert after["status"] == "failed"
        assert len(after["attempts"]) == 6
        assert len(receiver.received) == 6
        # Same webhook-id on every retry: the same message, attempted again.
        assert len({r.webhook_id for r in receiver.received}) == 1


def test_advance_leaves_other_keys_alone(make_server: MakeServer) -> None:
    server = make_server(FIXTURES)
    with _api(server, KEY_A) as api_a, _api(server, KEY_B) as api_b:
        for api in (api_a, api_b):  # delivered at once: no retries to perform
            inbox = f"{server.base_url}/_sandbox/inbox/clock"
            assert api.put("/_sandbox/webhook", json={"url": inbox}).status_code == 200
        mine, theirs = _published(api_a), _published(api_b)
        assert _advance(api_b, 60)["performed"] == []
        advanced = _advance(api_a, 3600)
        assert [m["draft_id"] for m in advanced["performed"]] == [mine["id"]]
        other = api_b.get(f"/api/interop/v1/drafts/{theirs['id']}").json()
        assert other["status"] == "in_progress"
        assert other["autopilot_due_at"] == theirs["autopilot_due_at"]  # not shifted
        assert [m["draft_id"] for m in _advance(api_b, 3600)["performed"]] == [theirs["id"]]


def test_advance_with_two_workers_performs_each_move_once(make_server: MakeServer) -> None:
    server = make_server(FIXTURES, "--workers", "2")
    deadline = time.monotonic() + 30
    while server.log().count("ready: database and fixtures loaded") < 2:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)
    with _api(server) as api:  # delivered at once: no retries to perform
        api.put("/_sandbox/webhook", json={"url": f"{server.base_url}/_sandbox/inbox/clock"})
        answers = [_published(api)["id"] for _ in range(6)]
        declines = [_published(api, DECLINES)["id"] for _ in range(4)]

    def advance_once(_: int) -> list[dict[str, Any]]:
        with _api(server) as own:  # a fresh connection each: spread over both workers
            performed: list[dict[str, Any]] = _advance(own, 7200)["performed"]
            return performed

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(advance_once, range(6)))
    performed = [move["draft_id"] for result in results for move in result]
    assert {move["kind"] for result in results for move in result} == {"autopilot"}
    assert Counter(performed) == Counter(answers + declines)  # each once, none twice
    with _api(server) as api:
        for draft_id in answers:
            view = api.get(f"/api/interop/v1/drafts/{draft_id}").json()
            assert view["status"] == "completed"
        for draft_id in declines:
            assert api.get(f"/api/interop/v1/drafts/{draft_id}").json()["status"] == "cancelled"
        # One notification per move, none duplicated by the race.
        events = api.get("/_sandbox/webhooks/deliveries").json()["items"]
        moves = Counter(
            (e["payload"]["data"]["id"], e["payload"]["data"]["status"])
            for e in events
            if e["payload"]["data"]["status"] in ("completed", "cancelled")
        )
        assert set(moves.values()) == {1} and len(moves) == len(answers + declines)


def test_advance_with_two_workers_makes_each_retry_once(
    make_server: MakeServer, receiver: Receiver
) -> None:
    receiver.default_status = 500
    # The first retry a minute later: within the test, only the advances make retries.
    schedule = {"OMNIDOC_WEBHOOK_RETRY_SCHEDULE": "60,120,600,3600,7200"}
    server = make_server({**FIXTURES, **schedule}, "--workers", "2")
    deadline = time.monotonic() + 30
    while server.log().count("ready: database and fixtures loaded") < 2:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)
    with _api(server) as api:
        api.put("/_sandbox/webhook", json={"url": receiver.url})
        for _ in range(3):
            draft_id = api.post("/api/interop/v1/drafts", json={}).json()["id"]
            assert api.post(f"/_sandbox/drafts/{draft_id}/cancel").status_code == 200

        def first_attempts_recorded() -> bool:
            items = api.get("/_sandbox/webhooks/deliveries").json()["items"]
            return len(items) == 3 and all(len(i["attempts"]) == 1 for i in items)

        _until(first_attempts_recorded, "each first attempt recorded")

    def advance_once(_: int) -> list[dict[str, Any]]:
        with _api(server) as own:
            performed: list[dict[str, Any]] = _advance(own, 86_400)["performed"]
            return performed

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(advance_once, range(4)))
    retries = [move for result in results for move in result]
    assert {move["kind"] for move in retries} == {"webhook_retry"}
    assert len(retries) == 3 * 5  # five retries per notification, none twice
    assert len({(m["draft_id"], m["due_at"]) for m in retries}) == 15
    with _api(server) as api:
        items = api.get("/_sandbox/webhooks/deliveries").json()["items"]
    assert [len(item["attempts"]) for item in items] == [6, 6, 6]
    assert {item["status"] for item in items} == {"failed"}
    assert len(receiver.received) == 18
