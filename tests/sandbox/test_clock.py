"""`POST /_sandbox/clock/advance`: its body's bounds and its scope (SPEC §10)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.helpers import AUTHOR, KEY_A, KEY_B, assert_problem, auth, wait_ready

FIXTURES = Path(__file__).parents[1] / "e2e" / "clock_fixtures.yaml"
ANSWERS = "10006789019"


@pytest.fixture
def clocked(tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, fixtures=FIXTURES)
    with TestClient(create_app(settings)) as client:
        wait_ready(client)
        yield client


@pytest.mark.parametrize(
    "body",
    [
        {"seconds": 0},
        {"seconds": -5},
        {"seconds": 2_592_001},
        {"seconds": "60"},
        {"seconds": 1.5},
        {"seconds": True},
        {},
        {"seconds": 60, "extra": 1},
    ],
)
def test_bad_seconds_are_refused(clocked: TestClient, body: dict[str, object]) -> None:
    response = clocked.post("/_sandbox/clock/advance", json=body, headers=auth())
    problem = assert_problem(response, 422, "validation_failed")
    assert problem["errors"], problem


def test_bounds_are_accepted(clocked: TestClient) -> None:
    for seconds in (1, 2_592_000, 60.0):
        response = clocked.post(
            "/_sandbox/clock/advance", json={"seconds": seconds}, headers=auth()
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"advanced_seconds": int(seconds), "performed": []}


def test_a_key_is_needed(clocked: TestClient) -> None:
    response = clocked.post("/_sandbox/clock/advance", json={"seconds": 60})
    assert_problem(response, 401, "unauthorized")


def test_only_the_keys_own_moves_are_performed(clocked: TestClient) -> None:
    ids = {}
    for key in (KEY_A, KEY_B):
        created = clocked.post(
            "/api/interop/v1/drafts",
            json={"author_rpps": AUTHOR, "recipient_rpps": ANSWERS},
            headers=auth(key),
        )
        ids[key] = created.json()["id"]
        for step in ("visit", "publish"):
            moved = clocked.post(f"/_sandbox/drafts/{ids[key]}/{step}", headers=auth(key))
            assert moved.status_code == 200, moved.text
    due = clocked.get(f"/api/interop/v1/drafts/{ids[KEY_B]}", headers=auth(KEY_B)).json()

    advanced = clocked.post("/_sandbox/clock/advance", json={"seconds": 3600}, headers=auth())
    assert advanced.status_code == 200, advanced.text
    performed = advanced.json()["performed"]
    # No webhook URL in these fixtures: the failed first attempts' retries come too.
    assert [m["draft_id"] for m in performed if m["kind"] == "autopilot"] == [ids[KEY_A]]
    assert {m["draft_id"] for m in performed} == {ids[KEY_A]}
    mine = clocked.get(f"/api/interop/v1/drafts/{ids[KEY_A]}", headers=auth(KEY_A)).json()
    assert mine["status"] == "completed"
    theirs = clocked.get(f"/api/interop/v1/drafts/{ids[KEY_B]}", headers=auth(KEY_B)).json()
    assert theirs["status"] == "in_progress"
    assert theirs["autopilot_due_at"] == due["autopilot_due_at"]
    listed = clocked.get("/_sandbox/webhooks/deliveries", headers=auth(KEY_B)).json()["items"]
    assert listed and all(len(item["attempts"]) <= 1 for item in listed)  # first ones only
