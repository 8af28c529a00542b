from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_DATABASE_URL
from tests.e2e.server import SandboxServer


@pytest.fixture
def sandbox(tmp_path: Path, database_url: str | None) -> Iterator[SandboxServer]:
    """A real server process on a free port, with its own data dir (and database)."""
    env = {"OMNIDOC_DATABASE_URL": database_url} if database_url else {}
    server = SandboxServer(tmp_path / "data", env=env)
    server.start()
    try:
        yield server
    finally:
        server.stop()


__all__ = ["TEST_DATABASE_URL"]
