"""The dashboard `GET /` and its sign-in when OMNIDOC_ADMIN_TOKEN is set (SPEC §6).

The page is a shell: its script reads the admin API (`/_sandbox/admin/…`) and follows
it live. With a token, a form asks for it once; the browser then keeps a value derived
from it in an HttpOnly, SameSite=Strict cookie, never the token itself and never in a URL.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from app.errors import ApiError
from app.http.deps import BaseUrlDep, RuntimeDep, is_admin
from app.pages import labels_fr, review, web
from app.pages import url_method as prefill

router = APIRouter(include_in_schema=False)


def _sign_in_page(request: Request, runtime: RuntimeDep, *, failed: bool) -> Response:
    status = 401 if failed else 200
    context = {"failed": failed}
    return web.render(request, "dashboard_sign_in.html", context, runtime=runtime, status=status)


@router.get("/")
def dashboard(request: Request, runtime: RuntimeDep, base_url: BaseUrlDep) -> Response:
    """The dashboard, or the token form when a token is set and this browser has none."""
    if not is_admin(request, runtime.settings):
        return _sign_in_page(request, runtime, failed=False)
    form = review.FormView(
        fields={name: review.FieldView() for name in prefill.PARAMETERS},
    )
    context: dict[str, Any] = {
        "api_keys": runtime.fixtures.api_keys,
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
    if not hmac.compare_digest(posted.get("token", "").encode(), token.encode()):
        return _sign_in_page(request, runtime, failed=True)
    response = RedirectResponse("/", status_code=303)
    web.set_admin_session(response, request, token)
    return response


@router.post("/_sandbox/admin/sign-out")
async def admin_sign_out(request: Request, runtime: RuntimeDep) -> Response:
    """Forget the dashboard's session cookie."""
    try:
        web.check_same_origin(request, runtime)
    except ApiError as exc:
        return web.page_for_error(request, exc, runtime=runtime)
    response = RedirectResponse("/", status_code=303)
    web.clear_admin_session(response)
    return response
