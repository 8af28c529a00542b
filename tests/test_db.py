"""Storage: SQLite pragmas, idempotent schema, readiness while the database is down."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.config import Settings
from app.db import create_db_engine, create_schema
from app.main import create_app
from tests.e2e.server import free_port
from tests.helpers import auth, wait_ready


def test_sqlite_runs_in_wal_mode_with_busy_timeout(tmp_path: Path) -> None:
    engine = create_db_engine(Settings(data_dir=tmp_path))  # SQLite even in the PostgreSQL run
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_create_schema_is_idempotent(settings: Settings) -> None:
    engine = create_db_engine(settings)
    create_schema(engine)
    create_schema(engine)
    engine.dispose()


def test_create_schema_adds_the_nullable_columns_of_a_newer_version(settings: Settings) -> None:
    # A database made before the test kit: its journal and fault rules lack their columns.
    engine = create_db_engine(settings)
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE journal_entry DROP COLUMN facts"))
        conn.execute(text("ALTER TABLE fault_rule DROP COLUMN retry_after"))
    create_schema(engine)
    with engine.connect() as conn:
        conn.execute(text("SELECT facts FROM journal_entry")).all()
        conn.execute(text("SELECT retry_after FROM fault_rule")).all()
    engine.dispose()


def test_readyz_is_503_until_the_database_answers(tmp_path: Path) -> None:
    closed = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none?connect_timeout=1"
    settings = Settings(data_dir=tmp_path / "d", database_url=closed)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["code"] == "not_ready"
        api = client.post("/api/interop/v1/drafts", json={}, headers=auth())
        assert api.status_code == 503
        assert api.headers["Retry-After"] == "1"


def test_base_url_setting_is_used_in_redirect_url(tmp_path: Path, database_url: str | None) -> None:
    settings = Settings(
        data_dir=tmp_path / "d", database_url=database_url, base_url="https://sandbox.example/"
    )
    with TestClient(create_app(settings)) as client:
        wait_ready(client)
        body = client.post("/api/interop/v1/drafts", json={}, headers=auth()).json()
    assert body["redirect_url"] == f"https://sandbox.example/interop/drafts/{body['id']}"


def test_create_schema_from_several_workers_at_once(settings: Settings) -> None:
    """Workers starting together on an empty database all succeed (one creates, the rest see)."""
    engines = [create_db_engine(settings) for _ in range(3)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def start(engine: Engine) -> None:
        barrier.wait()
        try:
            create_schema(engine)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for engine in engines:
        engine.dispose()
    assert errors == []


def test_sqlite_wal_switch_waits_for_a_writer_on_a_new_file(tmp_path: Path) -> None:
    """The journal-mode change fails at once while another process writes; we retry it."""
    settings = Settings(data_dir=tmp_path)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    writer = sqlite3.connect(
        settings.data_dir / "sandbox.db", isolation_level=None, check_same_thread=False
    )
    writer.execute("CREATE TABLE other (i INTEGER)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO other VALUES (1)")
    release = threading.Timer(0.3, lambda: writer.execute("COMMIT"))
    release.start()
    engine = create_db_engine(settings)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    release.join()
    writer.close()
    engine.dispose()
