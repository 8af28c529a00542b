"""Snapshots (SPEC §10): export and import, over HTTP and the CLI, refused when damaged.

The round trip goes SQLite → (PostgreSQL when OMNIDOC_TEST_DATABASE_URL is set, else
SQLite) → SQLite, and compares every row field by field and every file byte by byte.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import SQLModel
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings, get_settings
from app.db import create_db_engine, create_schema
from app.main import create_app
from app.sandbox import snapshots
from tests.helpers import AUTHOR, KEY_A, KEY_B, assert_problem, auth, wait_ready

FIXTURES = Path(__file__).parents[1] / "e2e" / "clock_fixtures.yaml"
ANSWERS = "10006789019"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
PDF = b"%PDF-1.4\n% synthetic attachment\n" + b"\x00\xff" * 3000
DRAFTS = "/api/interop/v1/drafts"


def _settings(path: Path, database_url: str | None = None) -> Settings:
    return Settings(
        data_dir=path,
        database_url=database_url,
        fixtures=FIXTURES,
        # One attempt now, the retry in an hour: nothing moves while the test compares.
        webhook_retry_schedule="3600",
    )


@pytest.fixture
def sandbox_factory() -> Iterator[Any]:
    opened: list[Any] = []

    def open_sandbox(settings: Settings) -> TestClient:
        client = TestClient(create_app(settings))
        client.__enter__()
        opened.append(client)
        wait_ready(client)
        return client

    yield open_sandbox
    for client in reversed(opened):
        client.__exit__(None, None, None)


def _until(condition: Any, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def _populate(client: TestClient) -> list[str]:
    """Drafts in every state, files, a report, deliveries, journal, faults, inboxes."""
    assert client.put(
        "/_sandbox/webhook", json={"url": "http://127.0.0.1:9/hook"}, headers=auth()
    ).is_success
    ids: list[str] = []

    def create(body: dict[str, Any], key: str = KEY_A) -> str:
        response = client.post(DRAFTS, json=body, headers=auth(key))
        assert response.status_code == 200, response.text
        ids.append(response.json()["id"])
        return ids[-1]

    full = {
        "author_rpps": AUTHOR,
        "recipient_rpps": ANSWERS,
        "patient": {"first_name": "Jeanne", "last_name": "Essai", "birth_date": "1970-01-02"},
        "text": "Lésion cutanée à documenter — synthétique ✓",
        "context": {"ticket": 42, "nested": {"ok": True, "none": None, "list": [1.5, "é"]}},
    }
    temporary = create(full)
    files = [
        ("file", ("photo.png", PNG, "image/png")),
        ("file", ("note.pdf", PDF, "application/pdf")),
    ]
    attached = client.post(f"{DRAFTS}/{temporary}/files/", files=files, headers=auth())
    assert attached.status_code == 200, attached.text
    visited = create(full)
    assert client.post(f"/_sandbox/drafts/{visited}/visit", headers=auth()).is_success
    for _ in range(3):  # in_progress (an automatic answer booked), completed, cancelled
        draft = create(full)
        for step in ("visit", "publish"):
            assert client.post(f"/_sandbox/drafts/{draft}/{step}", headers=auth()).is_success
    in_progress, completed, cancelled = ids[-3:]
    done = client.post(
        f"/_sandbox/drafts/{completed}/complete",
        json={"report_text": "Avis : bénin."},
        headers=auth(),
    )
    assert done.is_success
    assert client.get(f"{DRAFTS}/{completed}/report", headers=auth()).status_code == 200
    assert client.post(f"/_sandbox/drafts/{cancelled}/cancel", headers=auth()).is_success
    create({"context": {"other": "key"}}, key=KEY_B)
    assert client.post(
        "/_sandbox/faults",
        json={"status": 503, "times": 3, "path": "/api/interop/v1/never/*"},
        headers=auth(),
    ).is_success
    assert client.post("/_sandbox/inbox/demo", json={"hello": "monde"}).is_success
    assert client.post(
        "/_sandbox/inbox/bin",
        content=b"\x00\x01\xfe",
        headers={"content-type": "application/octet-stream"},
    ).is_success
    assert client.get(f"{DRAFTS}/not-a-draft", headers=auth()).status_code == 404  # journaled

    def settled() -> bool:
        # Each draft's first notification attempted once (nothing listens on port 9), the
        # later ones waiting behind it (a draft's notifications keep their order).
        items = client.get("/_sandbox/webhooks/deliveries", headers=auth()).json()["items"]
        return len(items) == 5 and sum(len(i["attempts"]) for i in items) == 3

    _until(settled, "every first attempt recorded")
    del in_progress
    return ids


def _dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, ordered by primary key."""
    tables: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            tables[table.name] = [dict(row) for row in conn.execute(query).mappings()]
    return tables


def _files(settings: Settings) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in settings.files_dir.iterdir()
        if path.is_file()
    }


def _views(client: TestClient, ids: list[str]) -> list[Any]:
    views = []
    for draft_id in ids:
        for key in (KEY_A, KEY_B):
            response = client.get(f"{DRAFTS}/{draft_id}", headers=auth(key))
            if response.status_code == 200:
                views.append(response.json())
    deliveries = client.get("/_sandbox/webhooks/deliveries", headers=auth()).json()
    return [views, deliveries]


