"""/_sandbox/faults and their effect on the key's interop calls (README, "Fault injection")."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.sandbox import faults
from app.sandbox.schemas import FaultBody
from tests.helpers import KEY_B, assert_problem, auth, create_draft

URL = "/_sandbox/faults"
DRAFTS = "/api/interop/v1/drafts"


def _add(client: TestClient, key: str = "sandbox-key-a", **rule: object) -> dict[str, Any]:
    response = client.post(URL, json=rule, headers=auth(key))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_fault_503_then_normal_after_times_uses(client: TestClient) -> None:
    _add(client, path=DRAFTS, status=503, times=2)
    for _ in range(2):
        response = client.post(DRAFTS, json={}, headers=auth())
        assert_problem(response, 503, "injected_fault")
        assert response.headers["Retry-After"] == "1"
    create_draft(client)
    [rule] = client.get(URL, headers=auth()).json()["items"]
    assert rule["remaining"] == 0


def test_create_fault_retry_after_only_on_429_and_503(client: TestClient) -> None:
    _add(client, status=429)
    _add(client, status=500)
    first = client.get(f"{DRAFTS}/x", headers=auth())
    assert_problem(first, 429, "injected_fault")
    assert first.headers["Retry-After"] == "1"
    second = client.get(f"{DRAFTS}/x", headers=auth())
    assert_problem(second, 500, "injected_fault")
    assert "Retry-After" not in second.headers


def test_create_fault_delay_then_normal_answer(client: TestClient) -> None:
    _add(client, path=DRAFTS, delay_ms=300)
    started = time.monotonic()
    create_draft(client)
    assert time.monotonic() - started >= 0.3


def test_create_fault_delay_then_status(client: TestClient) -> None:
    _add(client, delay_ms=200, status=502)
    started = time.monotonic()
    assert_problem(client.post(DRAFTS, json={}, headers=auth()), 502, "injected_fault")
    assert time.monotonic() - started >= 0.2


def test_create_fault_matches_method_and_path(client: TestClient) -> None:
    draft_id = create_draft(client)
    _add(client, method="GET", path=f"{DRAFTS}/*/report", status=500)
    create_draft(client)  # POST: another method
    assert client.get(f"{DRAFTS}/{draft_id}", headers=auth()).status_code == 200  # another path
    response = client.get(f"{DRAFTS}/{draft_id}/report/", headers=auth())  # trailing slash ok
    assert_problem(response, 500, "injected_fault")


def test_create_fault_sandbox_calls_are_not_faulted(client: TestClient) -> None:
    draft_id = create_draft(client)
    _add(client, status=503)  # the default path: every interop call
    assert client.post(f"/_sandbox/drafts/{draft_id}/visit", headers=auth()).status_code == 200
    assert_problem(client.get(f"{DRAFTS}/{draft_id}", headers=auth()), 503, "injected_fault")


def test_create_fault_other_key_unaffected(client: TestClient) -> None:
    _add(client, status=503)
    create_draft(client, key=KEY_B)
    assert client.get(URL, headers=auth(KEY_B)).json() == {"items": []}
    assert_problem(client.post(DRAFTS, json={}, headers=auth()), 503, "injected_fault")


def test_create_fault_needs_a_valid_key_to_apply(client: TestClient) -> None:
    _add(client, status=503)
    assert_problem(client.post(DRAFTS, json={}, headers=auth("nope")), 401, "unauthorized")
    assert_problem(client.post(URL, json={"status": 503}), 401, "unauthorized")


def test_reset_vendor_clears_faults(client: TestClient) -> None:
    _add(client, status=503)
    assert client.post("/_sandbox/reset", headers=auth()).json()["deleted"]["faults"] == 1
    create_draft(client)


def test_create_fault_is_journaled_with_its_status(client: TestClient) -> None:
    _add(client, path=DRAFTS, status=429)
    client.post(DRAFTS, json={}, headers=auth())
    [entry] = client.get("/_sandbox/requests", headers=auth()).json()["items"]
    assert (entry["path"], entry["status"]) == (DRAFTS, 429)
    assert entry["errors"][0]["code"] == "injected_fault"


def test_create_fault_last_use_goes_to_one_racing_call(client: TestClient) -> None:
    _add(client, path=DRAFTS, status=503, times=1)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def call() -> None:
        barrier.wait()
        statuses.append(client.post(DRAFTS, json={}, headers=auth()).status_code)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert sorted(statuses) == [200, 503]


def test_take_fault_is_atomic_across_threads(engine: Engine) -> None:
    faults.create_fault(engine, owner_key="k", body=FaultBody(status=503, times=1))
    barrier = threading.Barrier(8)
    taken: list[object] = []

    def take() -> None:
        barrier.wait()
        taken.append(faults.take_fault(engine, owner_key="k", method="GET", path=DRAFTS + "/x"))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert len(taken) == 8
    assert [t for t in taken if t is not None] == [faults.Injected(status=503, delay_ms=0)]


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        (DRAFTS, DRAFTS, True),
        (DRAFTS, DRAFTS + "/", True),
        (DRAFTS + "/", DRAFTS, True),
        (DRAFTS, DRAFTS + "/x", False),
        ("/api/interop/v1/*", DRAFTS + "/x/files", True),
        (DRAFTS + "/*/files", DRAFTS + "/abc/files/", True),
        (DRAFTS + "/*/files", DRAFTS + "/abc/report", False),
        ("/api/interop/v1/drafts.x", "/api/interop/v1/draftsax", False),
    ],
)
def test_path_matches(pattern: str, path: str, expected: bool) -> None:
    assert faults.path_matches(pattern, path) is expected
