"""Every error answered as problem+json, the framework's own included, and noted for the
journal: the handlers installed on a small app of their own."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import Body, FastAPI, HTTPException, Query, Request
from fastapi.testclient import TestClient
from starlette.requests import ClientDisconnect

from app import callnotes
from app.errors import DraftNotFound
from app.http.problems import framework_issues, install_error_handlers
from tests.helpers import assert_problem

# Notes of the last call, read back by the tests (the journal middleware's place).
_seen: list[callnotes.CallNotes | None] = []


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.middleware("http")
    async def keep_notes(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        _seen.append(callnotes.peek(request.scope))
        return response

    @app.get("/draft")
    async def draft() -> None:
        raise DraftNotFound()

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418, "short and stout", headers={"X-Kind": "teapot"})

    @app.get("/large")
    async def large() -> None:
        raise HTTPException(413)

    @app.get("/items")
    @app.delete("/items")
    async def items(
        limit: int = Query(10, description="an integer from 1 to 100"),
    ) -> dict[str, int]:
        return {"limit": limit}

    @app.post("/echo")
    async def echo(value: dict[str, int] = Body()) -> dict[str, int]:
        return value

    @app.post("/gone")
    async def gone() -> None:
        raise ClientDisconnect()

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("patient Zoé Lefèvre")

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    _seen.clear()
    with TestClient(_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def test_framework_issues_name_the_field_and_our_code() -> None:
    errors = [
        {"loc": ("body", "patient", "nri"), "type": "extra_forbidden", "msg": "Extra"},
        {"loc": ("body", "text"), "type": "string_too_long", "msg": "Too long"},
        {"loc": ("query", "limit"), "type": "int_parsing", "msg": "Not an int"},
    ]
    issues = framework_issues(errors)
    assert [(i.field, i.code, i.message) for i in issues] == [
        ("patient.nri", "unknown_field", "Extra"),
        ("text", "too_long", "Too long"),
        ("limit", "int_parsing", "Not an int"),
    ]


def test_api_error_is_a_problem_noted_for_the_journal(client: TestClient) -> None:
    body = assert_problem(client.get("/draft"), 404, "draft_not_found")
    assert body["type"] == "/errors/draft_not_found"
    notes = _seen[-1]
    assert notes is not None
    assert [issue.code for issue in notes.errors] == ["draft_not_found"]


def test_unknown_path_is_not_found(client: TestClient) -> None:
    assert_problem(client.get("/nowhere"), 404, "not_found")


def test_method_not_allowed_lists_every_method_of_the_path(client: TestClient) -> None:
    response = client.put("/items")
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, HEAD, DELETE"


def test_http_413_is_body_too_large(client: TestClient) -> None:
    assert_problem(client.get("/large"), 413, "body_too_large")


def test_other_http_status_keeps_status_detail_and_headers(client: TestClient) -> None:
    response = client.get("/teapot")
    body = assert_problem(response, 418, "internal_error")
    assert body["detail"] == "short and stout"
    assert response.headers["x-kind"] == "teapot"


def test_bad_query_parameter_is_named_with_its_description(client: TestClient) -> None:
    body = assert_problem(client.get("/items", params={"limit": "many"}), 422, "validation_failed")
    assert (
        body["detail"] == "The query parameter limit is not valid; see `errors`. Nothing was done."
    )
    (issue,) = body["errors"]
    assert issue["field"] == "limit"
    assert issue["message"].startswith("Query parameter limit: ")
    assert issue["message"].endswith("Expected: an integer from 1 to 100")


def test_malformed_json_is_invalid_json(client: TestClient) -> None:
    response = client.post("/echo", content=b"{", headers={"Content-Type": "application/json"})
    assert_problem(response, 400, "invalid_json")


def test_bad_body_field_is_a_field_issue(client: TestClient) -> None:
    body = assert_problem(client.post("/echo", json={"a": "x"}), 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["a"]


def test_client_gone_mid_body_is_499(client: TestClient) -> None:
    assert_problem(client.post("/gone"), 499, "client_closed_request")


def test_unhandled_error_is_500_and_logs_no_message(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="omnidoc_sandbox"):
        assert_problem(client.get("/boom"), 500, "internal_error")
    logged = [r.getMessage() for r in caplog.records if r.name == "omnidoc_sandbox"]
    assert logged == ["unhandled ValueError on GET /boom"]
