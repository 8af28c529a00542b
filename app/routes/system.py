"""Process probes and the pages that explain each problem code."""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from app.deps import get_runtime
from app.errors import CATALOG, ApiError, NotReady, problem_response

router = APIRouter(tags=["Sandbox-defined"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: 200 while the process runs."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "database or fixtures not ready"}})
def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 once the database is ready and the fixtures loaded, 503 before."""
    runtime = get_runtime(request)
    if not runtime.ready:
        return problem_response(NotReady("The database is not ready yet."))
    return JSONResponse({"status": "ready"})


@router.get("/errors/{code}", response_class=HTMLResponse, include_in_schema=False)
def error_page(code: str) -> HTMLResponse:
    """What a problem `type` points at: the code, its status and how to fix it."""
    doc = CATALOG.get(code)
    if doc is None:
        raise ApiError(code="not_found", detail=f"No problem code named '{code[:60]}'.")
    body = (
        "<!doctype html><html lang='en'><meta charset='utf-8'>"
        f"<title>{html.escape(code)}</title><body style='font-family:sans-serif;max-width:40em'>"
        f"<h1>{html.escape(doc.title)}</h1><p><code>{html.escape(code)}</code> — HTTP "
        f"{doc.status}</p><p>{html.escape(doc.explanation)}</p>"
        "<p><a href='/docs'>API documentation</a></p></body></html>"
    )
    return HTMLResponse(body)
