"""Stalled bodies and piled-up connections against a real server over raw sockets."""

from __future__ import annotations

import json
import socket
import time
from contextlib import ExitStack

import httpx
import pytest

from tests.e2e.server import MakeServer, SandboxServer
from tests.helpers import KEY_A

pytestmark = pytest.mark.e2e

STALL = {"OMNIDOC_BODY_TIMEOUT": "0.5"}


def _connect(server: SandboxServer, source: str = "127.0.0.1") -> socket.socket:
    """A connection from `source`, any loopback address (each one a distinct client)."""
    return socket.create_connection(
        ("127.0.0.1", server.port), timeout=30, source_address=(source, 0)
    )


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (30 s at most)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def _problem(raw: bytes) -> tuple[str, dict[str, str], dict[str, object]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in header_lines)}
    return status_line, headers, json.loads(body)


def test_create_draft_with_a_stalled_body_gets_408_and_closed(make_server: MakeServer) -> None:
    server = make_server(STALL)
    with _connect(server) as sock:
        sock.sendall(
            b"POST /api/interop/v1/drafts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: Bearer " + KEY_A.encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        status_line, headers, problem = _problem(_read_until_closed(sock))
    assert status_line == "HTTP/1.1 408 Request Timeout"
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert problem["code"] == "body_timeout"
    assert problem["type"] == "/errors/body_timeout"
    journal = httpx.get(
        f"{server.base_url}/_sandbox/requests", headers={"Authorization": f"Bearer {KEY_A}"}
    ).json()
    assert [(item["status"], item["errors"][0]["code"]) for item in journal["items"]] == [
        (408, "body_timeout")
    ]


def test_attach_files_with_a_stalled_body_gets_408_and_keeps_nothing(
    make_server: MakeServer,
) -> None:
    server = make_server(STALL)
    auth = {"Authorization": f"Bearer {KEY_A}"}
    draft_id = httpx.post(f"{server.base_url}/api/interop/v1/drafts", json={}, headers=auth)
    draft_id.raise_for_status()
    path = f"/api/interop/v1/drafts/{draft_id.json()['id']}/files/"
    part = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n" + b"x" * 300_000
    )
    with _connect(server) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY_A}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {len(part) + 1000}\r\n\r\n".encode()
            + part
        )
        status_line, _, problem = _problem(_read_until_closed(sock))
    assert status_line == "HTTP/1.1 408 Request Timeout"
    assert problem["code"] == "body_timeout"
    view = httpx.get(
        f"{server.base_url}/api/interop/v1/drafts/{draft_id.json()['id']}", headers=auth
    )
    assert view.json()["files"] == []
    files_dir = server.data_dir / "files"
    assert [p for p in files_dir.rglob("*") if p.is_file()] == []


def test_slow_but_steady_body_is_not_cut(make_server: MakeServer) -> None:
    server = make_server(STALL)
    body = b'{"text": "' + b"x" * 40 + b'"}'
    with _connect(server) as sock:
        sock.sendall(
            b"POST /api/interop/v1/drafts HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Authorization: Bearer " + KEY_A.encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
        )
        for start in range(0, len(body), 10):  # 1.2 s in all, never 0.5 s without a byte
            sock.sendall(body[start : start + 10])
            time.sleep(0.2)
        status_line, _, created = _problem(_read_until_closed(sock))
    assert status_line == "HTTP/1.1 200 OK"
    assert set(created) == {"id", "redirect_url"}


def test_connections_beyond_the_limit_get_503(make_server: MakeServer) -> None:
    server = make_server({"OMNIDOC_MAX_CONNECTIONS": "4"})
    with ExitStack() as stack:
        # Idle connections hold their slots: one address at most 3 of the 4 (its share),
        # a second address the last one.
        for source in ("127.0.0.2", "127.0.0.2", "127.0.0.2", "127.0.0.3"):
            stack.enter_context(_connect(server, source))
        with _connect(server, "127.0.0.4") as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert _read_until_closed(sock).startswith(b"HTTP/1.1 503 ")
    deadline = time.monotonic() + 10
    while httpx.get(f"{server.base_url}/healthz").status_code != 200:  # slots given back
        assert time.monotonic() < deadline
        time.sleep(0.05)
