"""The app and its lifespan: ready once the database answers, not before; a broken
fixtures file stops the start; every router and the static files mounted."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app import runtime
from app.config import Settings
from app.fixtures import FixtureError
from app.main import create_app


def test_lifespan_serves_once_ready(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        found = runtime.of_app(client.app)
        assert found is not None and found.ready  # no wait needed: ready before serving
        assert client.get("/readyz").status_code == 200


def test_broken_fixtures_stop_the_start(tmp_path: Path) -> None:
    broken = tmp_path / "fixtures.yaml"
    broken.write_text("api_keys: [{key: ''}]\n", encoding="utf-8")
    app = create_app(Settings(data_dir=tmp_path / "d", fixtures=broken))
    with pytest.raises(FixtureError), TestClient(app):
        pass


def test_database_not_answering_keeps_readyz_at_503(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    closed = "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1"
    settings = Settings(data_dir=tmp_path / "d", database_url=closed)
    with caplog.at_level(logging.WARNING), TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200  # alive
        assert client.get("/readyz").status_code == 503  # not ready
        found = runtime.of_app(client.app)
        assert found is not None and not found.ready and found.engine is None
    assert any("database not ready" in r.getMessage() for r in caplog.records)


def test_static_files_are_mounted(client: TestClient) -> None:
    response = client.get("/static/omnidoc.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


def test_every_router_is_included(client: TestClient) -> None:
    paths = set(client.get("/openapi.json").json()["paths"])
    for path in (
        "/api/interop/v1/drafts",
        "/_sandbox/requests",
        "/_sandbox/faults",
        "/_sandbox/receiver-checks",
        "/_sandbox/admin/receiver-checks",
        "/healthz",
    ):
        assert path in paths, path


def test_trailing_slash_is_not_redirected(client: TestClient) -> None:
    response = client.get("/healthz/", follow_redirects=False)
    assert response.status_code == 404
