"""Fixtures: a fresh database and data dir per test, an in-process client, auth headers."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app.config import Settings
from app.main import create_app

KEY_A = "sandbox-key-a"
KEY_B = "sandbox-key-b"
AUTHOR = "10002170750"  # in the default fixtures
RECIPIENT = "10001234565"

# Set by .ci/run for the PostgreSQL pass, e.g. postgresql+psycopg://postgres@127.0.0.1/postgres
TEST_DATABASE_URL = os.environ.get("OMNIDOC_TEST_DATABASE_URL")


def auth(key: str = KEY_A) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str | None]:
    """None (SQLite in the data dir) or a fresh PostgreSQL database for this test."""
    if not TEST_DATABASE_URL:
        yield None
        return
    name = f"omnidoc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = TEST_DATABASE_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url)


def wait_ready(client: TestClient, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/readyz").status_code != 200:
        if time.monotonic() > deadline:
            raise AssertionError("sandbox did not become ready")
        time.sleep(0.02)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        wait_ready(test_client)
        yield test_client


def create_draft(
    client: TestClient, body: dict[str, object] | None = None, key: str = KEY_A
) -> str:
    response = client.post("/api/interop/v1/drafts", json=body or {}, headers=auth(key))
    assert response.status_code == 200, response.text
    draft_id: str = response.json()["id"]
    return draft_id
