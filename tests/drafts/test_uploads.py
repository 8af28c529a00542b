"""POST/GET /api/interop/v1/drafts/{id}/files through the in-process app."""

from __future__ import annotations

import errno
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from app import runtime
from app.config import Settings
from app.drafts import multipart_stream
from app.drafts.multipart_stream import FIELD
from app.drafts.uploads import sweep_orphans
from app.main import create_app
from app.models import Draft, StoredFile
from tests.helpers import KEY_B, assert_problem, auth, create_draft, wait_ready

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
BOUNDARY = "sandbox-test-boundary"


def files_url(draft_id: str, slash: str = "/") -> str:
    return f"/api/interop/v1/drafts/{draft_id}/files{slash}"


def stored_on_disk(settings: Settings) -> list[Path]:
    """Every file under the data dir's files folder, temp files included."""
    root = settings.files_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def multipart(*parts: tuple[str, bytes, str], name: str = FIELD) -> bytes:
    """A hand-built body, so tests control every byte (filenames, framing)."""
    out = b""
    for filename, data, content_type in parts:
        out += (
            f"--{BOUNDARY}\r\n".encode()
            + f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
            + f"Content-Type: {content_type}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    return out + f"--{BOUNDARY}--\r\n".encode()


def post_raw(
    client: TestClient, draft_id: str, body: bytes, key: str = "sandbox-key-a"
) -> httpx.Response:
    response: httpx.Response = client.post(
        files_url(draft_id),
        content=body,
        headers={**auth(key), "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    return response


@pytest.fixture
def small(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_file_bytes": 1024, "max_files_per_draft": 3})


@pytest.fixture
def small_client(small: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(small)) as test_client:
        wait_ready(test_client)
        yield test_client


def engine_of(client: TestClient) -> Engine:
    state = runtime.of_app(client.app)
    assert state is not None and state.engine is not None
    return state.engine


def test_attach_files_single(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = client.post(
        files_url(draft_id), files={"file": ("a.png", PNG, "image/png")}, headers=auth()
    )
    assert response.status_code == 200
    (item,) = response.json()["files"]
    assert set(item) == {"id", "filename", "content_type", "size", "sha256"}
    assert item["filename"] == "a.png"
    assert item["content_type"] == "image/png"
    assert item["size"] == len(PNG)
    assert item["sha256"] == hashlib.sha256(PNG).hexdigest()


def test_attach_files_multiple_keeps_order_and_lists_them(client: TestClient) -> None:
    draft_id = create_draft(client)
    files = [("file", ("b.png", PNG, "image/png")), ("file", ("c.txt", b"hello", "text/plain"))]
    response = client.post(files_url(draft_id), files=files, headers=auth())
    assert response.status_code == 200
    assert [f["filename"] for f in response.json()["files"]] == ["b.png", "c.txt"]
    view = client.get(f"/api/interop/v1/drafts/{draft_id}", headers=auth()).json()
    assert [f["filename"] for f in view["files"]] == ["b.png", "c.txt"]
    assert [f["sha256"] for f in view["files"]] == [
        hashlib.sha256(PNG).hexdigest(),
        hashlib.sha256(b"hello").hexdigest(),
    ]


def test_attach_files_without_trailing_slash(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = client.post(
        files_url(draft_id, slash=""),
        files={"file": ("a.png", PNG, "image/png")},
        headers=auth(),
        follow_redirects=False,
    )
    assert response.status_code == 200


def test_download_file_returns_the_same_bytes(client: TestClient) -> None:
    draft_id = create_draft(client)
    name = 'compte rendu é"%.pdf'
    body = multipart((name, b"%PDF-1.4 synthetic", "application/pdf"))
    item = post_raw(client, draft_id, body).json()["files"][0]
    response = client.get(files_url(draft_id) + item["id"], headers=auth())
    assert response.status_code == 200
    assert response.content == b"%PDF-1.4 synthetic"
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="compte rendu ___.pdf"; ')
    assert disposition.endswith("filename*=UTF-8''compte%20rendu%20%C3%A9%22%25.pdf")


def test_download_file_unknown_or_malformed_id(client: TestClient) -> None:
    draft_id = create_draft(client)
    for file_id in (str(uuid.uuid4()), "not-a-uuid", "x" * 300):
        response = client.get(files_url(draft_id) + file_id, headers=auth())
        assert response.status_code == 404
        assert response.json()["code"] == "file_not_found"


def test_download_file_of_another_keys_draft(client: TestClient) -> None:
    draft_id = create_draft(client)
    item = client.post(
        files_url(draft_id), files={"file": ("a.png", PNG, "image/png")}, headers=auth()
    ).json()["files"][0]
    response = client.get(files_url(draft_id) + item["id"], headers=auth(KEY_B))
    assert response.status_code == 404
    assert response.json()["code"] == "draft_not_found"


def test_download_file_needs_a_key(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = client.get(files_url(draft_id) + str(uuid.uuid4()))
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_attach_files_needs_a_key(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = client.post(files_url(draft_id), files={"file": ("a.png", PNG, "image/png")})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "draft_id", ["3f1c5f0e-8d2a-4b7e-9c41-6a0d2e7b9f13", "not-a-uuid", "%00", "x" * 500]
)
def test_attach_files_unknown_or_malformed_draft(client: TestClient, draft_id: str) -> None:
    response = client.post(
        files_url(draft_id), files={"file": ("a.png", PNG, "image/png")}, headers=auth()
    )
    assert response.status_code == 404
    assert response.json()["code"] == "draft_not_found"


def test_attach_files_to_another_keys_draft(client: TestClient, settings: Settings) -> None:
    draft_id = create_draft(client, key=KEY_B)
    response = client.post(
        files_url(draft_id), files={"file": ("a.png", PNG, "image/png")}, headers=auth()
    )
    assert response.status_code == 404
    assert response.json()["code"] == "draft_not_found"
    assert stored_on_disk(settings) == []


def test_attach_files_after_visit(client: TestClient, settings: Settings) -> None:
    draft_id = create_draft(client)
    assert client.get(f"/interop/drafts/{draft_id}").status_code == 200
    response = client.post(
        files_url(draft_id), files={"file": ("a.png", PNG, "image/png")}, headers=auth()
    )
    assert response.status_code == 409
    assert response.json()["code"] == "draft_locked"
    assert stored_on_disk(settings) == []


def test_attach_files_to_a_cancelled_draft(client: TestClient) -> None:
    draft_id = create_draft(client)
    with Session(engine_of(client)) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        draft.status = "cancelled"
        session.add(draft)
        session.commit()
    response = client.post(
        files_url(draft_id), files={"file": ("a.png", PNG, "image/png")}, headers=auth()
    )
    assert response.status_code == 409
    assert response.json()["code"] == "draft_locked"


def test_attach_files_after_head_is_still_allowed(client: TestClient) -> None:
    draft_id = create_draft(client)
    assert client.head(f"/interop/drafts/{draft_id}").status_code == 200
    response = client.post(
        files_url(draft_id), files={"file": ("a.png", PNG, "image/png")}, headers=auth()
    )
    assert response.status_code == 200


def test_attach_files_too_large(small_client: TestClient, small: Settings) -> None:
    draft_id = create_draft(small_client)
    response = small_client.post(
        files_url(draft_id), files={"file": ("a.bin", b"x" * 1025, "image/png")}, headers=auth()
    )
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert stored_on_disk(small) == []


def test_attach_files_exactly_at_the_limit(small_client: TestClient) -> None:
    draft_id = create_draft(small_client)
    response = small_client.post(
        files_url(draft_id), files={"file": ("a.bin", b"x" * 1024, "image/png")}, headers=auth()
    )
    assert response.status_code == 200


def test_attach_files_declared_length_that_cannot_fit(small_client: TestClient) -> None:
    draft_id = create_draft(small_client)
    response = small_client.post(
        files_url(draft_id),
        content=b"x" * 100_000,
        headers={**auth(), "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert "cannot fit" in response.json()["detail"]


def test_attach_files_is_all_or_nothing(small_client: TestClient, small: Settings) -> None:
    draft_id = create_draft(small_client)
    body = multipart(("a.png", PNG[:500], "image/png"), ("b.png", b"y" * 2000, "image/png"))
    response = post_raw(small_client, draft_id, body)
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert "#2" in response.json()["detail"]
    view = small_client.get(f"/api/interop/v1/drafts/{draft_id}", headers=auth()).json()
    assert view["files"] == []
    assert stored_on_disk(small) == []


def test_attach_files_not_multipart(client: TestClient) -> None:
    draft_id = create_draft(client)
    for content_type in ("application/json", "multipart/mixed; boundary=x", ""):
        response = client.post(
            files_url(draft_id),
            content=b"{}",
            headers={**auth(), "Content-Type": content_type},
        )
        assert response.status_code == 415, content_type
        assert response.json()["code"] == "unsupported_media_type"


def test_attach_files_without_boundary(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = client.post(
        files_url(draft_id),
        content=b"--x\r\n",
        headers={**auth(), "Content-Type": "multipart/form-data"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_multipart"


@pytest.mark.parametrize(
    "body",
    [
        b"garbage with no boundary at all",
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=file; filename=a\r\n\r\nab".encode(),
        f"--{BOUNDARY}\r\nX: y\r\n\r\nabc\r\n--{BOUNDARY}--\r\n".encode(),
        b"",
    ],
    ids=["garbage", "truncated", "no-disposition", "empty"],
)
def test_attach_files_malformed_body(client: TestClient, settings: Settings, body: bytes) -> None:
    draft_id = create_draft(client)
    response = post_raw(client, draft_id, body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_multipart"
    assert stored_on_disk(settings) == []


def test_attach_files_form_value_is_not_a_file(client: TestClient, settings: Settings) -> None:
    draft_id = create_draft(client)
    part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"\r\n\r\na.png\r\n'
    response = post_raw(client, draft_id, f"{part}--{BOUNDARY}--\r\n".encode())
    body = assert_problem(response, 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("file", "not_a_file")]
    assert stored_on_disk(settings) == []


def test_attach_files_without_a_file_part(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = client.post(files_url(draft_id), files={"document": ("a.png", PNG)}, headers=auth())
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert response.json()["errors"][0]["field"] == "file"
    assert response.json()["errors"][0]["code"] == "missing_file"


def test_attach_files_ignores_other_fields(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = client.post(
        files_url(draft_id),
        data={"comment": "ignored"},
        files={"file": ("a.png", PNG, "image/png")},
        headers=auth(),
    )
    assert response.status_code == 200
    assert len(response.json()["files"]) == 1


def test_attach_files_empty_file(client: TestClient, settings: Settings) -> None:
    draft_id = create_draft(client)
    body = multipart(("a.png", PNG, "image/png"), ("empty.png", b"", "image/png"))
    response = post_raw(client, draft_id, body)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert response.json()["errors"][0]["code"] == "empty_file"
    assert stored_on_disk(settings) == []


def test_attach_files_too_many_in_one_request(small_client: TestClient) -> None:
    draft_id = create_draft(small_client)
    body = multipart(*[(f"{i}.txt", b"x", "text/plain") for i in range(4)])
    response = post_raw(small_client, draft_id, body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "too_many_files"


def test_attach_files_too_many_counting_existing(small_client: TestClient) -> None:
    draft_id = create_draft(small_client)
    two = multipart(("a.txt", b"a", "text/plain"), ("b.txt", b"b", "text/plain"))
    assert post_raw(small_client, draft_id, two).status_code == 200
    response = post_raw(small_client, draft_id, two)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "too_many_files"
    one = multipart(("c.txt", b"c", "text/plain"))
    assert post_raw(small_client, draft_id, one).status_code == 200
    full = post_raw(small_client, draft_id, one)
    assert full.status_code == 422
    assert full.json()["errors"][0]["code"] == "too_many_files"


def test_attach_files_strips_path_parts_and_control_chars(client: TestClient) -> None:
    draft_id = create_draft(client)
    names = ["../../etc/passwd", "C:\\Users\\x\\scan.png", "a\x01b\x7fc\u202ed\t.png", ".."]
    body = multipart(*[(n, PNG, "image/png") for n in names])
    response = post_raw(client, draft_id, body)
    assert response.status_code == 200
    got = [f["filename"] for f in response.json()["files"]]
    assert got == ["passwd", "scan.png", "abcd.png", "file"]


def test_attach_files_records_declared_and_sniffed_types(client: TestClient) -> None:
    draft_id = create_draft(client)
    body = multipart(("photo.pdf", PNG, "application/pdf"), ("x", b"plain", "not a type"))
    response = post_raw(client, draft_id, body)
    assert response.status_code == 200
    ids = [f["id"] for f in response.json()["files"]]
    with Session(engine_of(client)) as session:
        rows = [session.get(StoredFile, file_id) for file_id in ids]
    assert [(r.content_type, r.sniffed_type) for r in rows if r is not None] == [
        ("application/pdf", "image/png"),
        ("application/octet-stream", None),
    ]


def test_sweep_orphans_removes_leftovers_only(client: TestClient, settings: Settings) -> None:
    draft_id = create_draft(client)
    client.post(files_url(draft_id), files={"file": ("a.png", PNG, "image/png")}, headers=auth())
    kept = stored_on_disk(settings)
    (settings.files_dir / "tmp" / "dead.part").write_bytes(b"half")
    (settings.files_dir / "0123456789abcdef0123456789abcdef").write_bytes(b"no row")
    busy = settings.files_dir / "tmp" / "busy.part"
    with busy.open("xb") as handle:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        removed = sweep_orphans(engine_of(client), settings=settings)
    assert removed == 2
    assert stored_on_disk(settings) == sorted([*kept, busy])


def test_sweep_orphans_waits_for_a_commit_in_flight(client: TestClient, settings: Settings) -> None:
    import fcntl
    import threading

    draft_id = create_draft(client)
    client.post(files_url(draft_id), files={"file": ("a.png", PNG, "image/png")}, headers=auth())
    kept = stored_on_disk(settings)
    # A stored file whose upload still holds its lock: its row is gone (a reset's wipe)
    # and the uploader lets go a moment later.
    committing = settings.files_dir / "fedcba9876543210fedcba9876543210"
    handle = committing.open("xb")
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    releaser = threading.Timer(0.2, handle.close)
    releaser.start()
    removed = sweep_orphans(engine_of(client), settings=settings)
    releaser.join()
    assert removed == 1
    assert stored_on_disk(settings) == kept


def test_sweep_runs_at_start(settings: Settings) -> None:
    stray = settings.files_dir / "tmp" / "crash.part"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"half an upload")
    os.utime(stray, (0, 0))
    with TestClient(create_app(settings)) as test_client:
        wait_ready(test_client)
    assert not stray.exists()


def test_attach_files_disk_full(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(path: Path) -> object:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(multipart_stream, "open_locked", full)
    draft_id = create_draft(client)
    response = client.post(
        files_url(draft_id), files={"file": ("a.png", PNG, "image/png")}, headers=auth()
    )
    assert response.status_code == 507
    assert response.json()["code"] == "storage_failed"
    assert stored_on_disk(settings) == []


def test_attach_files_too_large_without_content_length(
    small_client: TestClient, small: Settings
) -> None:
    """Chunked, so no early Content-Length check: the limit holds while streaming."""
    draft_id = create_draft(small_client)
    body = multipart(("a.bin", b"x" * 5000, "application/octet-stream"))
    response = small_client.post(
        files_url(draft_id),
        content=(body[i : i + 512] for i in range(0, len(body), 512)),
        headers={**auth(), "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert stored_on_disk(small) == []
