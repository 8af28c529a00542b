"""HTTP method details: HEAD on every GET route, every allowed method in a 405's Allow."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.helpers import assert_problem, auth, create_draft

GET_PATHS = sorted(
    path
    for path, methods in create_app().openapi()["paths"].items()
    if "get" in methods and "{" not in path
)


@pytest.mark.parametrize("path", GET_PATHS)
def test_head_answers_like_get_without_a_body(client: TestClient, path: str) -> None:
    get, head = client.get(path, headers=auth()), client.head(path, headers=auth())
    assert head.status_code == get.status_code == 200
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.content == b""


def test_head_of_a_draft_is_journaled_as_head(client: TestClient) -> None:
    draft_id = create_draft(client)
    assert client.head(f"/api/interop/v1/drafts/{draft_id}", headers=auth()).status_code == 200
    [entry, *_] = client.get("/_sandbox/requests", headers=auth()).json()["items"]
    assert (entry["method"], entry["status"]) == ("HEAD", 200)


def test_head_of_a_post_only_path_is_405(client: TestClient) -> None:
    response = client.head("/_sandbox/reset", headers=auth())
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_method_not_allowed_lists_every_method(client: TestClient) -> None:
    response = client.put("/_sandbox/faults", headers=auth())
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, HEAD, POST, DELETE"


def test_method_not_allowed_on_a_probe(client: TestClient) -> None:
    response = client.post("/healthz")
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, HEAD"


def test_method_not_allowed_on_a_path_with_an_id(client: TestClient) -> None:
    response = client.delete(f"/api/interop/v1/drafts/{create_draft(client)}", headers=auth())
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, HEAD"
