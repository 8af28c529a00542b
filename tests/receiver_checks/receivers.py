"""Real webhook receivers on 127.0.0.1, each with one way of getting Standard Webhooks right
or wrong, for the receiver check to grade (issue 22's five, and a few broken ones)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SLOW_SECONDS = 2.3

# (headers, raw body) -> (status, extra response headers)
Behaviour = Callable[[dict[str, str], bytes], tuple[int, dict[str, str]]]


def _verified(headers: dict[str, str], body: bytes | str) -> Any | None:
    try:
        return Webhook(SECRET).verify(body, headers)
    except (WebhookVerificationError, ValueError):
        return None


def correct(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
    """Verifies the raw body with the library, answers 204 or 401."""
    return (204 if _verified(headers, body) is not None else 401), {}


def accepts_everything(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
    """Never verifies anything."""
    return 200, {}


def reserialises(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
    """Parses first, then verifies its own compact re-serialisation (non-ASCII escaped)."""
    try:
        again = json.dumps(json.loads(body), separators=(",", ":"))
    except ValueError:
        return 400, {}
    return (204 if _verified(headers, again) is not None else 401), {}


def fails_unknown_types(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
    """Verifies correctly, then answers 500 to a type it does not handle."""
    event = _verified(headers, body)
    if event is None:
        return 401, {}
    return (204 if event.get("type") == "telexpertise.status_changed" else 500), {}


def slow_on_unknown_types(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
    """Verifies correctly; takes more than 2 s over a type it does not know."""
    event = _verified(headers, body)
    if event is None:
        return 401, {}
    if event.get("type") != "telexpertise.status_changed":
        time.sleep(SLOW_SECONDS)
    return 204, {}


def redirects(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
    return 307, {"location": "/elsewhere"}


def server_error(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
    return 503, {}


@contextmanager
def serving(behaviour: Behaviour) -> Iterator[str]:
    """Run a receiver with this behaviour; its URL while the block runs."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra = behaviour(headers, body)
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


ACCEPT_CASES = (
    "valid",
    "duplicate",
    "multiple_signatures",
    "unknown_type",
    "extra_fields",
    "non_ascii",
    "out_of_order",
)
REJECT_CASES = (
    "bad_signature",
    "missing_signature",
    "tampered_body",
    "stale_timestamp",
    "future_timestamp",
)
# What each receiver of the issue gets: the cases it fails, and those it is warned about.
EXPECTED_FAILURES: dict[str, tuple[set[str], set[str]]] = {
    "correct": (set(), set()),
    "accepts_everything": (set(REJECT_CASES), set()),
    "reserialises": ({"non_ascii"}, set()),
    "fails_unknown_types": ({"unknown_type"}, set()),
    "slow_on_unknown_types": (set(), {"unknown_type"}),
}
BEHAVIOURS: dict[str, Behaviour] = {
    "correct": correct,
    "accepts_everything": accepts_everything,
    "reserialises": reserialises,
    "fails_unknown_types": fails_unknown_types,
    "slow_on_unknown_types": slow_on_unknown_types,
}
