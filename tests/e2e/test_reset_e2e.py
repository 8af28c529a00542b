"""Resets against a running server with uploads in flight: the CLI's, and one key's."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from app.config import Settings
from app.db import create_db_engine, read_session
from app.models import StoredFile
from tests.e2e.server import MakeServer, SandboxServer, console_script
from tests.helpers import KEY_A

pytestmark = pytest.mark.e2e

BOUNDARY = "reset-e2e-boundary"
CHUNK = b"\x89PNG\r\n\x1a\n" + b"s" * (64 * 1024 - 8)


def _slow_multipart(chunks: int) -> Iterator[bytes]:
    """One `file` part sent 64 KiB at a time, so the upload is in flight for a while."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        'filename="scan.png"\r\nContent-Type: image/png\r\n\r\n'
    ).encode()
    for _ in range(chunks):
        yield CHUNK
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


class Uploader(threading.Thread):
    """Creates drafts and streams files into them until told to stop; keeps every status."""

    def __init__(self, base_url: str) -> None:
        super().__init__(daemon=True)
        self.base_url = base_url
        self.stop = threading.Event()
        self.started_one = threading.Event()
        self.statuses: list[int] = []

    def run(self) -> None:
        auth = {"Authorization": f"Bearer {KEY_A}"}
        with httpx.Client(base_url=self.base_url, headers=auth, timeout=30) as client:
            while not self.stop.is_set():
                created = client.post("/api/interop/v1/drafts", json={})
                self.statuses.append(created.status_code)
                if created.status_code != 200:
                    continue
                self.started_one.set()
                upload = client.post(
                    f"/api/interop/v1/drafts/{created.json()['id']}/files/",
                    content=_slow_multipart(chunks=24),
                    headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
                )
                self.statuses.append(upload.status_code)


def _reset(server: SandboxServer) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in server.env.items() if k.startswith("OMNIDOC_") or k == "PATH"}
    return subprocess.run(
        [console_script(), "reset"],  # no --yes: stdin is not a terminal, so no question
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _reset_key(server: SandboxServer) -> None:
    answer = httpx.post(
        f"{server.base_url}/_sandbox/reset", headers={"Authorization": f"Bearer {KEY_A}"}
    )
    assert answer.status_code == 200, answer.text


def _reset_all(server: SandboxServer) -> None:
    result = _reset(server)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "reset done" in result.stdout


@pytest.mark.parametrize("reset", [_reset_all, _reset_key], ids=["cli", "vendor"])
def test_reset_during_uploads_keeps_rows_and_files_consistent(
    make_server: MakeServer,
    tmp_path: Path,
    database_url: str | None,
    reset: Callable[[SandboxServer], None],
) -> None:
    server = make_server()
    uploaders = [Uploader(server.base_url) for _ in range(3)]
    for uploader in uploaders:
        uploader.start()
    try:
        for _ in range(4):
            for uploader in uploaders:
                uploader.started_one.clear()
            for uploader in uploaders:
                assert uploader.started_one.wait(30), server.log()
            reset(server)
    finally:
        for uploader in uploaders:
            uploader.stop.set()
        for uploader in uploaders:
            uploader.join(timeout=60)
    # An upload cut by a reset loses its draft (404); nothing else may go wrong.
    statuses = {status for uploader in uploaders for status in uploader.statuses}
    assert statuses <= {200, 404}, statuses
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    engine = create_db_engine(settings)
    try:
        with read_session(engine) as session:
            rows = set(session.exec(select(StoredFile.storage_name)).all())
    finally:
        engine.dispose()
    files_dir = settings.files_dir
    on_disk = {p.name for p in files_dir.iterdir() if p.is_file()}
    assert on_disk == rows  # no row without its file, no file without its row
    assert not any((files_dir / "tmp").iterdir())
