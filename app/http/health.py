"""Process probes and the pages that explain each problem code."""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from app import runtime
from app.errors import CATALOG, NotFound, NotReady
from app.http.openapi import PUBLIC, SANDBOX, problems
from app.http.problems import problem_response
from app.schemas import Health, Ready

router = APIRouter(tags=[SANDBOX])


@router.get("/healthz", response_model=Health, openapi_extra=PUBLIC)
def healthz() -> Health:
    """Liveness: 200 while the process runs."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Ready,
    responses=problems(NotReady, ready=False),
    openapi_extra=PUBLIC,
)
def readyz(request: Request) -> Ready | JSONResponse:
    """Readiness: 200 once the database is ready and the fixtures loaded, 503 before."""
    state = runtime.of_app(request.app)
    if state is None or not state.ready:
        return problem_response(NotReady("The database is not ready yet."))
    return Ready(status="ready")


@router.get("/errors/{code}", response_class=HTMLResponse, include_in_schema=False)
def error_page(code: str) -> HTMLResponse:
    """What a problem `type` points at: the code, its status and how to fix it."""
    error = CATALOG.get(code)
    if error is None:
        raise NotFound(f"No problem code named '{code[:60]}'.")
    body = (
        "<!doctype html><html lang='en'><meta charset='utf-8'>"
        f"<title>{html.escape(code)}</title><body style='font-family:sans-serif;max-width:40em'>"
        f"<h1>{html.escape(error.title)}</h1><p><code>{html.escape(code)}</code> — HTTP "
        f"{error.status}</p><p>{html.escape(error.explanation)}</p>"
        "<p><a href='/docs'>API documentation</a></p></body></html>"
    )
    return HTMLResponse(body)
