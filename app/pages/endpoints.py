"""The redirect_url `/interop/drafts/{id}`: the page (visit, review) and its status poll;
its forms (sign in, save, publish, answer, cancel) are app/pages/actions_endpoints.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse

from app.db import read_session
from app.drafts import service as drafts
from app.errors import DraftNotFound
from app.http.deps import BaseUrlDep, EngineDep, RuntimeDep
from app.identifiers import is_uuid4
from app.longpoll import Wait, wait_for_items
from app.models import Draft, DraftStatus
from app.pages import labels_fr, review, web
from app.pages import url_method as prefill
from app.reports.billing import billing_for
from app.runtime import Runtime

router = APIRouter(include_in_schema=False)

# After a successful action, the page says what happened (a fixed sentence per key).
MESSAGES = {
    "created": "Demande créée en brouillon. Relisez-la puis publiez-la.",
    "signed_in": "Vous êtes connecté.",
    "saved": "Corrections enregistrées.",
    "published": "Demande publiée : la téléexpertise est en cours.",
    "completed": "Avis envoyé : la téléexpertise est terminée.",
    "cancelled": "La demande a été annulée.",
}


# A banner fits only the statuses its action leads to: "Demande publiée" never shows above
# a "Terminée" badge, if the answer came before the page did.
MESSAGE_STATUSES: dict[str, frozenset[DraftStatus]] = {
    "created": frozenset({DraftStatus.DRAFT}),
    "saved": frozenset({DraftStatus.DRAFT}),
    "published": frozenset({DraftStatus.IN_PROGRESS}),
    "completed": frozenset({DraftStatus.COMPLETED}),
    "cancelled": frozenset({DraftStatus.CANCELLED}),
}
# How long the page's script holds its status request (its JSON answer says the status).
STATUS_WAIT_SECONDS = 25.0


def _message(request: Request, draft: Draft) -> str | None:
    """The one-shot banner of `?message=` (the page's script then drops it from the address)."""
    key = request.query_params.get("message", "")
    fits = MESSAGE_STATUSES.get(key)
    if fits is not None and draft.status not in fits:
        return None
    return MESSAGES.get(key)


def page_url(draft_id: str, message: str | None = None) -> str:
    suffix = f"?message={message}" if message else ""
    return f"/interop/drafts/{quote(draft_id, safe='')}{suffix}"


def see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.head("/interop/drafts/{draft_id}")
def headdraft_page_response(draft_id: str, engine: EngineDep) -> Response:
    """HEAD never visits: link checkers and prefetchers must not lock the draft."""
    exists = False
    if is_uuid4(draft_id):
        with read_session(engine) as session:
            exists = session.get(Draft, draft_id.lower()) is not None
    return Response(
        status_code=200 if exists else 404, headers=web.PAGE_HEADERS, media_type="text/html"
    )


async def draft_page_response(
    request: Request,
    runtime: Runtime,
    draft: Draft,
    *,
    form: review.FormView | None = None,
    alert: str | None = None,
    status: int = 200,
    confirm_cancel: bool = False,
) -> Response:
    """The page for the draft's status, as the signed-in practitioner sees it."""
    assert runtime.engine is not None
    me = web.signed_in(request, runtime)
    directory = runtime.fixtures.practitioner
    context: dict[str, Any] = {
        "draft": draft,
        "message": _message(request, draft),
        "alert": alert,
        "confirm_cancel": confirm_cancel,
        "practitioners": runtime.fixtures.practitioners,
    }
    if me is None:
        return web.render(request, "draft_signin.html", context, runtime=runtime, status=status)
    context["files"] = await run_in_threadpool(review.files_of, runtime.engine, draft_id=draft.id)
    context["author"] = review.participant(draft.author_rpps, directory)
    context["recipient"] = review.participant(draft.recipient_rpps, directory)
    if draft.status == DraftStatus.DRAFT:
        if form is None:
            values = prefill.values_from_draft(draft)
            _, lint = review.lint_form(values, is_known_practitioner=known_practitioner(runtime))
            form = review.form_view(values, lint)
        context.update(form=form, sections=labels_fr.SECTIONS)
        return web.render(request, "draft_review.html", context, runtime=runtime, status=status)
    context["patient"] = draft.patient or {}
    context["autopilot_due"] = await run_in_threadpool(
        review.autopilot_due, runtime.engine, draft=draft
    )
    if draft.status == DraftStatus.COMPLETED:
        context["billing"] = billing_for(draft)
    return web.render(request, "draft_view.html", context, runtime=runtime, status=status)


def known_practitioner(runtime: Runtime) -> Callable[[str], bool]:
    return runtime.fixtures.is_known_practitioner


@router.get("/interop/drafts/{draft_id}")
async def draft_page(
    request: Request, draft_id: str, runtime: RuntimeDep, base_url: BaseUrlDep
) -> Response:
    """The redirect_url: the first GET moves `temporary` → `draft` and locks the files."""
    assert runtime.engine is not None
    try:
        draft = await run_in_threadpool(
            drafts.visit_draft, runtime.engine, draft_id=draft_id, base_url=base_url
        )
    except DraftNotFound as exc:
        return web.page_for_error(request, exc, runtime=runtime)
    return await draft_page_response(request, runtime, draft)


@router.get("/interop/drafts/{draft_id}/status")
async def draft_page_status(
    request: Request,
    draft_id: str,
    engine: EngineDep,
    since: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z_]+$")] = None,
    wait: Wait = 0,
) -> JSONResponse:
    """The draft's status for its page's script; `?since=<status>&wait=<s>` holds the request
    until the status is another one (the page then reloads, once). Never a visit."""
    draft = await run_in_threadpool(review.read_draft, engine, draft_id=draft_id)

    def moved() -> list[str]:
        now = review.read_draft(engine, draft_id=draft.id).status
        return [str(now)] if now != since else []

    found = await wait_for_items(
        moved, wait=min(wait, STATUS_WAIT_SECONDS), is_disconnected=request.is_disconnected
    )
    answer = {"id": draft.id, "status": found[0] if found else since}
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})
