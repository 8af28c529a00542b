"""Attachments against a real server: the document's curl lines, the lock, races, restarts."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import MakeServer, SandboxServer
from tests.helpers import KEY_A, KEY_B

pytestmark = pytest.mark.e2e

# The document's "Exemple de requête API" lines, verbatim but for the line breaks.
DOC_SINGLE = "curl -H \"Authorization: Bearer $API_KEY\" -F 'file=@a.png' $API_URL/$draft_id/files/"
DOC_MULTIPLE = (
    "curl -H \"Authorization: Bearer $API_KEY\" -F 'file=@b.png' -F "
    "'file=@c.png' $API_URL/$draft_id/files/"
)
BOUNDARY = "e2e-boundary"


def synthetic_png(size: int, seed: int = 0) -> bytes:
    """PNG magic then deterministic filler: synthetic, never a real image."""
    filler = hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1)
    return (b"\x89PNG\r\n\x1a\n" + filler)[:size]


def headers(key: str = KEY_A) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def new_draft(sandbox: SandboxServer, key: str = KEY_A) -> str:
    response = httpx.post(
        f"{sandbox.base_url}/api/interop/v1/drafts", json={}, headers=headers(key)
    )
    assert response.status_code == 200, response.text
    draft_id: str = response.json()["id"]
    return draft_id


def view(sandbox: SandboxServer, draft_id: str, key: str = KEY_A) -> httpx.Response:
    return httpx.get(f"{sandbox.base_url}/api/interop/v1/drafts/{draft_id}", headers=headers(key))


def on_disk(sandbox: SandboxServer) -> list[Path]:
    root = sandbox.data_dir / "files"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def run_doc_curl(
    command: str, sandbox: SandboxServer, draft_id: str, files: dict[str, bytes], workdir: Path
) -> tuple[int, dict[str, object]]:
    """The document's line with real curl when installed, else the same multipart via httpx."""
    for name, data in files.items():
        (workdir / name).write_bytes(data)
    api_url = f"{sandbox.base_url}/api/interop/v1/drafts"
    if shutil.which("curl"):
        result = subprocess.run(
            ["bash", "-c", command],
            env={"API_KEY": KEY_A, "API_URL": api_url, "draft_id": draft_id, "PATH": os.defpath},
            cwd=workdir,
            capture_output=True,
            text=True,
            check=True,
        )
        # The line as printed has no -w: a problem body carries its status, a success has none.
        body: dict[str, object] = json.loads(result.stdout)
        return int(str(body.get("status", 200))), body
    parts = [("file", (name, data, "image/png")) for name, data in files.items()]
    response = httpx.post(f"{api_url}/{draft_id}/files/", files=parts, headers=headers())
    return response.status_code, response.json()


def send_headers_only(sandbox: SandboxServer, path: str, key: str, length: int) -> int:
    """Send a request's headers and no body byte; the status proves the body was not awaited."""
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=10) as sock:
        sock.sendall(request.encode())
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
    return int(received.split(b" ", 2)[1])


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.01)


class SlowUpload:
    """A chunked upload in a thread that pauses mid-file until `release()`."""

    def __init__(self, sandbox: SandboxServer, draft_id: str, first: bytes, rest: bytes) -> None:
        self.gate = threading.Event()
        self.result: httpx.Response | BaseException | None = None
        self.data = first + rest
        url = f"{sandbox.base_url}/api/interop/v1/drafts/{draft_id}/files/"

        def body() -> Iterator[bytes]:
            yield (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="slow.png"\r\nContent-Type: image/png\r\n\r\n'
            ).encode()
            yield first
            self.gate.wait(timeout=30)
            yield rest
            yield f"\r\n--{BOUNDARY}--\r\n".encode()

        def run() -> None:
            try:
                self.result = httpx.post(
                    url,
                    content=body(),
                    headers={
                        **headers(),
                        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                    },
                    timeout=30,
                )
            except BaseException as exc:
                self.result = exc

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def release(self) -> httpx.Response | BaseException | None:
        self.gate.set()
        self.thread.join(timeout=30)
        return self.result


@pytest.fixture
def small_sandbox(make_server: MakeServer) -> SandboxServer:
    """A server whose file limit is 64 KiB, to exercise 413 with real curl."""
    return make_server({"OMNIDOC_MAX_FILE_BYTES": "65536"})


