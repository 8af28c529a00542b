"""The admin token (OMNIDOC_ADMIN_TOKEN): the admin routes, the dashboard's sign-in, isolation."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings, get_settings
from app.fixtures import FixtureError
from app.http.deps import ADMIN_COOKIE
from app.main import create_app
from app.models import AdminSession, utcnow
from tests.helpers import KEY_A, assert_problem, auth, create_draft, wait_ready
from tests.page_client import OTHER_SITE, SAME_ORIGIN, post_page

TOKEN = "adm-7f3a9c1e"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
SOME_ID = "00000000-0000-4000-8000-000000000000"
# Every route of the admin scope, with what it answers once the token is right.
ADMIN_ROUTES = [
    ("GET", "/_sandbox/admin/drafts", 200),
    ("GET", f"/_sandbox/admin/drafts/{SOME_ID}/files/{SOME_ID}", 404),
    ("GET", "/_sandbox/admin/requests", 200),
    ("GET", "/_sandbox/admin/deliveries", 200),
    ("POST", f"/_sandbox/admin/deliveries/{SOME_ID}/redeliver", 404),
    ("GET", "/_sandbox/admin/inboxes", 200),
    ("GET", "/_sandbox/admin/keys", 200),
    ("POST", "/_sandbox/admin/keys", 422),
    ("DELETE", "/_sandbox/admin/keys/sandbox-key-a", 409),
    ("DELETE", "/_sandbox/admin/keys/sbx_unknown", 404),
    ("GET", "/_sandbox/admin/changes", 200),
    ("POST", "/_sandbox/admin/reset", 200),
    ("POST", "/_sandbox/admin/keys/sandbox-key-a/reset", 200),
    ("GET", "/_sandbox/inbox/demo", 200),
]


@pytest.fixture
def guarded(tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    """A sandbox whose admin scope needs TOKEN."""
    settings = Settings(data_dir=tmp_path / "d", database_url=database_url, admin_token=TOKEN)
    with TestClient(create_app(settings)) as test_client:
        wait_ready(test_client)
        yield test_client


def signed_in(client: TestClient) -> None:
    response = post_page(client, "/_sandbox/admin/sign-in", {"token": TOKEN})
    assert response.status_code == 303, response.text


@pytest.mark.parametrize(("method", "path", "status"), ADMIN_ROUTES)
def test_admin_routes_need_the_token(
    guarded: TestClient, method: str, path: str, status: int
) -> None:
    response = guarded.request(method, path)
    assert_problem(response, 401, "admin_unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path", "status"), ADMIN_ROUTES)
def test_admin_routes_refuse_a_vendor_key(
    guarded: TestClient, method: str, path: str, status: int
) -> None:
    assert_problem(guarded.request(method, path, headers=auth(KEY_A)), 401, "admin_unauthorized")


@pytest.mark.parametrize(("method", "path", "status"), ADMIN_ROUTES)
def test_admin_routes_refuse_a_key_added_at_run_time(
    guarded: TestClient, method: str, path: str, status: int
) -> None:
    added = guarded.post("/_sandbox/admin/keys", json={"name": "Vendor C"}, headers=ADMIN)
    key = added.json()["key"]
    assert guarded.get("/_sandbox/webhook", headers=auth(key)).status_code == 200  # a vendor key
    assert_problem(guarded.request(method, path, headers=auth(key)), 401, "admin_unauthorized")


@pytest.mark.parametrize(("method", "path", "status"), ADMIN_ROUTES)
def test_admin_routes_accept_the_token(
    guarded: TestClient, method: str, path: str, status: int
) -> None:
    assert guarded.request(method, path, headers=ADMIN).status_code == status


@pytest.mark.parametrize(("method", "path", "status"), ADMIN_ROUTES)
def test_admin_routes_are_open_without_a_token(
    client: TestClient, method: str, path: str, status: int
) -> None:
    assert client.request(method, path, headers=SAME_ORIGIN).status_code == status


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/interop/v1/drafts"),
        ("GET", "/_sandbox/requests"),
        ("POST", "/_sandbox/reset"),
    ],
)
def test_admin_token_is_refused_as_a_vendor_key(
    guarded: TestClient, method: str, path: str
) -> None:
    assert_problem(guarded.request(method, path, json={}, headers=ADMIN), 401, "unauthorized")


def test_admin_token_equal_to_a_vendor_key_stops_the_start(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", admin_token=KEY_A)
    with (
        pytest.raises(FixtureError, match="equals OMNIDOC_ADMIN_TOKEN"),
        TestClient(create_app(settings)),
    ):
        pass


def test_serve_refuses_an_admin_token_equal_to_a_vendor_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OMNIDOC_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("OMNIDOC_ADMIN_TOKEN", KEY_A)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve", "--port", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "api_keys[0] (Vendor A): its key equals OMNIDOC_ADMIN_TOKEN" in result.output
    assert KEY_A not in result.output.replace("sandbox-key-a and", "")


def test_dashboard(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert 'id="drafts"' in response.text
    assert '<script type="module" src="/static/dashboard.js"></script>' in response.text
    assert "<script>" not in response.text  # no inline script
    assert 'data-base-url="http://testserver"' in response.text


def test_dashboard_asks_for_the_token(guarded: TestClient) -> None:
    response = guarded.get("/")
    assert response.status_code == 200
    assert 'action="/_sandbox/admin/sign-in"' in response.text
    assert 'type="password"' in response.text
    assert 'id="drafts"' not in response.text


def test_admin_sign_in_keeps_an_httponly_strict_cookie(guarded: TestClient) -> None:
    response = post_page(guarded, "/_sandbox/admin/sign-in", {"token": TOKEN})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{ADMIN_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/" in cookie
    assert TOKEN not in cookie  # a random session id, not the token
    assert "Max-Age=43200" in cookie  # 12 h at most (SPEC §7)
    assert 'id="drafts"' in guarded.get("/").text


def test_admin_sign_in_cookie_opens_the_admin_api(guarded: TestClient) -> None:
    create_draft(guarded)
    signed_in(guarded)
    assert len(guarded.get("/_sandbox/admin/drafts").json()["items"]) == 1
    assert guarded.post("/_sandbox/admin/reset", headers=SAME_ORIGIN).status_code == 200


def test_admin_cookie_never_opens_vendor_routes(guarded: TestClient) -> None:
    signed_in(guarded)
    assert_problem(guarded.post("/api/interop/v1/drafts", json={}), 401, "unauthorized")


def test_admin_sign_in_with_a_wrong_token(guarded: TestClient) -> None:
    for wrong in ("nope", KEY_A, "", TOKEN + " "):
        response = post_page(guarded, "/_sandbox/admin/sign-in", {"token": wrong})
        assert response.status_code == 401
        assert "Jeton incorrect" in response.text
        assert "set-cookie" not in response.headers
    assert_problem(guarded.get("/_sandbox/admin/drafts"), 401, "admin_unauthorized")


def test_admin_sign_in_from_another_site(guarded: TestClient) -> None:
    response = guarded.post(
        "/_sandbox/admin/sign-in", data={"token": TOKEN}, headers=OTHER_SITE, follow_redirects=False
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_admin_forged_cookie_is_refused(guarded: TestClient) -> None:
    guarded.cookies.set(ADMIN_COOKIE, TOKEN)  # the token itself is not the session value
    assert_problem(guarded.get("/_sandbox/admin/drafts"), 401, "admin_unauthorized")


def test_admin_sign_out(guarded: TestClient) -> None:
    signed_in(guarded)
    response = post_page(guarded, "/_sandbox/admin/sign-out")
    assert response.status_code == 303
    assert f'{ADMIN_COOKIE}=""' in response.headers["set-cookie"]
    assert 'action="/_sandbox/admin/sign-in"' in guarded.get("/").text


def _session_value(client: TestClient) -> str:
    """Sign in afresh; the session cookie's value."""
    client.cookies.clear()
    response = post_page(client, "/_sandbox/admin/sign-in", {"token": TOKEN})
    assert response.status_code == 303, response.text
    value: str | None = client.cookies.get(ADMIN_COOKIE)
    assert value
    return value


