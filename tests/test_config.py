"""Settings from OMNIDOC_* variables: defaults that start the sandbox, checked values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import PACKAGED_FIXTURES, Settings, get_settings


def test_defaults_start_with_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"OMNIDOC_{name.upper()}", raising=False)
    settings = Settings()
    assert settings.fixtures == PACKAGED_FIXTURES
    assert PACKAGED_FIXTURES.is_file()
    assert (settings.database_url, settings.base_url, settings.admin_token) == (None, None, None)
    assert settings.retry_delays == [5, 30, 120, 600, 3600]


def test_settings_read_omnidoc_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIDOC_MAX_FILES_PER_DRAFT", "3")
    monkeypatch.setenv("OMNIDOC_STRICT", "true")
    monkeypatch.setenv("OMNIDOC_NOT_A_SETTING", "ignored")
    settings = Settings()
    assert (settings.max_files_per_draft, settings.strict) == (3, True)


def test_get_settings_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    try:
        monkeypatch.setenv("OMNIDOC_JOURNAL_SIZE", "7")
        first = get_settings()
        monkeypatch.setenv("OMNIDOC_JOURNAL_SIZE", "8")
        assert get_settings() is first
        assert first.journal_size == 7
    finally:
        get_settings.cache_clear()


def test_retry_delays_skip_blanks_and_spaces() -> None:
    assert Settings(webhook_retry_schedule=" 1, 2.5 ,,0").retry_delays == [1, 2.5, 0]
    assert Settings(webhook_retry_schedule="").retry_delays == []


@pytest.mark.parametrize("schedule", ["1,-1", "soon"])
def test_retry_schedule_refuses_negative_or_non_numbers(schedule: str) -> None:
    with pytest.raises(ValidationError):
        Settings(webhook_retry_schedule=schedule)


@pytest.mark.parametrize("name", ["max_body_bytes", "webhook_timeout", "head_timeout"])
def test_limits_must_be_positive(name: str) -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate({name: 0})


def test_base_url_loses_its_trailing_slash() -> None:
    assert Settings(base_url="http://127.0.0.1:8000/").base_url == "http://127.0.0.1:8000"
    assert Settings(base_url="").base_url is None


def test_database_is_sqlite_in_the_data_dir_by_default(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite:///{tmp_path.resolve()}/sandbox.db"
    assert settings.files_dir == tmp_path / "files"


def test_database_url_given_is_used_as_is(tmp_path: Path) -> None:
    url = "postgresql+psycopg://u@127.0.0.1:5432/db"
    assert Settings(data_dir=tmp_path, database_url=url).effective_database_url == url
