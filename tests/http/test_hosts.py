"""The `Host` allowlist (SPEC §1 OMNIDOC_ALLOWED_HOSTS; issue 19, item 2).

TestClient calls the app as a server bound to `testserver` would be called (its scope's
`server` is ("testserver", 80), its Host `testserver`): the rule "the address the
connection came to" accepts it, as uvicorn's real socket address is accepted in use.
A forged Host differs from that address, as a rebinding attacker's name does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.http.hosts import HostAllowlistMiddleware, host_name
from app.main import create_app
from tests.helpers import AUTHOR, assert_problem, auth, create_draft, wait_ready
from tests.page_client import SAME_ORIGIN

FORGED = "rebind.attacker.example:8000"


def _client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        wait_ready(test_client)
        yield test_client


@pytest.fixture
def allowing(tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    """A sandbox called by its compose service name, allowed by the setting."""
    settings = Settings(
        data_dir=tmp_path / "d", database_url=database_url, allowed_hosts=" Sandbox , other:9"
    )
    yield from _client(settings)


def _forged(host: str, origin: bool = False) -> dict[str, str]:
    headers = {"Host": host}
    if origin:  # what the attacker's page sends with it: a matching Origin
        headers["Origin"] = f"http://{host}"
    return headers


def test_a_forged_host_on_an_admin_post_is_refused(client: TestClient) -> None:
    create_draft(client)
    response = client.post("/_sandbox/admin/reset", headers=_forged(FORGED, origin=True))
    body = assert_problem(response, 400, "host_not_allowed")
    assert body["detail"].startswith(
        f"Host '{FORGED}' is not allowed here: add it to OMNIDOC_ALLOWED_HOSTS"
    )
    assert "OMNIDOC_ALLOWED_HOSTS=rebind.attacker.example" in body["detail"]
    assert client.get("/_sandbox/admin/keys", headers=_forged(FORGED)).status_code == 400
    assert len(client.get("/_sandbox/admin/drafts").json()["items"]) == 1  # nothing wiped


def test_a_forged_host_on_a_page_post_is_refused(client: TestClient) -> None:
    draft_id = create_draft(client, {"author_rpps": AUTHOR})
    client.get(f"/interop/drafts/{draft_id}")
    response = client.post(
        f"/interop/drafts/{draft_id}/sign-in",
        data={"rpps": AUTHOR},
        headers=_forged(FORGED, origin=True),
        follow_redirects=False,
    )
    assert_problem(response, 400, "host_not_allowed")
    assert "set-cookie" not in response.headers


def test_a_forged_host_on_a_create_is_refused(client: TestClient) -> None:
    """Its redirect_url would name the attacker's host."""
    response = client.post("/api/interop/v1/drafts", json={}, headers=auth() | _forged(FORGED))
    assert_problem(response, 400, "host_not_allowed")
    assert client.get("/_sandbox/requests", headers=auth()).json()["items"] == []


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "localhost:8123",
        "127.0.0.1",
        "127.0.0.1:1",
        "[::1]",
        "[::1]:8000",
        "TestServer",
    ],
)
def test_loopback_names_and_the_bound_address_are_allowed(client: TestClient, host: str) -> None:
    response = client.post("/api/interop/v1/drafts", json={}, headers=auth() | {"Host": host})
    assert response.status_code == 200, response.text
    assert response.json()["redirect_url"].startswith(f"http://{host}/interop/drafts/")


@pytest.mark.parametrize(
    "host", ["localhost.attacker.example", "127.0.0.1.nip.io", "[::2]", "testserver.", "0.0.0.0"]
)
def test_names_that_only_look_local_are_refused(client: TestClient, host: str) -> None:
    assert_problem(client.get("/healthz", headers={"Host": host}), 400, "host_not_allowed")


def test_allowed_by_the_setting(allowing: TestClient) -> None:
    for host in ("sandbox:8000", "sandbox", "SANDBOX:1234", "other"):
        response = allowing.post("/api/interop/v1/drafts", json={}, headers=auth() | {"Host": host})
        assert response.status_code == 200, (host, response.text)
    draft_id = create_draft(allowing)
    response = allowing.post(
        "/_sandbox/admin/reset", headers={"Host": "sandbox:8000", "Origin": "http://sandbox:8000"}
    )
    assert response.status_code == 200
    assert allowing.get(f"/api/interop/v1/drafts/{draft_id}", headers=auth()).status_code == 404
    assert_problem(allowing.get("/healthz", headers=_forged(FORGED)), 400, "host_not_allowed")


def test_base_url_host_is_allowed(tmp_path: Path, database_url: str | None) -> None:
    settings = Settings(
        data_dir=tmp_path / "d", database_url=database_url, base_url="https://sandbox.example/"
    )
    for client in _client(settings):
        response = client.post(
            "/_sandbox/admin/reset",
            headers={"Host": "sandbox.example", "Origin": "https://sandbox.example"},
        )
        assert response.status_code == 200, response.text
        assert_problem(client.get("/healthz", headers=_forged(FORGED)), 400, "host_not_allowed")


def test_a_star_allows_any_host(tmp_path: Path, database_url: str | None) -> None:
    settings = Settings(data_dir=tmp_path / "d", database_url=database_url, allowed_hosts="*")
    for client in _client(settings):
        assert client.get("/healthz", headers=_forged(FORGED)).status_code == 200


def test_the_refusal_has_the_security_headers_and_a_page(client: TestClient) -> None:
    response = client.get("/", headers=_forged(FORGED))
    assert response.headers["x-frame-options"] == "DENY"
    page = client.get("/errors/host_not_allowed")
    assert page.status_code == 200
    assert "OMNIDOC_ALLOWED_HOSTS" in page.text
    assert client.post("/_sandbox/admin/reset", headers=SAME_ORIGIN).status_code == 200


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Sandbox:8000", "sandbox"),
        ("sandbox", "sandbox"),
        ("[::1]:8000", "::1"),
        ("[::1]", "::1"),
        ("127.0.0.1:", "127.0.0.1"),
        ("a:b:c", "a:b:c"),
        ("host:port", "host:port"),
        ("", ""),
    ],
)
def test_host_name(header: str, name: str) -> None:
    assert host_name(header) == name


def test_many_hosts_keep_the_same_answers(client: TestClient) -> None:
    """The middleware remembers its answers per Host, in a bounded table."""
    for n in range(300):
        response = client.get("/healthz", headers={"Host": f"h{n}.attacker.example"})
        assert response.status_code == 400
        if n % 50 == 0:
            assert client.get("/healthz", headers={"Host": "localhost"}).status_code == 200
    middleware = client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(middleware, HostAllowlistMiddleware):
        middleware = middleware.app
    assert 0 < len(middleware._seen) <= 256