def _opens_admin(client: TestClient, value: str) -> bool:
    client.cookies.clear()
    client.cookies.set(ADMIN_COOKIE, value)
    status: int = client.get("/_sandbox/admin/drafts").status_code
    assert status in (200, 401)
    return status == 200


def test_each_sign_in_sets_a_fresh_random_session(guarded: TestClient) -> None:
    values = {_session_value(guarded) for _ in range(3)}
    assert len(values) == 3  # never the same value twice, never derivable from the token
    for value in values:
        assert len(value) >= 43  # 32 random bytes
        assert TOKEN not in value
        assert value != hmac.new(TOKEN.encode(), b"omnidoc-sandbox dashboard", "sha256").hexdigest()
        assert _opens_admin(guarded, value)  # each one its own open session


def test_sign_out_ends_the_session_on_the_server(guarded: TestClient) -> None:
    kept, other = _session_value(guarded), _session_value(guarded)
    guarded.cookies.set(ADMIN_COOKIE, kept)
    assert post_page(guarded, "/_sandbox/admin/sign-out").status_code == 303
    assert not _opens_admin(guarded, kept)  # a copy of the old cookie opens nothing
    assert 'action="/_sandbox/admin/sign-in"' in guarded.get("/").text
    assert _opens_admin(guarded, other)  # another browser's session is its own


def test_an_expired_session_is_refused(guarded: TestClient) -> None:
    value = _session_value(guarded)
    engine = guarded.app.state.runtime.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        session.execute(update(AdminSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    assert not _opens_admin(guarded, value)


def test_sessions_are_kept_in_the_database(tmp_path: Path, database_url: str | None) -> None:
    """Across a restart (and so across workers) a session holds; a new token ends it."""
    settings = Settings(data_dir=tmp_path / "d", database_url=database_url, admin_token=TOKEN)
    with TestClient(create_app(settings)) as first:
        wait_ready(first)
        value = _session_value(first)
        assert first.post("/_sandbox/admin/reset", headers=SAME_ORIGIN).status_code == 200
        assert _opens_admin(first, value)  # the admin reset does not sign its admin out
    with TestClient(create_app(settings)) as again:
        wait_ready(again)
        assert _opens_admin(again, value)
    changed = settings.model_copy(update={"admin_token": TOKEN + "-new"})
    with TestClient(create_app(changed)) as other_token:
        wait_ready(other_token)
        assert not _opens_admin(other_token, value)


def test_openapi_admin_scope_has_its_own_scheme(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["adminToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["adminToken"]["description"],
    }
    admin_paths = {
        p: ops for p, ops in document["paths"].items() if p.startswith("/_sandbox/admin")
    }
    assert len(admin_paths) == 14  # + per-key reset, keys, receiver checks, export, import
    for ops in admin_paths.values():
        for op in ops.values():
            assert op["tags"] == ["Sandbox-defined"]
            assert op["security"] == [{"adminToken": []}, {}]  # open while unset
    inbox = document["paths"]["/_sandbox/inbox/{name}"]["get"]
    assert inbox["security"] == [{"adminToken": []}, {}]
    vendor = document["paths"]["/_sandbox/requests"]["get"]["security"]
    assert vendor == [{"vendorKey": []}]
