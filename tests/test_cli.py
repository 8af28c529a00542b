"""The Typer CLI: reset empties the database and the files, keeps the schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings, get_settings
from app.db import create_db_engine, create_schema, read_session
from app.drafts import create_draft
from app.models import Draft

runner = CliRunner()


@pytest.fixture
def cli_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("OMNIDOC_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("OMNIDOC_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_reset_empties_database_and_files(cli_settings: Settings) -> None:
    engine = create_db_engine(cli_settings)
    create_schema(engine)
    create_draft(engine, owner_key="sandbox-key-a", body={"text": "x"})
    stray = cli_settings.files_dir / "stray.bin"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"x")
    result = runner.invoke(cli, ["reset", "--yes"])
    assert result.exit_code == 0, result.output
    assert "reset done" in result.output
    with read_session(engine) as session:
        assert session.exec(select(Draft)).all() == []
    assert not stray.exists()
    engine.dispose()


def test_reset_refuses_broken_fixtures(
    cli_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "f.yaml"
    broken.write_text("api_keys: 3\n")
    monkeypatch.setenv("OMNIDOC_FIXTURES", str(broken))
    get_settings.cache_clear()
    result = runner.invoke(cli, ["reset", "--yes"])
    assert result.exit_code == 2
    assert str(broken) in result.output


def test_reset_asks_before_deleting(cli_settings: Settings) -> None:
    result = runner.invoke(cli, ["reset"], input="n\n")
    assert result.exit_code == 1
    assert "Aborted" in result.output
