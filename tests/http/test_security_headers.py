"""Every response carries the security headers (SPEC §7; issue 19, item 1): each route of
the app, the docs, static files, 404s and the problem answers alike."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount

from app.main import app
from app.pages.web import CSP

SOME_ID = "00000000-0000-4000-8000-000000000000"
_PARAM = re.compile(r"\{[^}]+\}")


def _flat(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI's include_router
        if included is not None:
            yield from _flat(included.routes)
        else:
            yield route


def _calls() -> list[tuple[str, str]]:
    """One call per route of the app: its first method, its path with ids filled in."""
    calls = []
    for route in _flat(app.routes):
        path = _PARAM.sub(SOME_ID, getattr(route, "path", ""))
        if isinstance(route, Mount):
            calls.append(("GET", f"{path}/{SOME_ID}"))  # a file that is not there: 404
            continue
        methods = sorted(getattr(route, "methods", None) or {"GET"})
        method = next((m for m in methods if m != "HEAD"), methods[0])
        calls.append((method, path or "/"))
    return calls


CALLS = sorted(set(_calls()))
# Beyond the routes' own paths: a real static file, the docs' assets, an unknown path,
# an error page of the catalogue, HEAD and a wrong method.
EXTRA = [
    ("GET", "/static/omnidoc.css"),
    ("GET", "/errors/host_not_allowed"),
    ("GET", "/no/such/path"),
    ("HEAD", "/docs"),
    ("DELETE", "/openapi.json"),
]


def assert_security_headers(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    policies = headers.get_list("content-security-policy")
    assert any("frame-ancestors 'none'" in policy for policy in policies), policies
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


def test_every_route_family_is_covered() -> None:
    paths = {path for _, path in CALLS}
    for expected in ("/docs", "/redoc", "/openapi.json", "/errors/" + SOME_ID, "/"):
        assert expected in paths
    assert any(path.startswith("/static/") for path in paths)
    assert any(path.startswith("/api/interop/v1/") for path in paths)
    assert len(CALLS) > 40


@pytest.mark.parametrize(("method", "path"), CALLS + EXTRA)
def test_every_response_has_the_security_headers(
    client: TestClient, method: str, path: str
) -> None:
    response = client.request(method, path, follow_redirects=False)
    assert response.status_code < 500, response.text
    assert_security_headers(response)


def test_a_page_keeps_its_fuller_policy(client: TestClient) -> None:
    response = client.get("/interop/drafts/new")
    assert response.headers.get_list("content-security-policy") == [CSP]
    assert_security_headers(response)


def test_the_headers_on_a_keyed_call(client: TestClient) -> None:
    """The create's shortcut past the router (app.keyed_route) answers with them too."""
    response = client.post(
        "/api/interop/v1/drafts", json={}, headers={"Authorization": "Bearer sandbox-key-a"}
    )
    assert response.status_code == 200
    assert_security_headers(response)
    assert_security_headers(client.post("/api/interop/v1/drafts", json={}))  # 401
