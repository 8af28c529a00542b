"""The browser side: the redirect_url page (a minimal view until the pages issue)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app import drafts
from app.db import read_session
from app.deps import BaseUrlDep, EngineDep
from app.errors import DraftNotFound
from app.models import Draft

router = APIRouter(include_in_schema=False)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

# No script yet; user data reaches the page only through autoescaped Jinja.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

STATUS_LABELS = {
    "temporary": "Temporaire",
    "draft": "Brouillon",
    "in_progress": "En cours",
    "completed": "Terminée",
    "cancelled": "Annulée",
}


@lru_cache
def templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True, auto_reload=False
    )
    return Jinja2Templates(env=env)


def _render(request: Request, name: str, context: dict[str, Any], status: int) -> HTMLResponse:
    response = templates().TemplateResponse(
        request, name, context, status_code=status, headers=PAGE_HEADERS
    )
    assert isinstance(response, HTMLResponse)
    return response


@router.head("/interop/drafts/{draft_id}")
def head_draft_page(draft_id: str, engine: EngineDep) -> Response:
    """HEAD never visits: link checkers and prefetchers must not lock the draft."""
    exists = False
    if drafts.is_draft_id(draft_id):
        with read_session(engine) as session:
            exists = session.get(Draft, draft_id.lower()) is not None
    return Response(
        status_code=200 if exists else 404, headers=PAGE_HEADERS, media_type="text/html"
    )


@router.get("/interop/drafts/{draft_id}", response_class=HTMLResponse)
def draft_page(
    request: Request, draft_id: str, engine: EngineDep, base_url: BaseUrlDep
) -> Response:
    """The redirect_url: the first GET moves `temporary` → `draft` and locks the files."""
    if request.method != "GET":  # belt and braces: only a real GET visits
        return head_draft_page(draft_id, engine)
    try:
        draft = drafts.visit_draft(engine, draft_id=draft_id, base_url=base_url)
    except DraftNotFound:
        return _render(request, "not_found.html", {}, 404)
    with read_session(engine) as session:
        view = drafts.draft_view(session, draft=draft, base_url=base_url)
    patient = view["patient"] or {}
    names = [patient.get("first_name"), patient.get("last_name")]
    context = {
        "draft": view,
        "status_label": STATUS_LABELS.get(view["status"], view["status"]),
        "patient_name": " ".join(str(n) for n in names if n),
    }
    return _render(request, "draft.html", context, 200)
