"""How long one key's notification waits while another key's receiver hangs.

Run by hand (not in CI):

    .venv/bin/python bench/slow_receiver.py [--pending 100] [--rounds 3] [--workers 1]

Starts `omnidoc-sandbox serve` on a free port with a temp data dir (SQLite, or
OMNIDOC_DATABASE_URL if set in the environment) and two receivers on 127.0.0.1: key A's
accepts connections and never answers (each attempt lasts OMNIDOC_WEBHOOK_TIMEOUT, 10 s
by default), key B's answers 204 at once. It cancels `--pending` drafts of key A (one
notification each, all pending behind A's hanging receiver), then, `--rounds` times,
cancels a draft of key B and prints how long B's notification took to reach B's
receiver, measured from before that draft is created. Target: under 1 s whatever A's
receiver does.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.server import SandboxServer

KEY_A, KEY_B = "sandbox-key-a", "sandbox-key-b"


class HangingReceiver:
    """Accepts connections, reads what comes, never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/hang"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)  # kept open, never answered


class FastReceiver:
    """Answers 204 at once; records when each webhook-id arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.changed = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                with outer.changed:
                    outer.arrived[self.headers["webhook-id"]] = time.perf_counter()
                    outer.changed.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait(self, count: int, timeout: float) -> float | None:
        """The arrival time of the `count`-th notification, or None after `timeout`."""
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.arrived) >= count, timeout):
                return None
            return max(self.arrived.values())


def _cancel_new_draft(api: httpx.Client, key: str) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    created = api.post("/api/interop/v1/drafts", json={"context": {"bench": 1}}, headers=headers)
    created.raise_for_status()
    api.post(f"/_sandbox/drafts/{created.json()['id']}/cancel", headers=headers).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=100, help="key A's pending events")
    parser.add_argument("--rounds", type=int, default=3, help="key B's notifications timed")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--give-up", type=float, default=60, help="seconds to wait for one")
    args = parser.parse_args()
    hanging, fast = HangingReceiver(), FastReceiver()
    with tempfile.TemporaryDirectory() as tmp:
        server = SandboxServer(Path(tmp) / "data")
        server.start("--workers", str(args.workers), "--log-level", "warning")
        try:
            with httpx.Client(base_url=server.base_url, timeout=30) as api:
                for key, url in ((KEY_A, hanging.url), (KEY_B, fast.url)):
                    headers = {"Authorization": f"Bearer {key}"}
                    api.put("/_sandbox/webhook", json={"url": url}, headers=headers)
                for _ in range(args.pending):
                    _cancel_new_draft(api, KEY_A)
                delays = []
                for n in range(1, args.rounds + 1):
                    sent = time.perf_counter()  # before the draft exists: an upper bound
                    _cancel_new_draft(api, KEY_B)
                    arrived = fast.wait(n, args.give_up)
                    delay = (arrived - sent) if arrived is not None else float("inf")
                    delays.append(delay)
                    print(f"round {n}: B's notification after {delay:.2f} s", flush=True)
        finally:
            server.stop()
    print(
        f"{args.pending} of A's events pending behind a hanging receiver, "
        f"{args.workers} worker(s): B's notification median {statistics.median(delays):.2f} s, "
        f"max {max(delays):.2f} s"
    )


if __name__ == "__main__":
    main()
