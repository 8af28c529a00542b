"""Create drafts against a real server from concurrent clients; print throughput and latency.

Run by hand (not in CI):

    .venv/bin/python bench/create_drafts.py [--seconds 10] [--clients 8] [--workers 1]

Starts `omnidoc-sandbox serve` on a free port with a temp data dir (SQLite, or
OMNIDOC_DATABASE_URL if set in the environment), then keeps `--clients` threads posting
the Omnidoc document's curl body (with a fixture author) for `--seconds`. Each draft is
a real committed row; only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.server import SandboxServer

BODY = {
    "author_rpps": "10002170750",
    "patient": {"first_name": "Jeanne", "last_name": "Dupuis"},
    "context": {"id": "1234"},
}


def _client_loop(base_url: str, until: float, latencies: list[float], errors: list[int]) -> None:
    headers = {"Authorization": "Bearer sandbox-key-a"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        while time.monotonic() < until:
            started = time.perf_counter()
            response = client.post("/api/interop/v1/drafts", json=BODY)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                errors.append(response.status_code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = SandboxServer(Path(tmp) / "data", env={"OMNIDOC_WEBHOOK_TIMEOUT": "1"})
        server.start("--workers", str(args.workers), "--log-level", "warning")
        try:
            latencies: list[float] = []
            errors: list[int] = []
            until = time.monotonic() + args.seconds
            threads = [
                threading.Thread(
                    target=_client_loop, args=(server.base_url, until, latencies, errors)
                )
                for _ in range(args.clients)
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
        finally:
            server.stop()
    ms = sorted(x * 1000 for x in latencies)
    print(
        f"{len(ms)} drafts in {elapsed:.1f} s with {args.clients} clients, "
        f"{args.workers} worker(s): {len(ms) / elapsed:.0f} req/s; latency p50 "
        f"{statistics.median(ms):.1f} ms, p95 {ms[int(len(ms) * 0.95)]:.1f} ms, "
        f"max {ms[-1]:.1f} ms; non-200: {len(errors)}"
    )


if __name__ == "__main__":
    main()
