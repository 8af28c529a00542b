"""What every page shares: sizes and file names, the sign-in, same-origin posts, forms,
the French error pages."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi import Request
from fastapi.responses import Response

from app.config import PACKAGED_FIXTURES, Settings
from app.errors import (
    AdminTooManyFailures,
    ApiError,
    BodyTooLarge,
    CrossOriginRequest,
    DraftNotFound,
    InvalidTransition,
    ValidationFailed,
)
from app.fixtures import load_fixtures
from app.http.deps import ADMIN_COOKIE
from app.pages import web
from app.runtime import Runtime
from tests.helpers import AUTHOR


@pytest.fixture
def runtime(tmp_path: Path) -> Runtime:
    settings = Settings(data_dir=tmp_path / "data")
    return Runtime(settings=settings, fixtures=load_fixtures(PACKAGED_FIXTURES))


def _request(
    headers: dict[str, str] | None = None, body: list[bytes] | None = None, method: str = "POST"
) -> Request:
    chunks = list(body or [])

    async def receive() -> dict[str, object]:
        if chunks:
            return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "type": "http",
        "method": method,
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "path": "/interop/drafts/x/publish",
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    return Request(scope, receive)


def _accepted(request: Request, runtime: Runtime) -> bool:
    """Whether check_same_origin lets the post through (it raises to refuse it)."""
    try:
        web.check_same_origin(request, runtime)
    except CrossOriginRequest:
        return False
    return True


def test_file_size_in_octets_ko_and_mo() -> None:
    assert web.file_size(512) == "512 octets"
    assert web.file_size(1536) == "1,5 Ko"
    assert web.file_size(3 * 1024 * 1024) == "3,0 Mo"


def test_content_disposition_has_an_ascii_fallback_and_the_exact_name() -> None:
    header = web.content_disposition("attachment", 'compte "rendu" é%.pdf')
    assert header == (
        'attachment; filename="compte _rendu_ __.pdf"; '
        "filename*=UTF-8''compte%20%22rendu%22%20%C3%A9%25.pdf"
    )


def test_signed_in_names_a_practitioner_of_the_directory(runtime: Runtime) -> None:
    me = web.signed_in(_request({"Cookie": f"{web.SIGN_IN_COOKIE}={AUTHOR}"}), runtime)
    assert me is not None and me.rpps == AUTHOR


def test_signed_in_with_an_unknown_rpps_is_nobody(runtime: Runtime) -> None:
    assert web.signed_in(_request({"Cookie": f"{web.SIGN_IN_COOKIE}=10000000000"}), runtime) is None
    assert web.signed_in(_request(), runtime) is None


def test_set_sign_in_is_http_only_and_strict() -> None:
    response = Response()
    web.set_sign_in(response, _request(), AUTHOR)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{web.SIGN_IN_COOKIE}={AUTHOR};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back


def test_clear_sign_in_expires_the_cookie() -> None:
    response = Response()
    web.clear_sign_in(response)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f'{web.SIGN_IN_COOKIE}="";') and "Max-Age=0" in cookie


def test_set_admin_session_lasts_twelve_hours() -> None:
    response = Response()
    web.set_admin_session(response, _request(), "session-id")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{ADMIN_COOKIE}=session-id;")
    assert "Max-Age=43200" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_clear_admin_session_expires_the_cookie() -> None:
    response = Response()
    web.clear_admin_session(response)
    assert "Max-Age=0" in response.headers["set-cookie"]


def test_check_same_origin_accepts_a_post_from_the_page(runtime: Runtime) -> None:
    assert _accepted(_request({"Origin": "http://127.0.0.1:8000"}), runtime)


@pytest.mark.parametrize("site", [None, "same-origin", "none"])
def test_check_same_origin_accepts_a_post_without_origin(runtime: Runtime, site: str) -> None:
    assert _accepted(_request({"Sec-Fetch-Site": site} if site else {}), runtime)


def test_check_same_origin_refuses_another_site(runtime: Runtime) -> None:
    assert not _accepted(_request({"Origin": "http://evil.example"}), runtime)


def test_check_same_origin_refuses_cross_site_without_origin(runtime: Runtime) -> None:
    assert not _accepted(_request({"Sec-Fetch-Site": "cross-site"}), runtime)


def test_check_same_origin_accepts_the_configured_base_url(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", base_url="https://Sandbox.LAN")
    runtime = Runtime(settings=settings, fixtures=load_fixtures(PACKAGED_FIXTURES))
    assert _accepted(_request({"Origin": "https://sandbox.lan"}), runtime)


def test_read_form_keeps_the_first_value_and_turns_crlf_into_lf() -> None:
    request = _request(body=[b"text=a%0D%0Ab&name=", b"x&name=y"])
    assert asyncio.run(web.read_form(request, limit=100)) == {"text": "a\nb", "name": "x"}


def test_read_form_refuses_a_declared_length_over_the_limit() -> None:
    request = _request({"Content-Length": "101"}, body=[b"a=1"])
    with pytest.raises(BodyTooLarge):
        asyncio.run(web.read_form(request, limit=100))


def test_read_form_refuses_a_streamed_body_over_the_limit() -> None:
    request = _request(body=[b"a=" + b"x" * 60, b"y" * 60])
    with pytest.raises(BodyTooLarge):
        asyncio.run(web.read_form(request, limit=100))


def test_read_form_refuses_too_many_fields() -> None:
    body = "&".join(f"f{i}=1" for i in range(web.MAX_FORM_FIELDS + 1)).encode()
    with pytest.raises(ValidationFailed):
        asyncio.run(web.read_form(_request(body=[body]), limit=10_000))


def test_render_sends_the_page_headers(runtime: Runtime) -> None:
    response = web.render(_request(method="GET"), "not_found.html", {}, runtime=runtime, status=404)
    assert response.status_code == 404
    assert response.headers["content-security-policy"] == web.CSP
    assert response.headers["cache-control"] == "no-store"
    assert "<html" in bytes(response.body).decode()


def test_page_for_error_of_an_unknown_draft_is_the_not_found_page(runtime: Runtime) -> None:
    response = web.page_for_error(_request(), DraftNotFound(), runtime=runtime)
    assert response.status_code == 404
    assert response.template.name == "not_found.html"  # type: ignore[attr-defined]


def test_page_for_error_says_in_french_what_failed(runtime: Runtime) -> None:
    response = web.page_for_error(_request(), InvalidTransition(), runtime=runtime, back="/x")
    assert response.status_code == InvalidTransition.status
    assert response.context["title"] == "Action impossible"  # type: ignore[attr-defined]
    assert response.context["back"] == "/x"  # type: ignore[attr-defined]


def test_page_for_error_keeps_retry_after(runtime: Runtime) -> None:
    response = web.page_for_error(_request(), AdminTooManyFailures(42), runtime=runtime)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "42"
    assert response.context["title"] == "Trop de tentatives"  # type: ignore[attr-defined]


def test_page_for_error_of_an_unlisted_code_is_general(runtime: Runtime) -> None:
    response = web.page_for_error(_request(), ValidationFailed(), runtime=runtime)
    assert response.context["title"] == "Formulaire invalide"  # type: ignore[attr-defined]
    response = web.page_for_error(_request(), ApiError(), runtime=runtime)
    assert response.status_code == 500
    assert response.context["message"] == "La demande n'a pas pu être traitée."  # type: ignore[attr-defined]


def test_static_files_serve_the_package_static_folder() -> None:
    assert (web.STATIC_DIR / "omnidoc.css").is_file()
    assert web.static_files().directory == web.STATIC_DIR
