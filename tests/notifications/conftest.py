"""The notification tests' settings: retries at once, a short timeout."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        webhook_retry_schedule="0,0",
        webhook_timeout=2,
    )
