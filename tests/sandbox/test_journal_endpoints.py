"""`/_sandbox/requests` and `/_sandbox/faults` over HTTP: the key's journal listed (after,
wait), its fault rules created, listed and deleted."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import KEY_B, assert_problem, auth, create_draft

REQUESTS = "/_sandbox/requests"
FAULTS = "/_sandbox/faults"
DRAFTS = "/api/interop/v1/drafts"


def _journal(client: TestClient, key: str = "sandbox-key-a", query: str = "") -> list[Any]:
    response = client.get(f"{REQUESTS}{query}", headers=auth(key))
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


def _add(client: TestClient, key: str = "sandbox-key-a", **rule: object) -> dict[str, Any]:
    response = client.post(FAULTS, json=rule, headers=auth(key))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_list_requests_needs_a_key(client: TestClient) -> None:
    response = client.get(REQUESTS)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_list_requests_after(client: TestClient) -> None:
    create_draft(client)
    [first] = _journal(client)
    assert _journal(client, query=f"?after={first['id']}") == []
    second = create_draft(client)
    [newer] = _journal(client, query=f"?after={first['id']}")
    assert newer["draft_id"] == second


@pytest.mark.parametrize("query", ["after=unknown", "wait=31", "wait=-1", "after=%00"])
def test_list_requests_bad_query(client: TestClient, query: str) -> None:
    response = client.get(f"{REQUESTS}?{query}", headers=auth())
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


def test_list_requests_wait_answers_once_a_call_is_made(client: TestClient) -> None:
    create_draft(client)
    [first] = _journal(client)
    answer: dict[str, Any] = {}

    def waiter() -> None:
        answer["items"] = _journal(client, query=f"?after={first['id']}&wait=10")

    thread = threading.Thread(target=waiter)
    thread.start()
    second = create_draft(client)
    thread.join(timeout=15)
    assert not thread.is_alive()
    assert [e["draft_id"] for e in answer["items"]] == [second]


def test_list_requests_wait_times_out_empty(client: TestClient) -> None:
    create_draft(client)
    [first] = _journal(client)
    assert _journal(client, query=f"?after={first['id']}&wait=0.2") == []


def test_list_requests_bad_parameters_are_named_together(client: TestClient) -> None:
    response = client.get("/_sandbox/requests?wait=abc&after=%00", headers=auth())
    problem = assert_problem(response, 422, "validation_failed")
    assert problem["detail"].startswith("The query parameters after, wait are not valid")
    assert {e["field"] for e in problem["errors"]} == {"wait", "after"}


def test_create_fault_answers_the_rule(client: TestClient) -> None:
    rule = _add(client, method="POST", path=DRAFTS, status=503, times=2)
    assert rule["method"] == "POST" and rule["path"] == DRAFTS
    assert (rule["status"], rule["delay_ms"], rule["times"], rule["remaining"]) == (503, 0, 2, 2)
    assert client.get(FAULTS, headers=auth()).json() == {"items": [rule]}


@pytest.mark.parametrize(
    ("rule", "fields"),
    [
        ({"method": "BREW", "status": 503}, {"method"}),
        ({"path": "/_sandbox/reset", "status": 503}, {"path"}),
        ({"path": "drafts", "status": 503}, {"path"}),
        ({"status": 200}, {"status"}),
        ({"status": "503"}, {"status"}),
        ({"status": 600, "delay_ms": -1, "times": 0}, {"status", "delay_ms", "times"}),
        ({"delay_ms": 30001}, {"delay_ms"}),
        ({"status": 503, "times": True}, {"times"}),
        ({"status": 503, "extra": 1}, {"extra"}),
        ({}, {""}),
        ({"status": None, "delay_ms": 0}, {""}),
        ({"method": "post", "status": 503}, {"method"}),
        ({"status": 0}, {"status"}),
    ],
)
def test_create_fault_invalid(
    client: TestClient, rule: dict[str, object], fields: set[str]
) -> None:
    body = assert_problem(client.post(FAULTS, json=rule, headers=auth()), 422, "validation_failed")
    assert {e["field"] for e in body["errors"]} == fields
    assert client.get(FAULTS, headers=auth()).json() == {"items": []}


def test_create_fault_body_must_be_an_object(client: TestClient) -> None:
    assert_problem(client.post(FAULTS, json=[1], headers=auth()), 422, "validation_failed")
    assert_problem(client.post(FAULTS, content=b"{", headers=auth()), 400, "invalid_json")


def test_delete_faults_clears_them(client: TestClient) -> None:
    _add(client, status=503)
    _add(client, status=500)
    _add(client, key=KEY_B, status=503)
    assert client.delete(FAULTS, headers=auth()).json() == {"deleted": 2}
    assert client.get(FAULTS, headers=auth()).json() == {"items": []}
    create_draft(client)
    assert len(client.get(FAULTS, headers=auth(KEY_B)).json()["items"]) == 1


def test_list_requests_newest_first(client: TestClient) -> None:
    first, second = create_draft(client), create_draft(client)
    assert [e["draft_id"] for e in _journal(client)] == [second, first]


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_faults_need_a_key(client: TestClient, method: str) -> None:
    response = client.request(method, FAULTS, json={"status": 503})
    assert_problem(response, 401, "unauthorized")


def test_list_faults_in_matching_order_per_key(client: TestClient) -> None:
    first = _add(client, status=503)
    second = _add(client, status=500, path=DRAFTS)
    _add(client, key=KEY_B, status=429)
    assert client.get(FAULTS, headers=auth()).json() == {"items": [first, second]}


def test_delete_faults_without_any_deletes_none(client: TestClient) -> None:
    assert client.delete(FAULTS, headers=auth()).json() == {"deleted": 0}