def _engine(settings: Settings) -> Engine:
    engine = create_db_engine(settings)
    create_schema(engine)
    return engine


def test_round_trip_keeps_every_row_and_byte(
    tmp_path: Path, database_url: str | None, sandbox_factory: Any
) -> None:
    first = _settings(tmp_path / "first")
    middle = _settings(tmp_path / "middle", database_url)  # PostgreSQL when configured
    last = _settings(tmp_path / "last")
    source = sandbox_factory(first)
    ids = _populate(source)
    exported = source.get("/_sandbox/admin/export")
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == "application/octet-stream"
    assert "attachment" in exported.headers["content-disposition"]

    target = sandbox_factory(middle)
    _populate(target)  # replaced entirely, not merged
    imported = target.post("/_sandbox/admin/import", content=exported.content)
    assert imported.status_code == 200, imported.text
    assert imported.json()["files"] == 2
    assert imported.json()["tables"]["draft"] == 6
    assert imported.json()["tables"]["rendered_report"] == 1

    again = target.get("/_sandbox/admin/export")
    back = sandbox_factory(last)
    multipart = back.post(
        "/_sandbox/admin/import", files={"file": ("snap.tar", again.content, "application/x-tar")}
    )
    assert multipart.status_code == 200, multipart.text

    engines = [_engine(s) for s in (first, middle, last)]
    try:
        dumps = [_dump(engine) for engine in engines]
    finally:
        for engine in engines:
            engine.dispose()
    assert dumps[0]["draft"] and dumps[0]["webhook_attempt"] and dumps[0]["inbox_item"]
    assert dumps[0]["autopilot_move"] and dumps[0]["fault_rule"] and dumps[0]["journal_entry"]
    for table, rows in dumps[0].items():  # field by field, through both databases
        assert dumps[1][table] == rows, table
        assert dumps[2][table] == rows, table
    assert _files(first) == _files(middle) == _files(last)
    assert len(_files(first)) == 2
    assert _views(source, ids) == _views(target, ids) == _views(back, ids)
    # Served with the same bytes.
    temporary = ids[0]
    listed = back.get(f"{DRAFTS}/{temporary}", headers=auth()).json()["files"]
    body = back.get(f"{DRAFTS}/{temporary}/files/{listed[0]['id']}", headers=auth()).content
    assert body in (PNG, PDF)
    # New rows after an import take new ids (PostgreSQL's sequences moved past the rows').
    for client in (target, back):
        assert client.post(DRAFTS, json={}, headers=auth()).status_code == 200
        assert client.post("/_sandbox/inbox/after", json={}).status_code == 200
        assert client.post("/_sandbox/faults", json={"status": 500}, headers=auth()).is_success
        journal = client.get("/_sandbox/requests", headers=auth()).json()["items"]
        assert journal[0]["path"] == DRAFTS and journal[0]["status"] == 200


def test_vendor_export_holds_only_the_keys_data(tmp_path: Path, sandbox_factory: Any) -> None:
    client = sandbox_factory(_settings(tmp_path / "a"))
    _populate(client)
    exported = client.get("/_sandbox/export", headers=auth(KEY_B))
    assert exported.status_code == 200, exported.text
    with tarfile.open(fileobj=io.BytesIO(exported.content)) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
        drafts = archive.extractfile("tables/draft.jsonl").read().splitlines()  # type: ignore[union-attr]
        names = archive.getnames()
    assert manifest["format"] == 1 and manifest["scope"] == "key"
    assert [json.loads(line)["owner_key"] for line in drafts] == [KEY_B]
    assert manifest["counts"]["tables"]["draft"] == 1
    assert "tables/inbox_item.jsonl" not in names  # not a key's
    assert not [n for n in names if n.startswith("files/")]
    assert client.get("/_sandbox/export").status_code == 401


