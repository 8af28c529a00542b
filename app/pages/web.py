"""What every page shares: templates, security headers, the mock sign-in, same-origin posts."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from app import formats
from app.errors import ApiError, BodyTooLarge, CrossOriginRequest, ValidationFailed
from app.fixtures import Practitioner
from app.http.admin_sessions import LIFETIME
from app.http.deps import ADMIN_COOKIE
from app.pages import labels_fr
from app.runtime import Runtime

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"

# Scripts and styles come from /static only: no inline code, nothing from elsewhere.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer, Chrome sends `Origin: null` on the
    # pages' own form posts, and the origin check below could not tell them apart.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

# The mock sign-in: the chosen practitioner's RPPS, checked against the directory on
# every request. HttpOnly (no script reads it), SameSite=Strict (no cross-site post carries it).
SIGN_IN_COOKIE = "omnidoc_sandbox_rpps"
MAX_FORM_FIELDS = 100


@lru_cache
def templates() -> Jinja2Templates:
    """Loaded with the first page, not at start (the API alone never needs Jinja2)."""
    import jinja2
    from fastapi.templating import Jinja2Templates

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True, auto_reload=False
    )
    env.globals["status_labels"] = labels_fr.STATUS_LABELS
    env.globals["zone_note"] = formats.ZONE_NOTE
    env.filters["fr_datetime"] = formats.fr_datetime
    env.filters["fr_time"] = formats.fr_time
    env.filters["fr_date"] = formats.fr_date
    env.filters["fr_amount"] = formats.fr_amount
    env.filters["file_size"] = file_size
    return Jinja2Templates(env=env)


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} octets"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} Ko".replace(".", ",")
    return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")


def content_disposition(kind: str, filename: str) -> str:
    """RFC 6266: an ASCII fallback, then the exact name as RFC 8187 `filename*`."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


def signed_in(request: Request, runtime: Runtime) -> Practitioner | None:
    """The practitioner of the sign-in cookie, if it names one of the directory."""
    rpps = request.cookies.get(SIGN_IN_COOKIE, "")
    return runtime.fixtures.practitioner(rpps) if rpps else None


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    runtime: Runtime,
    status: int = 200,
) -> HTMLResponse:
    """A page with the shared headers; `me` (the signed-in practitioner) for the header."""
    context = {"me": signed_in(request, runtime), **context}
    response = templates().TemplateResponse(
        request, name, context, status_code=status, headers=PAGE_HEADERS
    )
    assert isinstance(response, HTMLResponse)
    return response


# What a page says, in French, when a page action fails with one of these codes.
_PAGE_ERRORS: dict[str, tuple[str, str]] = {
    "cross_origin_request": (
        "Requête refusée",
        "Ce formulaire doit être envoyé depuis les pages du sandbox elles-mêmes : "
        "une requête venue d'un autre site est refusée par sécurité.",
    ),
    "invalid_transition": (
        "Action impossible",
        "L'état actuel de la demande ne permet pas cette action. Revenez à la demande : "
        "elle affiche son statut à jour.",
    ),
    "report_not_ready": (
        "Compte rendu pas encore disponible",
        "Le compte rendu existe une fois la téléexpertise terminée.",
    ),
    "file_not_found": ("Fichier introuvable", "Ce fichier n'est pas joint à cette demande."),
    "body_too_large": ("Formulaire trop volumineux", "Le formulaire envoyé est trop volumineux."),
    "validation_failed": ("Formulaire invalide", "Le formulaire envoyé n'a pas pu être lu."),
    "admin_too_many_failures": (
        "Trop de tentatives",
        "Trop de jetons incorrects ont été envoyés depuis ce poste. Attendez une minute, "
        "puis réessayez avec le jeton OMNIDOC_ADMIN_TOKEN.",
    ),
}


def page_for_error(
    request: Request, exc: ApiError, *, runtime: Runtime, back: str | None = None
) -> HTMLResponse:
    """The French page for a failed page action; an unknown draft is the 404 page."""
    if exc.code == "draft_not_found":
        return render(request, "not_found.html", {}, runtime=runtime, status=404)
    title, message = _PAGE_ERRORS.get(
        exc.code, ("Action impossible", "La demande n'a pas pu être traitée.")
    )
    context = {"title": title, "message": message, "back": back}
    response = render(request, "error.html", context, runtime=runtime, status=exc.status)
    if "Retry-After" in exc.headers:  # a 429: when to try again
        response.headers["Retry-After"] = exc.headers["Retry-After"]
    return response


def _set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None = None
) -> None:
    """Our cookies: HttpOnly, SameSite=Strict, Secure over https, for the whole site."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def set_sign_in(response: Response, request: Request, rpps: str) -> None:
    _set_cookie(response, request, SIGN_IN_COOKIE, rpps)


def clear_sign_in(response: Response) -> None:
    response.delete_cookie(SIGN_IN_COOKIE, path="/", httponly=True, samesite="strict")


def set_admin_session(response: Response, request: Request, value: str) -> None:
    """The dashboard's session: a random id of app.http.admin_sessions, for at most 12 h."""
    _set_cookie(response, request, ADMIN_COOKIE, value, max_age=int(LIFETIME.total_seconds()))


def clear_admin_session(response: Response) -> None:
    response.delete_cookie(ADMIN_COOKIE, path="/", httponly=True, samesite="strict")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_same_origin(request: Request, runtime: Runtime) -> None:
    """Refuse a state-changing post sent by another site's page (CSRF).

    Browsers send `Origin` on every POST (and `Sec-Fetch-Site`); a request with neither
    is not from a browser page, so no victim's cookie rides on it.
    """
    origin = request.headers.get("origin")
    site = request.headers.get("sec-fetch-site")
    if origin is None:
        if site in (None, "same-origin", "none"):
            return
    else:
        allowed = {_origin(str(request.base_url))}
        if runtime.settings.base_url:
            allowed.add(_origin(runtime.settings.base_url))
        if origin.lower() in allowed:
            return
    raise CrossOriginRequest(
        "The sandbox's pages accept posts from their own origin only; post from the page."
    )


async def read_form(request: Request, *, limit: int) -> dict[str, str]:
    """An urlencoded form body read with a size cap; the first value of each name."""
    declared = request.headers.get("content-length", "")
    too_large = BodyTooLarge(f"The form exceeds OMNIDOC_MAX_BODY_BYTES ({limit} bytes).")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    values: dict[str, str] = {}
    text = body.decode("utf-8", errors="replace")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise ValidationFailed(f"A form has at most {MAX_FORM_FIELDS} fields.") from None
    for name, value in pairs:
        # Textareas post CRLF line breaks; the API stores LF.
        values.setdefault(name, value.replace("\r\n", "\n"))
    return values
