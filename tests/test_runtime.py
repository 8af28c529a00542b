"""What the lifespan builds: the runtime, found from the app once started."""

from __future__ import annotations

from types import SimpleNamespace

from fastapi.testclient import TestClient

from app import runtime
from app.config import PACKAGED_FIXTURES, Settings
from app.fixtures import load_fixtures
from app.main import create_app


def test_of_app_of_a_started_app_is_its_runtime(client: TestClient, settings: Settings) -> None:
    found = runtime.of_app(client.app)
    assert found is not None
    assert found.settings == settings
    assert found.ready and found.engine is not None
    assert found.fixtures.api_keys


def test_of_app_before_the_lifespan_is_none(settings: Settings) -> None:
    assert runtime.of_app(create_app(settings)) is None


def test_of_app_of_something_else_is_none() -> None:
    assert runtime.of_app(object()) is None
    assert runtime.of_app(SimpleNamespace(state=SimpleNamespace(runtime="not one"))) is None


def test_runtimes_do_not_share_their_throttle_or_checks(settings: Settings) -> None:
    fixtures = load_fixtures(PACKAGED_FIXTURES)
    one = runtime.Runtime(settings=settings, fixtures=fixtures)
    two = runtime.Runtime(settings=settings, fixtures=fixtures)
    assert one.admin_failures is not two.admin_failures
    assert one.checks is not two.checks
    assert (one.engine, one.ready) == (None, False)
