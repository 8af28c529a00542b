"""Admin-token guessing is slowed (issue 19, item 9): LIMIT wrong tokens from one client
in a window, then 429 `admin_too_many_failures` with Retry-After until the window ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.admin_throttle import LIMIT, WINDOW_SECONDS, FailureThrottle
from app.config import Settings
from app.main import create_app
from tests.helpers import assert_problem, wait_ready
from tests.page_client import post_page

TOKEN = "adm-7f3a9c1e-0b2d4e6f"


@pytest.fixture
def guarded(tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "d", database_url=database_url, admin_token=TOKEN)
    with TestClient(create_app(settings)) as test_client:
        wait_ready(test_client)
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_repeated_wrong_bearers_get_429(guarded: TestClient) -> None:
    for attempt in range(LIMIT):
        response = guarded.get("/_sandbox/admin/drafts", headers=bearer(f"guess-{attempt}"))
        assert_problem(response, 401, "admin_unauthorized")
    for token in ("guess-next", TOKEN):  # once slowed, even the right token waits
        response = guarded.get("/_sandbox/admin/drafts", headers=bearer(token))
        body = assert_problem(response, 429, "admin_too_many_failures")
        assert 1 <= int(response.headers["retry-after"]) <= WINDOW_SECONDS
        assert body["detail"].endswith(f"retry in {response.headers['retry-after']} s.")
        assert response.headers["x-frame-options"] == "DENY"


def test_right_tokens_are_not_counted(guarded: TestClient) -> None:
    for _ in range(LIMIT * 2):
        assert guarded.get("/_sandbox/admin/drafts", headers=bearer(TOKEN)).status_code == 200


def test_repeated_wrong_tokens_in_the_sign_in_form_get_429(guarded: TestClient) -> None:
    for attempt in range(LIMIT):
        response = post_page(guarded, "/_sandbox/admin/sign-in", {"token": f"guess-{attempt}"})
        assert response.status_code == 401
    response = post_page(guarded, "/_sandbox/admin/sign-in", {"token": TOKEN})
    assert response.status_code == 429
    assert "Trop de tentatives" in response.text
    assert int(response.headers["retry-after"]) >= 1
    assert "set-cookie" not in response.headers
    # The form and the bearer share the count: the API is slowed as well.
    assert_problem(
        guarded.get("/_sandbox/admin/drafts", headers=bearer(TOKEN)), 429, "admin_too_many_failures"
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_window() -> None:
    clock = Clock()
    throttle = FailureThrottle(limit=3, window=60, clock=clock)
    for _ in range(3):
        assert throttle.retry_after("a") is None
        throttle.failed("a")
    assert throttle.retry_after("a") == 60
    assert throttle.retry_after("b") is None  # per client
    clock.now += 59.5
    assert throttle.retry_after("a") == 1
    clock.now += 0.5
    assert throttle.retry_after("a") is None  # the window is over: a fresh count
    throttle.failed("a")
    assert throttle.retry_after("a") is None


def test_throttle_is_bounded() -> None:
    clock = Clock()
    throttle = FailureThrottle(limit=1, window=60, max_clients=100, clock=clock)
    throttle.failed("first")
    for n in range(100):
        throttle.failed(f"client-{n}")
    assert len(throttle._failures) == 100
    assert throttle.retry_after("first") is None  # the oldest went
    assert throttle.retry_after("client-99") == 60
