"""A client that closes its connection mid-body: one short log line, journaled as 499.

A raw socket sends the headers and part of the body, then closes; the real server must
neither log a traceback nor journal a 500, whichever reader of the body met the end.
"""

from __future__ import annotations

import re
import socket
import time
from typing import Any

import httpx
import pytest

from tests.e2e.server import SandboxServer
from tests.helpers import AUTHOR, KEY_A, RECIPIENT, auth

pytestmark = pytest.mark.e2e

DRAFTS = "/api/interop/v1/drafts"
MULTIPART = "multipart/form-data; boundary=XyZ"
_TIME_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")


def _send_half(server: SandboxServer, path: str, content_type: str, part: bytes) -> None:
    """Headers announcing 10 times `part`, then `part` only, then close."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY_A}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(part) * 10}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head.encode() + part)


def _poll(what: str, get: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := get()):
        assert time.monotonic() < deadline, what
        time.sleep(0.05)
    return found


def test_client_disconnect_mid_body_is_a_499_without_traceback(sandbox: SandboxServer) -> None:
    body = {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT}
    created = httpx.post(f"{sandbox.base_url}{DRAFTS}", json=body, headers=auth())
    draft_id = created.json()["id"]
    publish = f"/_sandbox/drafts/{draft_id}/publish"
    assert httpx.post(f"{sandbox.base_url}/_sandbox/drafts/{draft_id}/visit", headers=auth())
    upload = httpx.post(f"{sandbox.base_url}{DRAFTS}", json={}, headers=auth()).json()["id"]
    part = b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nabc'
    cut_short = [
        (DRAFTS, "application/json", b'{"context": {"a": '),
        (f"{DRAFTS}/{upload}/files/", MULTIPART, part),
        (publish, "application/json", b'{"author_rpps": '),
        ("/_sandbox/inbox/gone", "application/json", b'{"a": '),
    ]
    for path, content_type, half in cut_short:
        _send_half(sandbox, path, content_type, half)

    def closed() -> list[dict[str, Any]]:
        journal = httpx.get(f"{sandbox.base_url}/_sandbox/requests", headers=auth()).json()
        items = [e for e in journal["items"] if e["status"] == 499]
        return items if len(items) == 3 else []

    entries = _poll("three 499 in the journal", closed)
    assert sorted(e["path"] for e in entries) == sorted(p for p, _, _ in cut_short[:3])
    assert {e["errors"][0]["code"] for e in entries} == {"client_closed_request"}
    _poll("the inbox's line", lambda: "POST /_sandbox/inbox/gone 499" in sandbox.log())
    log = sandbox.log()
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log
    assert " 500 " not in log and "unhandled" not in log, log
    # The time stamp goes first: its milliseconds may read 499 too.
    messages = [_TIME_STAMP.sub("", line) for line in log.splitlines()]
    assert [m for m in messages if " 499 " in m] == [m for m in messages if "499" in m]
    assert log.count(" 499 ") == len(cut_short)
    assert httpx.get(f"{sandbox.base_url}{DRAFTS}/{upload}", headers=auth()).json()["files"] == []
