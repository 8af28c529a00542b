"""Ask for report PDFs from several clients; print /healthz latency meanwhile.

Run by hand (not in CI):

    .venv/bin/python bench/report_load.py [--clients 8] [--seconds 10] [--drafts 4]

Starts `omnidoc-sandbox serve`, completes `--drafts` drafts whose texts are as long as
allowed (20,000 characters each), then `--clients` threads GET their reports in a loop
while the main thread GETs /healthz every 50 ms. Prints the report GET latencies (first
per draft, and later ones) and /healthz latency percentiles.
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

AUTH = {"Authorization": "Bearer sandbox-key-a"}
LONG_TEXT = "\n".join(f"ligne {i} du compte rendu, synthétique" for i in range(700))[:20_000]


def completed_draft(client: httpx.Client) -> str:
    created = client.post(
        "/api/interop/v1/drafts",
        json={"author_rpps": "10002170750", "recipient_rpps": "10001234565", "text": LONG_TEXT},
    )
    created.raise_for_status()
    draft_id: str = created.json()["id"]
    client.post(f"/_sandbox/drafts/{draft_id}/visit").raise_for_status()
    client.post(f"/_sandbox/drafts/{draft_id}/publish").raise_for_status()
    done = client.post(f"/_sandbox/drafts/{draft_id}/complete", json={"report_text": LONG_TEXT})
    done.raise_for_status()
    return draft_id


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"n={len(ordered)} median {statistics.median(ordered) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--drafts", type=int, default=4)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="omnidoc-reports-")) / "data"
    server = SandboxServer(data_dir).start("--log-level", "warning")
    try:
        with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=60) as client:
            drafts = [completed_draft(client) for _ in range(args.drafts)]
        first: list[float] = []
        later: list[float] = []
        seen: set[str] = set()
        lock = threading.Lock()
        stop = threading.Event()

        def ask(index: int) -> None:
            with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=60) as client:
                turn = index
                while not stop.is_set():
                    draft_id = drafts[turn % len(drafts)]
                    turn += 1
                    started = time.perf_counter()
                    client.get(f"/api/interop/v1/drafts/{draft_id}/report").raise_for_status()
                    elapsed = time.perf_counter() - started
                    with lock:
                        (later if draft_id in seen else first).append(elapsed)
                        seen.add(draft_id)

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(args.clients)]
        for thread in threads:
            thread.start()
        health: list[float] = []
        deadline = time.monotonic() + args.seconds
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                client.get("/healthz").raise_for_status()
                health.append(time.perf_counter() - started)
                time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join()
        print(f"report GET, first per draft: {percentiles(first)}")
        if later:
            print(f"report GET, later:           {percentiles(later)}")
        print(f"/healthz meanwhile:          {percentiles(health)}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
