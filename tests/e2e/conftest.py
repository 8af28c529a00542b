"""Real server processes for the end-to-end tests; every module here is marked `e2e`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.browser import CHROMIUM, MISSING, launch_chromium
from tests.e2e.server import MakeServer, SandboxServer


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`make test-fast` deselects `e2e`: a module here without the mark would slip in."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents and item.get_closest_marker("e2e") is None:
            raise pytest.UsageError(f"{item.path.name} starts servers: mark it e2e")


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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Debian Chromium per module; fails (never skips) without it.

    Not one per session: Playwright's event loop runs while it is open, and a later test
    on the same worker that calls asyncio.run() would fail.
    """
    if not CHROMIUM.exists():
        pytest.fail(MISSING, pytrace=False)
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def module_sandbox(
    tmp_path_factory: pytest.TempPathFactory, module_database_url: str | None
) -> Iterator[SandboxServer]:
    """One real server process for a module whose tests each make their own drafts."""
    env = {"OMNIDOC_WEBHOOK_RETRY_SCHEDULE": "0.2,0.2", "OMNIDOC_WEBHOOK_TIMEOUT": "3"}
    if module_database_url:
        env["OMNIDOC_DATABASE_URL"] = module_database_url
    server = SandboxServer(tmp_path_factory.mktemp("sandbox") / "data", env=env).start()
    yield server
    server.stop()
