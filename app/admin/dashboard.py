"""The dashboard `GET /` and its sign-in when OMNIDOC_ADMIN_TOKEN is set (SPEC §6).

The page is a shell: its script reads the admin API (`/_sandbox/admin/…`) and follows
it live. With a token, a form asks for it once; the browser then keeps a random session
id (app.http.admin_sessions, at most 12 h) in an HttpOnly, SameSite=Strict cookie, never the
token nor anything derived from it, never in a URL. "Se déconnecter" ends it server-side.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from app.db import read_session
from app.errors import AdminTooManyFailures, ApiError
from app.fixtures import ApiKeyFixture
from app.http import admin_sessions as sessions
from app.http import api_keys
from app.http.deps import ADMIN_COOKIE, BaseUrlDep, RuntimeDep, client_address, is_admin
from app.pages import labels_fr, review, web
from app.pages import url_method as prefill

router = APIRouter(include_in_schema=False)


def _sign_in_page(request: Request, runtime: RuntimeDep, *, failed: bool) -> Response:
    status = 401 if failed else 200
    context = {"failed": failed}
    return web.render(request, "dashboard_sign_in.html", context, runtime=runtime, status=status)


def _keys(runtime: RuntimeDep) -> list[tuple[ApiKeyFixture, api_keys.KeySource]]:
    assert runtime.engine is not None
    with read_session(runtime.engine) as session:
        return api_keys.all_keys(session, runtime.fixtures)


@router.get("/")
def dashboard(request: Request, runtime: RuntimeDep, base_url: BaseUrlDep) -> Response:
    """The dashboard, or the token form when a token is set and this browser has none."""
    if not is_admin(request, runtime):
        return _sign_in_page(request, runtime, failed=False)
    form = review.FormView(
        fields={name: review.FieldView() for name in prefill.PARAMETERS},
    )
    context: dict[str, Any] = {
        "api_keys": [key for key, _ in _keys(runtime)],
        "practitioners": runtime.fixtures.practitioners,
        "sections": labels_fr.SECTIONS,
        "form": form,
        "base_url": base_url,
        "token_set": bool(runtime.settings.admin_token),
    }
    return web.render(request, "dashboard.html", context, runtime=runtime)


@router.post("/_sandbox/admin/sign-in")
async def admin_sign_in(request: Request, runtime: RuntimeDep) -> Response:
    """Check the token typed in the form; keep the dashboard's session cookie."""
    token = runtime.settings.admin_token
    try:
        web.check_same_origin(request, runtime)
        posted = await web.read_form(request, limit=runtime.settings.max_body_bytes)
    except ApiError as exc:
        return web.page_for_error(request, exc, runtime=runtime)
    if not token:
        return RedirectResponse("/", status_code=303)  # nothing to sign in to
    client = client_address(request)
    wait = runtime.admin_failures.retry_after(client)
    if wait is not None:
        return web.page_for_error(request, AdminTooManyFailures(wait), runtime=runtime)
    if not hmac.compare_digest(posted.get("token", "").encode(), token.encode()):
        runtime.admin_failures.failed(client)
        return _sign_in_page(request, runtime, failed=True)
    assert runtime.engine is not None
    value = await run_in_threadpool(sessions.start, runtime.engine, token=token)
    response = RedirectResponse("/", status_code=303)
    web.set_admin_session(response, request, value)
    return response


@router.post("/_sandbox/admin/sign-out")
async def admin_sign_out(request: Request, runtime: RuntimeDep) -> Response:
    """End the dashboard's session on the server, and forget its cookie."""
    try:
        web.check_same_origin(request, runtime)
    except ApiError as exc:
        return web.page_for_error(request, exc, runtime=runtime)
    token, value = runtime.settings.admin_token, request.cookies.get(ADMIN_COOKIE, "")
    if token and value:
        assert runtime.engine is not None
        await run_in_threadpool(sessions.end, runtime.engine, token=token, value=value)
    response = RedirectResponse("/", status_code=303)
    web.clear_admin_session(response)
    return response
