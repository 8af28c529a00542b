"""`serve --workers 2` behaves like one worker: all shared state lives in the database.

Each test runs the real server with two worker processes, on SQLite and (when
OMNIDOC_TEST_DATABASE_URL is set) on PostgreSQL, and expects exactly what one
worker answers. Every call opens a fresh connection, so the kernel spreads them
over both workers; the server log, which names the worker's pid when there are
several, shows that both served.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.e2e.server import MakeServer, SandboxServer
from tests.helpers import AUTHOR, KEY_A, KEY_B, RECIPIENT, auth

pytestmark = pytest.mark.e2e

DRAFTS = "/api/interop/v1/drafts"
WORKERS = 2
_SERVED_BY = re.compile(r"\[(\d+)\] (?:GET|POST|PUT) \S+ \d{3} ")


@pytest.fixture
def server(make_server: MakeServer) -> SandboxServer:
    """`omnidoc-sandbox serve --workers 2` on its own data dir (and database)."""
    sandbox = make_server(None, "--workers", str(WORKERS))
    # start() saw one worker answer /readyz; the tests below want both serving, so wait
    # for the other's own readiness line too.
    deadline = time.monotonic() + 30
    while sandbox.log().count("ready: database and fixtures loaded") < WORKERS:
        assert time.monotonic() < deadline, sandbox.log()
        time.sleep(0.05)
    return sandbox


def _workers_seen(server: SandboxServer) -> set[str]:
    return set(_SERVED_BY.findall(server.log()))


def _create(server: SandboxServer, body: dict[str, object], key: str = KEY_A) -> str:
    response = httpx.post(f"{server.base_url}{DRAFTS}", json=body, headers=auth(key))
    assert response.status_code == 200, response.text
    draft_id: str = response.json()["id"]
    return draft_id


def test_serve_workers_share_drafts(server: SandboxServer) -> None:
    created: dict[str, int] = {}
    deadline = time.monotonic() + 60
    # At least 30 drafts, and more until every worker has answered (a few in practice).
    while len(created) < 30 or len(_workers_seen(server)) < WORKERS:
        assert time.monotonic() < deadline and len(created) < 400, _workers_seen(server)
        n = len(created)
        created[_create(server, {"author_rpps": AUTHOR, "context": {"n": n}})] = n
    for draft_id, n in created.items():
        view = httpx.get(f"{server.base_url}{DRAFTS}/{draft_id}", headers=auth(KEY_A))
        assert view.status_code == 200, view.text
        assert view.json()["context"] == {"n": n}
        assert view.json()["status"] == "temporary"
    assert len(_workers_seen(server)) == WORKERS


def test_serve_workers_keep_keys_apart(server: SandboxServer) -> None:
    draft_id = _create(server, {"context": {"owner": "a"}})
    url = f"{server.base_url}{DRAFTS}/{draft_id}"
    for _ in range(10):
        assert httpx.get(url, headers=auth(KEY_A)).status_code == 200
        other = httpx.get(url, headers=auth(KEY_B))
        assert other.status_code == 404
        assert other.json()["code"] == "draft_not_found"
        unknown = httpx.get(url, headers=auth("not-a-key"))
        assert unknown.status_code == 401
        assert unknown.headers["www-authenticate"].startswith("Bearer")
        assert httpx.get(url).status_code == 401


def test_serve_workers_share_the_webhook_registration(server: SandboxServer) -> None:
    put = httpx.put(
        f"{server.base_url}/_sandbox/webhook",
        json={"url": "http://127.0.0.1:9/hook"},
        headers=auth(KEY_A),
    )
    assert put.status_code == 200, put.text
    registered = put.json()
    assert registered["secret"].startswith("whsec_")
    for _ in range(10):
        seen = httpx.get(f"{server.base_url}/_sandbox/webhook", headers=auth(KEY_A))
        assert seen.status_code == 200
        assert seen.json() == registered
        other = httpx.get(f"{server.base_url}/_sandbox/webhook", headers=auth(KEY_B))
        assert other.json()["url"] != registered["url"]


def test_serve_workers_deliver_each_notification_once(server: SandboxServer) -> None:
    inbox = f"{server.base_url}/_sandbox/inbox/workers"
    put = httpx.put(f"{server.base_url}/_sandbox/webhook", json={"url": inbox}, headers=auth(KEY_A))
    assert put.status_code == 200, put.text
    drafts = [
        _create(server, {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT}) for _ in range(6)
    ]
    for draft_id in drafts:
        for move in ("visit", "publish"):
            moved = httpx.post(
                f"{server.base_url}/_sandbox/drafts/{draft_id}/{move}", headers=auth(KEY_A)
            )
            assert moved.status_code == 200, moved.text
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while len(received) < len(drafts):
        assert time.monotonic() < deadline, received
        after = {"after": received[0]["id"]} if received else {}
        page = httpx.get(inbox, params={"wait": 5, **after}, timeout=15).json()["items"]
        received = page + received  # newest first
    deliveries = httpx.get(
        f"{server.base_url}/_sandbox/webhooks/deliveries", headers=auth(KEY_A)
    ).json()["items"]
    assert sorted(d["draft_id"] for d in deliveries) == sorted(drafts)
    assert all(d["status"] == "delivered" for d in deliveries), deliveries
    assert all(len(d["attempts"]) == 1 for d in deliveries), deliveries
    assert sorted(i["headers"]["webhook-id"] for i in received) == sorted(
        d["webhook_id"] for d in deliveries
    )
    # Nothing more arrives: no event was sent twice.
    assert httpx.get(inbox, params={"wait": 0.5, "after": received[0]["id"]}).json() == {
        "items": []
    }


def test_serve_workers_share_faults_and_journal(server: SandboxServer) -> None:
    rule = httpx.post(
        f"{server.base_url}/_sandbox/faults",
        json={"path": DRAFTS, "status": 503, "times": 3},
        headers=auth(KEY_A),
    )
    assert rule.status_code == 201, rule.text
    url = f"{server.base_url}{DRAFTS}"
    with ThreadPoolExecutor(max_workers=6) as pool:  # fresh connections, racing uses
        statuses = list(
            pool.map(lambda _: httpx.post(url, json={}, headers=auth(KEY_A)).status_code, range(12))
        )
    assert sorted(statuses) == [200] * 9 + [503] * 3
    journal = httpx.get(f"{server.base_url}/_sandbox/requests", headers=auth(KEY_A)).json()
    assert sorted(e["status"] for e in journal["items"]) == sorted(statuses)
    # Each answer is journaled before the client gets it, whichever worker served it.
    for _ in range(5):
        draft_id = _create(server, {})
        newest = httpx.get(f"{server.base_url}/_sandbox/requests", headers=auth(KEY_A))
        assert newest.json()["items"][0]["draft_id"] == draft_id
