"""KeyedRoute (the create's handler without per-call dependency solving): what it checks
the way FastAPI's own handler did, and which endpoints it takes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel

from app.config import Settings
from app.drafts import endpoints as interop
from app.http.deps import CurrentKey
from app.http.keyed_route import KeyedRoute, KeyedRouteShortcut, get_route_path
from app.main import create_app
from tests.helpers import AUTHOR, assert_problem, auth, wait_ready

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


def _without_shortcut(settings: Settings) -> FastAPI:
    app = create_app(settings)
    shortcut: object = KeyedRouteShortcut
    app.user_middleware = [m for m in app.user_middleware if m.cls is not shortcut]
    return app


# Creates that take each way out of the handler: a draft, a draft with warnings, field
# errors, a body that is not JSON, another media type, no key, a body too large.
_JSON = {"Content-Type": "application/json"}
_CALLS: list[tuple[str, dict[str, Any]]] = [
    (URL, {"json": {"author_rpps": AUTHOR, "text": "x"}}),
    (URL + "/", {"json": {"author_rpps": AUTHOR, "extra": 1}}),
    (URL, {"json": {"author_rpps": "123", "patient": {"nir": "1" * 14}}}),
    (URL, {"content": b"{not json", "headers": _JSON}),
    (URL, {"content": b"x", "headers": {"Content-Type": "text/plain"}}),
    (URL, {"json": {}, "headers": {"Authorization": "Bearer nope"}}),
    (URL, {"content": b" " * 70_000, "headers": _JSON}),
]


def _answer(
    client: TestClient, path: str, kwargs: dict[str, Any]
) -> tuple[int, dict[str, str], Any]:
    headers = {**auth(), **kwargs.pop("headers", {})}
    response = client.post(path, headers=headers, **kwargs)
    body = response.json()
    if response.status_code == 200:  # a new id each time
        body = {name: type(value).__name__ for name, value in body.items()}
    kept = {k: v for k, v in response.headers.items() if k not in ("content-length", "date")}
    return response.status_code, kept, body


def test_shortcut_answers_as_the_router_does(tmp_path: Path) -> None:
    """Every kind of answer of the create, with the shortcut and through the router."""
    answers = []
    for name, build in (("shortcut", create_app), ("router", _without_shortcut)):
        settings = Settings(data_dir=tmp_path / name, max_body_bytes=65_536)
        with TestClient(build(settings)) as client:
            wait_ready(client)
            answers.append([_answer(client, path, dict(kwargs)) for path, kwargs in _CALLS])
    shortcut, router = answers
    assert [status for status, _, _ in shortcut] == [200, 200, 422, 400, 415, 401, 413]
    assert shortcut == router


def test_shortcut_takes_the_keyed_routes_only(client: TestClient) -> None:
    """The create's two paths, nothing else (the router keeps every other call)."""
    shortcut = KeyedRouteShortcut(client.app, routers=[interop.router])
    assert {key: route.endpoint for key, (route, _) in shortcut._handlers.items()} == {
        ("POST", URL): interop.create_draft,
        ("POST", URL + "/"): interop.create_draft,
    }


@pytest.mark.parametrize(
    ("path", "root_path", "expected"),
    [
        ("/api/interop/v1/drafts", "", "/api/interop/v1/drafts"),
        ("/sandbox/api/interop/v1/drafts", "/sandbox", "/api/interop/v1/drafts"),
        ("/sandbox", "/sandbox", ""),
        ("/sandboxed/x", "/sandbox", "/sandboxed/x"),  # a prefix of a segment is not a root
        ("/other/x", "/sandbox", "/other/x"),
    ],
)
def test_get_route_path_as_the_router_matches(path: str, root_path: str, expected: str) -> None:
    assert get_route_path({"type": "http", "path": path, "root_path": root_path}) == expected
