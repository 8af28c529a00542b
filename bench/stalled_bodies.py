"""Open many connections whose bodies stall; print the server's RSS and fds over time.

Run by hand (not in CI), Linux only (reads /proc):

    .venv/bin/python bench/stalled_bodies.py [--connections 1000] [--body-timeout 5] [--rounds 3]

Starts `omnidoc-sandbox serve` (OMNIDOC_BODY_TIMEOUT as given, OMNIDOC_MAX_CONNECTIONS
default), opens the connections, each declaring a 100-byte JSON body and sending 1 byte,
then reports what they were answered (408 after the timeout, 503 beyond the connection
limit) and the server's VmRSS and open file descriptors before, during and after each
round: memory that comes back after the first round and stays flat is not a leak.
"""

from __future__ import annotations

import argparse
import collections
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.server import SandboxServer

REQUEST = (
    b"POST /api/interop/v1/drafts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Authorization: Bearer sandbox-key-a\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100\r\n\r\n{"
)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found")


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def stall_round(port: int, pid: int, args: argparse.Namespace) -> None:
    socks = []
    for _ in range(args.connections):
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        sock.sendall(REQUEST)
        socks.append(sock)
    time.sleep(min(1.0, args.body_timeout / 2))
    print(f"during: RSS {rss_mib(pid):6.1f} MiB, {fds(pid)} fds ({len(socks)} stalled)")
    answers: collections.Counter[str] = collections.Counter()
    started = time.monotonic()
    for sock in socks:
        try:
            status = sock.recv(64).split(b"\r\n", 1)[0].decode() or "closed, no answer"
        except OSError as exc:
            status = type(exc).__name__
        answers[status] += 1
        sock.close()
    print(f"answers after {time.monotonic() - started:.1f} s: {dict(answers)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--body-timeout", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="omnidoc-stall-")) / "data"
    env = {"OMNIDOC_BODY_TIMEOUT": str(args.body_timeout)}
    server = SandboxServer(data_dir, env=env).start("--log-level", "warning")
    assert server.process is not None
    pid = server.process.pid
    try:
        time.sleep(1)
        print(f"idle:   RSS {rss_mib(pid):6.1f} MiB, {fds(pid)} fds")
        for round_number in range(1, args.rounds + 1):
            stall_round(server.port, pid, args)
            time.sleep(2)
            print(f"after round {round_number}: RSS {rss_mib(pid):6.1f} MiB, {fds(pid)} fds")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