def test_document_single_upload_line(sandbox: SandboxServer, tmp_path: Path) -> None:
    draft_id = new_draft(sandbox)
    png = synthetic_png(300_000)
    status, body = run_doc_curl(DOC_SINGLE, sandbox, draft_id, {"a.png": png}, tmp_path)
    assert status == 200
    files: list[dict[str, Any]] = body["files"]  # type: ignore[assignment]
    (item,) = files
    assert item["filename"] == "a.png"
    assert item["content_type"] == "image/png"
    assert item["size"] == len(png)
    assert item["sha256"] == hashlib.sha256(png).hexdigest()
    download = httpx.get(
        f"{sandbox.base_url}/api/interop/v1/drafts/{draft_id}/files/{item['id']}",
        headers=headers(),
    )
    assert download.status_code == 200
    assert download.content == png
    assert download.headers["content-disposition"].startswith("attachment;")


def test_document_multiple_upload_line(sandbox: SandboxServer, tmp_path: Path) -> None:
    draft_id = new_draft(sandbox)
    files = {"b.png": synthetic_png(5_000, 1), "c.png": synthetic_png(70_000, 2)}
    status, body = run_doc_curl(DOC_MULTIPLE, sandbox, draft_id, files, tmp_path)
    assert status == 200
    got = [(f["filename"], f["size"], f["sha256"]) for f in body["files"]]  # type: ignore[attr-defined]
    assert got == [(n, len(d), hashlib.sha256(d).hexdigest()) for n, d in files.items()]
    listed = view(sandbox, draft_id).json()["files"]
    assert [f["filename"] for f in listed] == ["b.png", "c.png"]


def test_attach_files_after_a_visit_of_redirect_url(sandbox: SandboxServer, tmp_path: Path) -> None:
    draft_id = new_draft(sandbox)
    assert httpx.head(f"{sandbox.base_url}/interop/drafts/{draft_id}").status_code == 200
    assert view(sandbox, draft_id).json()["status"] == "temporary"
    assert httpx.get(f"{sandbox.base_url}/interop/drafts/{draft_id}").status_code == 200
    status, body = run_doc_curl(DOC_SINGLE, sandbox, draft_id, {"a.png": b"\x89PNG"}, tmp_path)
    assert status == 409
    assert body["code"] == "draft_locked"
    assert on_disk(sandbox) == []


def test_attach_files_too_large_stores_nothing(
    small_sandbox: SandboxServer, tmp_path: Path
) -> None:
    draft_id = new_draft(small_sandbox)
    files = {"b.png": synthetic_png(1_000, 1), "c.png": synthetic_png(65_537, 2)}
    status, body = run_doc_curl(DOC_MULTIPLE, small_sandbox, draft_id, files, tmp_path)
    assert status == 413
    assert body["code"] == "file_too_large"
    assert view(small_sandbox, draft_id).json()["files"] == []
    assert on_disk(small_sandbox) == []


def test_attach_files_refused_before_the_body_is_read(sandbox: SandboxServer) -> None:
    mine, theirs = new_draft(sandbox), new_draft(sandbox, key=KEY_B)
    locked = new_draft(sandbox)
    httpx.get(f"{sandbox.base_url}/interop/drafts/{locked}")
    path = "/api/interop/v1/drafts/{}/files/"
    big = 25 * 1024 * 1024
    assert send_headers_only(sandbox, path.format(theirs), KEY_A, big) == 404
    assert send_headers_only(sandbox, path.format("0" * 36), KEY_A, big) == 404
    assert send_headers_only(sandbox, path.format(locked), KEY_A, big) == 409
    assert send_headers_only(sandbox, path.format(mine), KEY_A, 10**12) == 413
    assert send_headers_only(sandbox, path.format(mine), "wrong-key", big) == 401


