"""Upload a large generated file to a real server; print throughput and peak RSS growth.

Run by hand (not in CI), Linux only (reads /proc):

    .venv/bin/python bench/upload_memory.py [--mb 200] [--runs 1]

Starts `omnidoc-sandbox serve` with a temp data dir and OMNIDOC_MAX_FILE_BYTES raised,
creates a draft, streams the file from a generator (never held in client memory), and
samples the server's VmRSS while the upload runs. Target: growth under 50 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.server import SandboxServer

CHUNK = 256 * 1024
BOUNDARY = "bench-boundary"


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found")


class RssSampler(threading.Thread):
    """Polls VmRSS every few milliseconds and keeps the maximum."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = rss_kib(pid)
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(0.005):
            self.peak = max(self.peak, rss_kib(self.pid))


HEAD = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
    'filename="bench.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
).encode()
TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()


def body(size: int, digest: hashlib._Hash) -> Iterator[bytes]:
    """The multipart body, generated piece by piece: the client never holds the file."""
    yield HEAD
    block = bytes(range(256)) * (CHUNK // 256)
    sent = 0
    while sent < size:
        piece = block[: min(CHUNK, size - sent)]
        digest.update(piece)
        sent += len(piece)
        yield piece
    yield TAIL


def run_once(size: int) -> dict[str, float]:
    data_dir = Path(tempfile.mkdtemp(prefix="omnidoc-bench-"))
    server = SandboxServer(
        data_dir / "data", env={"OMNIDOC_MAX_FILE_BYTES": str(size + 1024 * 1024)}
    )
    server.start()
    try:
        assert server.process is not None
        pid = server.process.pid
        auth = {"Authorization": "Bearer sandbox-key-a"}
        with httpx.Client(base_url=server.base_url, timeout=300) as client:
            draft_id = client.post("/api/interop/v1/drafts", json={}, headers=auth).json()["id"]
            # Warm the upload path once so imports and pools count in the baseline.
            client.post(
                f"/api/interop/v1/drafts/{draft_id}/files/",
                files={"file": ("warm.bin", b"warm")},
                headers=auth,
            )
            baseline = rss_kib(pid)
            sampler = RssSampler(pid)
            sampler.start()
            digest = hashlib.sha256()
            started = time.perf_counter()
            response = client.post(
                f"/api/interop/v1/drafts/{draft_id}/files/",
                content=body(size, digest),
                headers={
                    **auth,
                    "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                    "Content-Length": str(len(HEAD) + size + len(TAIL)),
                },
            )
            elapsed = time.perf_counter() - started
            sampler.stop_event.set()
            sampler.join()
        assert response.status_code == 200, response.text
        stored = response.json()["files"][0]
        assert stored["size"] == size and stored["sha256"] == digest.hexdigest()
        return {
            "mb_per_s": size / elapsed / 1e6,
            "seconds": elapsed,
            "baseline_mb": baseline / 1024,
            "growth_mb": (sampler.peak - baseline) / 1024,
            "hwm_growth_mb": (rss_kib(pid, "VmHWM") - baseline) / 1024,
        }
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="file size in MB (10^6 bytes)")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    size = args.mb * 1_000_000
    for run in range(1, args.runs + 1):
        r = run_once(size)
        print(
            f"run {run}: {args.mb} MB in {r['seconds']:.2f}s = {r['mb_per_s']:.1f} MB/s; "
            f"server RSS baseline {r['baseline_mb']:.1f} MB, peak growth {r['growth_mb']:.1f} MB "
            f"(VmHWM growth {r['hwm_growth_mb']:.1f} MB); target < 50 MB: "
            f"{'OK' if r['growth_mb'] < 50 else 'OVER'}",
            flush=True,
        )


if __name__ == "__main__":
    main()