def _flipped(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_damaged_files_are_refused_and_change_nothing(tmp_path: Path, sandbox_factory: Any) -> None:
    source = sandbox_factory(_settings(tmp_path / "source"))
    _populate(source)
    good = source.get("/_sandbox/admin/export").content
    target_settings = _settings(tmp_path / "target")
    target = sandbox_factory(target_settings)
    kept = target.post(DRAFTS, json={"context": {"kept": True}}, headers=auth()).json()["id"]
    files = [("file", ("kept.png", PNG[::-1], "image/png"))]
    assert target.post(f"{DRAFTS}/{kept}/files/", files=files, headers=auth()).is_success
    engine = _engine(target_settings)
    try:
        before, files_before = _dump(engine), _files(target_settings)
        assert before["draft"] and len(files_before) == 1
        with tarfile.open(fileobj=io.BytesIO(good)) as archive:
            members = {m.name: m for m in archive.getmembers()}
        picks = {
            "a tar header": 10,
            "table rows": members["tables/draft.jsonl"].offset_data + 5,
            "file bytes": members[next(n for n in members if n.startswith("files/"))].offset_data
            + 100,
            "the manifest": members["manifest.json"].offset_data + 40,
            "the checksum": members["checksum.sha256"].offset_data + 3,
            "the checksum's header": members["checksum.sha256"].offset + 140,
            "tar padding": members["manifest.json"].offset_data + members["manifest.json"].size + 1,
            "the end of the archive": len(good) - 1,
        }
        cases = {f"flipped in {what}": _flipped(good, at) for what, at in picks.items()}
        cases |= {
            "truncated by half": good[: len(good) // 2],
            "truncated by one block": good[: -512 * 4],
            "truncated by one byte": good[:-1],
            "empty": b"",
            "not a tar": b"hello" * 300,
        }
        for what, damaged in cases.items():
            response = target.post("/_sandbox/admin/import", content=damaged)
            problem = assert_problem(response, 422, "snapshot_invalid")
            assert problem["detail"].startswith("Snapshot refused, nothing changed: "), what
            assert _dump(engine) == before, what
            assert _files(target_settings) == files_before, what
        flipped = target.post("/_sandbox/admin/import", content=_flipped(good, picks["file bytes"]))
        assert "checksum mismatch" in flipped.json()["detail"]
        # The good file still imports: the refusals left nothing behind.
        assert target.post("/_sandbox/admin/import", content=good).status_code == 200
        assert not [p for p in target_settings.data_dir.iterdir() if p.name.startswith("snapshot-")]
    finally:
        engine.dispose()


def _rewritten(good: bytes, *, fmt: int) -> bytes:
    """The same members under a manifest of another format, checksums all correct."""
    out = io.BytesIO()
    writer = snapshots.ArchiveWriter(out)
    with tarfile.open(fileobj=io.BytesIO(good)) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
        for member in archive.getmembers():
            if member.name not in ("manifest.json", "checksum.sha256"):
                writer.add(member.name, archive.extractfile(member), member.size)  # type: ignore[arg-type]
    writer.finish({**manifest, "format": fmt})
    return out.getvalue()


def test_a_newer_format_is_refused(tmp_path: Path, sandbox_factory: Any) -> None:
    client = sandbox_factory(_settings(tmp_path / "a"))
    _populate(client)
    good = client.get("/_sandbox/admin/export").content
    assert client.post("/_sandbox/admin/import", content=_rewritten(good, fmt=1)).is_success
    response = client.post("/_sandbox/admin/import", content=_rewritten(good, fmt=2))
    problem = assert_problem(response, 422, "snapshot_invalid")
    assert "format 2 is newer than this sandbox reads (1)" in problem["detail"]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def use(settings: Settings) -> None:
        monkeypatch.setenv("OMNIDOC_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("OMNIDOC_FIXTURES", str(FIXTURES))
        if settings.database_url:
            monkeypatch.setenv("OMNIDOC_DATABASE_URL", settings.database_url)
        else:
            monkeypatch.delenv("OMNIDOC_DATABASE_URL", raising=False)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def test_cli_export_and_import_on_a_stopped_server(tmp_path: Path, cli_env: Any) -> None:
    first = _settings(tmp_path / "first")
    with TestClient(create_app(first)) as client:
        wait_ready(client)
        _populate(client)
    # The server is stopped from here on.
    runner = CliRunner()
    cli_env(first)
    snapshot = tmp_path / "snap.tar"
    exported = runner.invoke(cli, ["export", str(snapshot)])
    assert exported.exit_code == 0, exported.output
    assert "2 files" in exported.output

    fresh = _settings(tmp_path / "nowhere" / "yet")  # no database, no directory
    cli_env(fresh)
    imported = runner.invoke(cli, ["import", str(snapshot), "--yes"])
    assert imported.exit_code == 0, imported.output
    engines = [_engine(first), _engine(fresh)]
    try:
        assert _dump(engines[0]) == _dump(engines[1])
    finally:
        for engine in engines:
            engine.dispose()
    assert _files(first) == _files(fresh)

    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(snapshot.read_bytes()[:-2000])
    refused = runner.invoke(cli, ["import", str(damaged), "--yes"])
    assert refused.exit_code == 1
    assert "Snapshot refused, nothing changed" in refused.output


def test_start_up_removes_old_leftovers_only(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    old_dir = settings.data_dir / "snapshot-upload-old"
    old_dir.mkdir()
    (old_dir / "snapshot.tar").write_bytes(b"cut short")
    old_file = settings.data_dir / "snapshot-export-old"
    old_file.write_bytes(b"cut short")
    fresh = settings.data_dir / "snapshot-export-fresh"  # another worker's, in progress
    fresh.write_bytes(b"streaming")
    unrelated = settings.data_dir / "sandbox.db"
    unrelated.write_bytes(b"")
    an_hour_ago = time.time() - snapshots.LEFTOVER_AGE_SECONDS - 60
    for path in (old_dir, old_file):
        os.utime(path, (an_hour_ago, an_hour_ago))
    assert snapshots.sweep_leftovers(settings) == 2
    assert sorted(p.name for p in settings.data_dir.iterdir()) == [
        "sandbox.db",
        "snapshot-export-fresh",
    ]