def test_key_isolation(sandbox: SandboxServer, tmp_path: Path) -> None:
    draft_id = new_draft(sandbox)
    _, body = run_doc_curl(DOC_SINGLE, sandbox, draft_id, {"a.png": b"\x89PNG-a"}, tmp_path)
    file_id = body["files"][0]["id"]  # type: ignore[index]
    url = f"{sandbox.base_url}/api/interop/v1/drafts/{draft_id}"
    stranger = headers(KEY_B)
    for response in (
        httpx.get(f"{url}/files/{file_id}", headers=stranger),
        httpx.post(f"{url}/files/", files={"file": ("x.png", b"x")}, headers=stranger),
        httpx.get(url, headers=stranger),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "draft_not_found"
    assert len(view(sandbox, draft_id).json()["files"]) == 1


def test_visit_during_upload_gets_409_and_stores_nothing(sandbox: SandboxServer) -> None:
    draft_id = new_draft(sandbox)
    first, rest = synthetic_png(400_000, 3), synthetic_png(100_000, 4)
    upload = SlowUpload(sandbox, draft_id, first, rest)
    tmp_dir = sandbox.data_dir / "files" / "tmp"
    wait_for(lambda: tmp_dir.exists() and any(tmp_dir.iterdir()))  # mid-file on the server
    assert httpx.get(f"{sandbox.base_url}/interop/drafts/{draft_id}").status_code == 200
    result = upload.release()
    assert isinstance(result, httpx.Response), result
    assert result.status_code == 409
    assert result.json()["code"] == "draft_locked"
    assert view(sandbox, draft_id).json()["files"] == []
    assert on_disk(sandbox) == []


def race_once(sandbox: SandboxServer, draft_id: str, data: bytes) -> dict[str, httpx.Response]:
    """Release an upload and a visit of the same draft at the same instant."""
    barrier = threading.Barrier(2)
    results: dict[str, httpx.Response] = {}

    def upload() -> None:
        barrier.wait(timeout=10)
        results["upload"] = httpx.post(
            f"{sandbox.base_url}/api/interop/v1/drafts/{draft_id}/files/",
            files={"file": ("race.png", data, "image/png")},
            headers=headers(),
        )

    def visit() -> None:
        barrier.wait(timeout=10)
        # Signed in (the page's mock sign-in cookie), so the page lists the draft's files.
        signed_in = {"Cookie": "omnidoc_sandbox_rpps=10002170750"}
        results["visit"] = httpx.get(
            f"{sandbox.base_url}/interop/drafts/{draft_id}", headers=signed_in
        )

    threads = [threading.Thread(target=upload), threading.Thread(target=visit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_visit_and_upload_racing(sandbox: SandboxServer) -> None:
    data = synthetic_png(64_000, 5)
    accepted = 0
    for _ in range(8):
        draft_id = new_draft(sandbox)
        results = race_once(sandbox, draft_id, data)
        status = results["upload"].status_code
        files = view(sandbox, draft_id).json()["files"]
        assert results["visit"].status_code == 200
        if status == 200:  # committed before the visit: the page already shows it
            accepted += 1
            assert [f["sha256"] for f in files] == [hashlib.sha256(data).hexdigest()]
            assert "race.png" in results["visit"].text
        else:
            assert status == 409
            assert results["upload"].json()["code"] == "draft_locked"
            assert files == []
            assert "race.png" not in results["visit"].text
    assert len(on_disk(sandbox)) == accepted  # no temp file, no file without its row


def test_files_survive_a_restart(sandbox: SandboxServer, tmp_path: Path) -> None:
    draft_id = new_draft(sandbox)
    png = synthetic_png(120_000, 6)
    _, body = run_doc_curl(DOC_SINGLE, sandbox, draft_id, {"a.png": png}, tmp_path)
    file_id = body["files"][0]["id"]  # type: ignore[index]
    sandbox.stop()
    sandbox.start()
    listed = view(sandbox, draft_id).json()["files"]
    assert [(f["id"], f["sha256"]) for f in listed] == [(file_id, hashlib.sha256(png).hexdigest())]
    download = httpx.get(
        f"{sandbox.base_url}/api/interop/v1/drafts/{draft_id}/files/{file_id}", headers=headers()
    )
    assert download.content == png


def test_crash_mid_upload_leaves_nothing(sandbox: SandboxServer) -> None:
    draft_id = new_draft(sandbox)
    upload = SlowUpload(sandbox, draft_id, synthetic_png(400_000, 7), b"rest")
    tmp_dir = sandbox.data_dir / "files" / "tmp"
    wait_for(lambda: tmp_dir.exists() and any(tmp_dir.iterdir()))
    sandbox.stop(signal.SIGKILL)
    upload.release()
    assert any(tmp_dir.iterdir())  # the crash left a partial file behind
    sandbox.start()
    assert on_disk(sandbox) == []
    assert view(sandbox, draft_id).json()["files"] == []


def test_upload_log_holds_no_filename(sandbox: SandboxServer, tmp_path: Path) -> None:
    draft_id = new_draft(sandbox)
    run_doc_curl(DOC_SINGLE, sandbox, draft_id, {"a.png": b"\x89PNG"}, tmp_path)
    sandbox.stop()
    assert f"POST /api/interop/v1/drafts/{draft_id}/files/ 200" in sandbox.log()
    assert "a.png" not in sandbox.log()
