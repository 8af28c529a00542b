"""The delivery worker against real server processes and real receivers: one key's hanging
receiver does not hold back another key's notifications; an attempt cut off by a crash
is made again soon after the restart; with two workers, each attempt is made once."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from app.notifications.worker import PER_RECEIVER
from tests.e2e.server import MakeServer, SandboxServer
from tests.helpers import KEY_A, KEY_B, auth

pytestmark = pytest.mark.e2e

DRAFTS = "/api/interop/v1/drafts"
# Long enough that, before the fix, what these tests wait for came only after it.
SLOW_TIMEOUT = "60"


class Receiver:
    """Records each webhook (path, webhook-id) as it arrives; `/hang` never answers (until
    the test ends), `/slow` answers after `slow_seconds`, anything else answers at once."""

    def __init__(self, slow_seconds: float = 0.0, hang_first_only: bool = False) -> None:
        self.arrived: list[tuple[str, str]] = []
        self.changed = threading.Condition()
        self.released = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                with outer.changed:
                    outer.arrived.append((self.path, self.headers["webhook-id"]))
                    first = len(outer.arrived) == 1
                    outer.changed.notify_all()
                if self.path == "/hang" and (first or not hang_first_only):
                    outer.released.wait()
                    return
                if self.path == "/slow":
                    outer.released.wait(slow_seconds)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait_for(self, condition: Any, timeout: float, what: str) -> list[tuple[str, str]]:
        """Block until `condition(arrived)` holds (a condition, not a sleep), or fail."""
        with self.changed:
            if not self.changed.wait_for(lambda: condition(self.arrived), timeout):
                raise AssertionError(f"{what} not within {timeout} s; got {self.arrived}")
            return list(self.arrived)

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver(slow_seconds=6.5, hang_first_only=True)
    yield found
    found.close()


def _register(server: SandboxServer, key: str, url: str) -> None:
    put = httpx.put(f"{server.base_url}/_sandbox/webhook", json={"url": url}, headers=auth(key))
    assert put.status_code == 200, put.text


def _notify(server: SandboxServer, key: str) -> str:
    """Create a draft and cancel it: one notification; its draft id."""
    created = httpx.post(f"{server.base_url}{DRAFTS}", json={}, headers=auth(key))
    draft_id: str = created.json()["id"]
    cancel = f"{server.base_url}/_sandbox/drafts/{draft_id}/cancel"
    assert httpx.post(cancel, headers=auth(key)).status_code == 200
    return draft_id


def _deliveries(server: SandboxServer) -> list[dict[str, Any]]:
    answer = httpx.get(f"{server.base_url}/_sandbox/webhooks/deliveries", headers=auth(KEY_A))
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def _all_delivered(server: SandboxServer, count: int, timeout: float) -> list[dict[str, Any]]:
    """Poll the key's deliveries until `count` are delivered (a deadline, not a sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        items = _deliveries(server)
        if len(items) == count and all(d["status"] == "delivered" for d in items):
            return items
        assert time.monotonic() < deadline, items
        time.sleep(0.1)


def test_hanging_receiver_does_not_delay_other_keys(make_server: MakeServer) -> None:
    hanging = Receiver()
    try:
        server = make_server({"OMNIDOC_WEBHOOK_TIMEOUT": SLOW_TIMEOUT})
        _register(server, KEY_A, hanging.url("/hang"))
        _register(server, KEY_B, hanging.url("/fast"))
        for _ in range(10):  # more than one receiver's share of the worker's slots
            _notify(server, KEY_A)
        hanging.wait_for(lambda got: len(got) >= 1, 10, "A's first attempt")
        _notify(server, KEY_B)
        # Before the fix, B's notification waited for A's attempts to time out (60 s).
        arrived = hanging.wait_for(
            lambda got: any(path == "/fast" for path, _ in got), 10, "B's webhook"
        )
        assert sum(path == "/hang" for path, _ in arrived) <= PER_RECEIVER
    finally:
        hanging.close()


def test_attempt_cut_off_by_a_crash_is_made_again_soon(
    make_server: MakeServer, receiver: Receiver
) -> None:
    server = make_server({"OMNIDOC_WEBHOOK_TIMEOUT": SLOW_TIMEOUT})
    _register(server, KEY_A, receiver.url("/hang"))  # the first attempt hangs
    _notify(server, KEY_A)
    [(_, webhook_id)] = receiver.wait_for(lambda got: len(got) == 1, 10, "the first attempt")
    server.stop(signal.SIGKILL)  # mid-attempt: its claim stays in the database
    server.start()
    # Before the fix, the claim held for the webhook timeout + 30 s (90 s) after the crash.
    arrived = receiver.wait_for(lambda got: len(got) == 2, 20, "the attempt after restart")
    assert arrived[1][1] == webhook_id
    [delivery] = _all_delivered(server, 1, 10)
    assert len(delivery["attempts"]) == 1  # the one cut off was never recorded


def test_attempt_of_a_killed_server_is_made_by_the_other_soon(
    make_server: MakeServer, receiver: Receiver
) -> None:
    first = make_server({"OMNIDOC_WEBHOOK_TIMEOUT": SLOW_TIMEOUT})
    _register(first, KEY_A, receiver.url("/hang"))  # the first attempt hangs
    _notify(first, KEY_A)
    [(_, webhook_id)] = receiver.wait_for(lambda got: len(got) == 1, 10, "the first attempt")
    # A second server on the same data and database; the first still renews its claim.
    second = make_server({"OMNIDOC_WEBHOOK_TIMEOUT": SLOW_TIMEOUT})
    first.stop(signal.SIGKILL)
    arrived = receiver.wait_for(lambda got: len(got) == 2, 20, "the other server's attempt")
    assert arrived[1][1] == webhook_id
    [delivery] = _all_delivered(second, 1, 10)
    assert len(delivery["attempts"]) == 1


def test_two_workers_make_each_slow_attempt_once(
    make_server: MakeServer, receiver: Receiver
) -> None:
    """Attempts that outlast a claim's lease (5 s) are renewed, never taken over."""
    server = make_server({"OMNIDOC_WEBHOOK_TIMEOUT": "30"}, "--workers", "2")
    _register(server, KEY_A, receiver.url("/slow"))  # answers after 6.5 s
    drafts = {_notify(server, KEY_A) for _ in range(3)}
    items = _all_delivered(server, 3, 30)
    assert {d["draft_id"] for d in items} == drafts
    assert [len(d["attempts"]) for d in items] == [1, 1, 1]
    ids = [webhook_id for _, webhook_id in receiver.arrived]
    assert sorted(ids) == sorted(d["webhook_id"] for d in items)
