"""Request bodies: read under a cap, strict JSON, only storable documents; typed bodies
checked the same way before FastAPI validates them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from app.config import PACKAGED_FIXTURES, Settings
from app.errors import BodyTooLarge, InvalidJson, ValidationFailed
from app.fixtures import load_fixtures
from app.http.bodies import MAX_ISSUES, MAX_JSON_DEPTH, JsonBodyRoute, parse_json, read_capped
from app.http.problems import install_error_handlers
from app.runtime import Runtime
from tests.helpers import assert_problem


def _request(body: list[bytes], headers: dict[str, str] | None = None) -> Request:
    chunks = list(body)

    async def receive() -> dict[str, object]:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    raw_headers = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request({"type": "http", "method": "POST", "headers": raw_headers}, receive)


def _issues(raw: bytes) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as raised:
        parse_json(raw)
    return [(issue.field, issue.code) for issue in raised.value.errors]


def test_read_capped_returns_the_whole_body() -> None:
    assert asyncio.run(read_capped(_request([b"ab", b"cd"]), limit=4)) == b"abcd"


def test_read_capped_refuses_a_declared_length_over_the_limit() -> None:
    with pytest.raises(BodyTooLarge):
        asyncio.run(read_capped(_request([b"a"], {"content-length": "5"}), limit=4))


def test_read_capped_refuses_a_stream_over_the_limit() -> None:
    with pytest.raises(BodyTooLarge):
        asyncio.run(read_capped(_request([b"abc", b"de"]), limit=4))


def test_parse_json_reads_strict_json() -> None:
    assert parse_json(b'{"a": [1, 2.5, "\\u00e9", null]}') == {"a": [1, 2.5, "é", None]}


@pytest.mark.parametrize("raw", [b"NaN", b'{"a": Infinity}', b"-Infinity"])
def test_parse_json_refuses_nan_and_infinity(raw: bytes) -> None:
    with pytest.raises(InvalidJson):
        parse_json(raw)


def test_parse_json_says_where_the_syntax_breaks() -> None:
    with pytest.raises(InvalidJson) as raised:
        parse_json(b'{\n  "a": 1,\n}')
    assert "line 3, column 1" in raised.value.detail


def test_parse_json_refuses_bytes_that_are_not_utf8() -> None:
    with pytest.raises(InvalidJson) as raised:
        parse_json(b'{"a": "\xff"}')
    assert raised.value.detail == "The body is not UTF-8."


def test_parse_json_takes_the_deepest_nesting_allowed() -> None:
    assert parse_json(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)


def test_parse_json_refuses_deeper_nesting() -> None:
    deeper = MAX_JSON_DEPTH + 1
    assert _issues(b"[" * deeper + b"]" * deeper) == [("", "too_deep")]


def test_parse_json_names_each_lone_surrogate() -> None:
    raw = b'{"text": "a\\ud800", "ok": "\\ud83d\\ude00", "k\\udfff": 1}'
    assert sorted(_issues(raw)) == [
        ("k\\udfff", "invalid_character"),
        ("text", "invalid_character"),
    ]


def test_parse_json_names_a_number_beyond_a_double() -> None:
    assert _issues(b'{"n": [1, 1e400]}') == [("n.1", "invalid_number")]


def test_parse_json_names_at_most_max_issues() -> None:
    raw = b"[" + b",".join([b'"\\ud800"'] * (MAX_ISSUES + 10)) + b"]"
    assert len(_issues(raw)) == MAX_ISSUES


class _Body(BaseModel):
    name: str


@pytest.fixture
def typed_client(tmp_path: Path) -> Iterator[TestClient]:
    app = FastAPI()
    install_error_handlers(app)
    settings = Settings(data_dir=tmp_path / "d", max_body_bytes=64)
    app.state.runtime = Runtime(
        settings=settings, fixtures=load_fixtures(PACKAGED_FIXTURES), ready=True
    )
    router = APIRouter(route_class=JsonBodyRoute)

    @router.post("/typed")
    async def typed(body: _Body) -> dict[str, str]:
        return {"name": body.name}

    app.include_router(router)
    with TestClient(app) as client:
        yield client


def test_json_body_route_passes_a_checked_body_to_the_model(typed_client: TestClient) -> None:
    response = typed_client.post("/typed", json={"name": "Zoé"})
    assert response.json() == {"name": "Zoé"}


def test_json_body_route_refuses_a_body_over_the_cap(typed_client: TestClient) -> None:
    response = typed_client.post("/typed", json={"name": "x" * 100})
    assert_problem(response, 413, "body_too_large")


def test_json_body_route_refuses_another_media_type(typed_client: TestClient) -> None:
    response = typed_client.post(
        "/typed", content=b"name=x", headers={"Content-Type": "text/plain"}
    )
    assert_problem(response, 415, "unsupported_media_type")


def test_json_body_route_refuses_nan(typed_client: TestClient) -> None:
    response = typed_client.post(
        "/typed", content=b'{"name": NaN}', headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400, "invalid_json")


def test_json_body_route_empty_body_is_a_missing_body(typed_client: TestClient) -> None:
    response = typed_client.post("/typed", headers={"Content-Type": "application/json"})
    assert_problem(response, 422, "validation_failed")


def test_json_body_route_before_ready_is_not_ready(typed_client: TestClient) -> None:
    typed_client.app.state.runtime.ready = False  # type: ignore[attr-defined]
    response = typed_client.post("/typed", json={"name": "x"})
    assert response.status_code == 503
