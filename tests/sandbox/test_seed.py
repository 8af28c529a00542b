"""OMNIDOC_SEED (SPEC §10): the shipped demo seed imported on an empty database, ignored
on one with data, and a bad seed logged without stopping the start."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.helpers import KEY_A, auth, create_draft, wait_ready

DEMO_SEED = Path(__file__).parents[2] / "fixtures" / "demo-seed.tar"


def _settings(tmp_path: Path, database_url: str | None, seed: Path | None) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, seed=seed)


def test_the_demo_seed_populates_an_empty_database(
    tmp_path: Path, database_url: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="omnidoc_sandbox")
    with TestClient(create_app(_settings(tmp_path, database_url, DEMO_SEED))) as client:
        wait_ready(client)
        drafts = client.get("/_sandbox/admin/drafts").json()["items"]
        # A handful of drafts in every state, for both keys, with attachments.
        states = Counter(d["status"] for d in drafts)
        assert set(states) == {"temporary", "draft", "in_progress", "completed", "cancelled"}
        assert {d["owner_key"] for d in drafts} == {"sandbox-key-a", "sandbox-key-b"}
        with_files = [d for d in drafts if d["files"]]
        assert with_files
        file = with_files[0]["files"][0]
        downloaded = client.get(file["url"])
        assert downloaded.status_code == 200 and downloaded.content
        completed = [d for d in drafts if d["status"] == "completed" and d["owner_key"] == KEY_A]
        report = client.get(f"/api/interop/v1/drafts/{completed[0]['id']}/report", headers=auth())
        assert report.status_code == 200 and report.content.startswith(b"%PDF")
        deliveries = client.get("/_sandbox/webhooks/deliveries", headers=auth()).json()["items"]
        assert deliveries and all(d["status"] == "delivered" for d in deliveries)
        assert client.get("/_sandbox/admin/inboxes").json()["items"]
    assert "OMNIDOC_SEED imported" in caplog.text


def test_the_seed_is_ignored_when_the_database_has_data(
    tmp_path: Path, database_url: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(create_app(_settings(tmp_path, database_url, None))) as client:
        wait_ready(client)
        mine = create_draft(client, {"context": {"mine": True}})
    caplog.set_level(logging.INFO, logger="omnidoc_sandbox")
    with TestClient(create_app(_settings(tmp_path, database_url, DEMO_SEED))) as client:
        wait_ready(client)
        drafts = client.get("/_sandbox/admin/drafts").json()["items"]
        assert [d["id"] for d in drafts] == [mine]
    assert "OMNIDOC_SEED ignored: the database already holds data" in caplog.text


def test_a_damaged_seed_is_logged_and_the_sandbox_starts_empty(
    tmp_path: Path, database_url: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(DEMO_SEED.read_bytes()[:-3000])
    caplog.set_level(logging.INFO, logger="omnidoc_sandbox")
    with TestClient(create_app(_settings(tmp_path, database_url, damaged))) as client:
        wait_ready(client)
        assert client.get("/_sandbox/admin/drafts").json()["items"] == []
    assert "OMNIDOC_SEED not imported: Snapshot refused, nothing changed" in caplog.text
