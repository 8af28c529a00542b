from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.server import SandboxServer

MakeServer = Callable[..., SandboxServer]


@pytest.fixture
def make_server(tmp_path: Path, database_url: str | None) -> Iterator[MakeServer]:
    """Start real server processes on this test's data dir and database; all stopped after.

    `make_server(env, *serve_args)`: servers made in one test share the data dir and the
    database, as two processes of one deployment would.
    """
    started: list[SandboxServer] = []

    def make(env: dict[str, str] | None = None, *serve_args: str) -> SandboxServer:
        extra = {"OMNIDOC_DATABASE_URL": database_url} if database_url else {}
        server = SandboxServer(tmp_path / "data", env={**extra, **(env or {})})
        started.append(server)
        return server.start(*serve_args)

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def sandbox(make_server: MakeServer) -> SandboxServer:
    """A real server process on a free port, with its own data dir (and database)."""
    return make_server()
