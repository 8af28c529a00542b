"""KeyedRoute (the create's handler without per-call dependency solving): what it checks
the way FastAPI's own handler did, and which endpoints it takes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, Request, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel

from app.config import Settings
from app.deps import CurrentKey
from app.keyed_route import KeyedRoute
from app.main import create_app
from tests.helpers import assert_problem, auth

URL = "/api/interop/v1/drafts"


def test_create_draft_before_ready_is_not_ready(tmp_path: Path) -> None:
    # Without `with`, the lifespan never runs: the app has no runtime yet.
    client = TestClient(create_app(Settings(data_dir=tmp_path / "data")))
    assert_problem(client.post(URL, json={}, headers=auth()), 503, "not_ready")


def test_create_draft_warnings_header_and_body_together(client: TestClient) -> None:
    response = client.post(URL, json={"extra": 1}, headers=auth())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(response.content))
    assert (
        response.headers["Omnidoc-Sandbox-Warnings"] == '[{"field":"extra","code":"unknown_field"}]'
    )
    assert set(response.json()) == {"id", "redirect_url"}


class _Out(BaseModel):
    ok: bool


def test_keyed_route_refuses_an_endpoint_of_another_shape() -> None:
    async def endpoint(api_key: CurrentKey, request: Request, response: Response, x: int) -> _Out:
        return _Out(ok=True)

    router = APIRouter()
    with pytest.raises(TypeError, match="must take"):
        router.add_api_route("/x", endpoint, methods=["POST"], route_class_override=KeyedRoute)
