"""Idle and slow sockets cannot starve `serve` (SPEC §7): a connection with no complete
request head within the head timeout is closed, an idle kept-alive one too, and one client
address cannot hold every connection slot. A real server, real sockets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.server import MakeServer, SandboxServer

pytestmark = pytest.mark.e2e

MAX_CONNECTIONS = 20
HEAD_TIMEOUT = 1.5  # SPEC's 10 s, shortened for the test (OMNIDOC_HEAD_TIMEOUT)
# Another loopback address for the hostile client, so that the fresh request's own
# address (127.0.0.1) is a different client, as on a network.
HOSTILE = "127.0.0.2"


def _connect(server: SandboxServer, source: str = HOSTILE) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), source_address=(source, 0))
    sock.settimeout(0.2)
    return sock


def _closed_by_server(sock: socket.socket, deadline: float) -> bool:
    """Whether the server closed `sock` before `deadline` (EOF or reset on read)."""
    while time.monotonic() < deadline:
        try:
            if sock.recv(4096) == b"":
                return True
        except TimeoutError:
            continue
        except ConnectionError:
            return True
    return False


@pytest.fixture
def server(make_server: MakeServer) -> SandboxServer:
    return make_server(
        {"OMNIDOC_MAX_CONNECTIONS": str(MAX_CONNECTIONS), "OMNIDOC_HEAD_TIMEOUT": str(HEAD_TIMEOUT)}
    )


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    yield opened
    for sock in opened:
        sock.close()


def _trickle(sock: socket.socket, stop: threading.Event) -> None:
    """A request head sent one byte at a time, never finished."""
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000
    for byte in head:
        if stop.wait(0.1):
            return
        try:
            sock.send(bytes([byte]))
        except OSError:
            return


def test_idle_and_trickling_sockets_leave_room_and_are_closed(
    server: SandboxServer, sockets: list[socket.socket]
) -> None:
    stop = threading.Event()
    idle = [_connect(server) for _ in range(MAX_CONNECTIONS)]
    trickling = [_connect(server) for _ in range(5)]
    sockets += idle + trickling
    threads = [threading.Thread(target=_trickle, args=(s, stop), daemon=True) for s in trickling]
    for thread in threads:
        thread.start()
    try:
        # More sockets than slots from one address, yet a fresh request from another
        # address is answered at once: that address holds at most its share.
        with httpx.Client(base_url=server.base_url, timeout=5) as client:
            assert client.get("/healthz").status_code == 200
        # The sockets beyond the address's share were closed as they opened; the others
        # once the head timeout passed, trickling ones included.
        deadline = time.monotonic() + HEAD_TIMEOUT + 15
        still_open = [s for s in idle + trickling if not _closed_by_server(s, deadline)]
        assert still_open == []
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    # The address has its slots back.
    with _connect(server) as sock:
        sock.settimeout(5)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")


def test_a_slow_head_is_closed_and_an_idle_kept_alive_connection_too(
    server: SandboxServer, sockets: list[socket.socket]
) -> None:
    slow, kept = _connect(server, "127.0.0.1"), _connect(server, "127.0.0.1")
    sockets += [slow, kept]
    slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line: unfinished
    kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    kept.settimeout(5)
    assert kept.recv(4096).startswith(b"HTTP/1.1 200 ")
    kept.settimeout(0.2)
    deadline = time.monotonic() + 20  # uvicorn's keep-alive timeout is 5 s
    assert _closed_by_server(slow, deadline)
    assert _closed_by_server(kept, deadline)
