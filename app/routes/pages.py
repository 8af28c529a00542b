"""The redirect_url `/interop/drafts/{id}`: visit, sign in, review, publish, answer (README)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from app import drafts, labels_fr, prefill, reports, review, web
from app.db import read_session
from app.deps import BaseUrlDep, EngineDep, RuntimeDep
from app.errors import ApiError, DraftIncomplete, DraftNotFound, FieldIssue, ValidationFailed
from app.models import Draft, DraftStatus
from app.runtime import Runtime
from app.sandbox_schemas import CompleteBody

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


def _page_url(draft_id: str, message: str | None = None) -> str:
    suffix = f"?message={message}" if message else ""
    return f"/interop/drafts/{quote(draft_id, safe='')}{suffix}"


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.head("/interop/drafts/{draft_id}")
def head_draft_page(draft_id: str, engine: EngineDep) -> Response:
    """HEAD never visits: link checkers and prefetchers must not lock the draft."""
    exists = False
    if drafts.is_draft_id(draft_id):
        with read_session(engine) as session:
            exists = session.get(Draft, draft_id.lower()) is not None
    return Response(
        status_code=200 if exists else 404, headers=web.PAGE_HEADERS, media_type="text/html"
    )


async def _draft_page(
    request: Request,
    runtime: Runtime,
    draft: Draft,
    *,
    form: review.FormView | None = None,
    alert: str | None = None,
    status: int = 200,
) -> Response:
    """The page for the draft's status, as the signed-in practitioner sees it."""
    assert runtime.engine is not None
    me = web.signed_in(request, runtime)
    directory = runtime.fixtures.practitioner
    context: dict[str, Any] = {
        "draft": draft,
        "message": MESSAGES.get(request.query_params.get("message", "")),
        "alert": alert,
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
            _, lint = review.lint_form(values, is_known_practitioner=_known(runtime))
            form = review.form_view(values, lint)
        context.update(form=form, sections=labels_fr.SECTIONS)
        return web.render(request, "draft_review.html", context, runtime=runtime, status=status)
    context["patient"] = draft.patient or {}
    context["autopilot_due"] = await run_in_threadpool(
        review.autopilot_due, runtime.engine, draft=draft
    )
    if draft.status == DraftStatus.COMPLETED:
        context["billing"] = reports.billing_for(draft)
    return web.render(request, "draft_view.html", context, runtime=runtime, status=status)


def _known(runtime: Runtime) -> Callable[[str], bool]:
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
    return await _draft_page(request, runtime, draft)


async def _posted(request: Request, runtime: Runtime) -> dict[str, str]:
    """A page form's fields, once the post is known to come from the sandbox's own pages."""
    web.check_same_origin(request, runtime)
    return await web.read_form(request, limit=runtime.settings.max_body_bytes)


@router.post("/interop/drafts/{draft_id}/sign-in")
async def sign_in(request: Request, draft_id: str, runtime: RuntimeDep) -> Response:
    """Mock sign-in: the practitioner chosen from the directory, kept in a cookie."""
    assert runtime.engine is not None
    try:
        posted = await _posted(request, runtime)
        draft = await run_in_threadpool(review.read_draft, runtime.engine, draft_id=draft_id)
    except ApiError as exc:
        return web.page_for_error(request, exc, runtime=runtime)
    practitioner = runtime.fixtures.practitioner(posted.get("rpps", ""))
    if practitioner is None:
        alert = "Choisissez un praticien de l'annuaire pour vous connecter."
        return await _draft_page(request, runtime, draft, alert=alert, status=422)
    response = _see(_page_url(draft.id, "signed_in"))
    web.set_sign_in(response, request, practitioner.rpps)
    return response


@router.post("/interop/sign-out")
async def sign_out(request: Request, runtime: RuntimeDep) -> Response:
    """Forget the mock sign-in; back to the page it was asked from (a sandbox page only)."""
    try:
        posted = await _posted(request, runtime)
    except ApiError as exc:
        return web.page_for_error(request, exc, runtime=runtime)
    target = posted.get("next", "")
    if not (target.startswith("/interop/drafts/") and target.isascii() and "//" not in target):
        target = "/interop/drafts/new"
    response = _see(target)
    web.clear_sign_in(response)
    return response


async def _move(runtime: Runtime, transition: Callable[..., Any], **kwargs: Any) -> None:
    """A status change of app.drafts off the loop (its commit wakes the workers it needs)."""
    await run_in_threadpool(transition, runtime.engine, **kwargs)


async def _action(
    request: Request, draft_id: str, runtime: Runtime
) -> tuple[dict[str, str], Draft] | Response:
    """The common start of every draft action: same origin, signed in, draft exists."""
    assert runtime.engine is not None
    try:
        posted = await _posted(request, runtime)
        draft = await run_in_threadpool(review.read_draft, runtime.engine, draft_id=draft_id)
    except ApiError as exc:
        return web.page_for_error(request, exc, runtime=runtime)
    if web.signed_in(request, runtime) is None:
        return _see(_page_url(draft.id))
    return posted, draft


@router.post("/interop/drafts/{draft_id}/save")
async def save_draft(request: Request, draft_id: str, runtime: RuntimeDep) -> Response:
    """Save the corrected fields (checked by the API's rules); the draft stays a draft."""
    started = await _action(request, draft_id, runtime)
    if isinstance(started, Response):
        return started
    posted, draft = started
    failed = await _save(request, runtime, draft, posted)
    return failed or _see(_page_url(draft.id, "saved"))


async def _save(
    request: Request, runtime: Runtime, draft: Draft, posted: dict[str, str]
) -> Response | None:
    """Save the form's fields; on errors, the review page with them (nothing saved)."""
    assert runtime.engine is not None
    try:
        await run_in_threadpool(
            review.save_fields,
            runtime.engine,
            draft_id=draft.id,
            values=posted,
            is_known_practitioner=_known(runtime),
        )
    except ValidationFailed:
        values, lint = review.lint_form(posted, is_known_practitioner=_known(runtime))
        form = review.form_view(values, lint)
        return await _draft_page(request, runtime, draft, form=form, status=422)
    except ApiError as exc:
        return web.page_for_error(request, exc, runtime=runtime, back=_page_url(draft.id))
    return None


@router.post("/interop/drafts/{draft_id}/publish")
async def publish_draft(
    request: Request, draft_id: str, runtime: RuntimeDep, base_url: BaseUrlDep
) -> Response:
    """Save the fields, then publish (`draft` → `in_progress`); author: the draft's, else me."""
    started = await _action(request, draft_id, runtime)
    if isinstance(started, Response):
        return started
    posted, draft = started
    failed = await _save(request, runtime, draft, posted)
    if failed:
        return failed
    me = web.signed_in(request, runtime)
    assert me is not None
    try:
        await _move(
            runtime,
            drafts.publish_draft,
            draft_id=draft.id,
            owner_key=None,
            base_url=base_url,
            directory=runtime.fixtures.practitioner,
            author_rpps=me.rpps,  # from the directory: a known practitioner
        )
    except DraftIncomplete:
        assert runtime.engine is not None
        draft = await run_in_threadpool(review.read_draft, runtime.engine, draft_id=draft.id)
        values, lint = review.lint_form(posted, is_known_practitioner=_known(runtime))
        form = review.form_view(values, lint)
        missing = FieldIssue("recipient_rpps", "recipient_missing", "")
        form.fields["recipient_rpps"] = review.FieldView(
            values["recipient_rpps"], "error", (labels_fr.issue_message(missing),)
        )
        form.errors += 1
        return await _draft_page(request, runtime, draft, form=form, status=409)
    except ApiError as exc:
        return web.page_for_error(request, exc, runtime=runtime, back=_page_url(draft.id))
    return _see(_page_url(draft.id, "published"))


@router.post("/interop/drafts/{draft_id}/complete")
async def complete_draft(
    request: Request, draft_id: str, runtime: RuntimeDep, base_url: BaseUrlDep
) -> Response:
    """The recipient's answer (`in_progress` → `completed`), played by the demo operator."""
    started = await _action(request, draft_id, runtime)
    if isinstance(started, Response):
        return started
    posted, draft = started
    report_text = posted.get("report_text", "")
    if not report_text.strip():
        alert = labels_fr.issue_message(FieldIssue("report_text", "report_missing", ""))
        return await _draft_page(request, runtime, draft, alert=alert, status=422)
    try:
        answer = CompleteBody(report_text=report_text)  # the API's rules for the same text
    except ValidationError:
        alert = (
            "L'avis est trop long (20 000 caractères au plus) ou contient un caractère interdit."
        )
        return await _draft_page(request, runtime, draft, alert=alert, status=422)
    try:
        await _move(
            runtime,
            drafts.complete_draft,
            draft_id=draft.id,
            owner_key=None,
            base_url=base_url,
            report_text=answer.report_text,
        )
    except ApiError as exc:
        return web.page_for_error(request, exc, runtime=runtime, back=_page_url(draft.id))
    return _see(_page_url(draft.id, "completed"))


@router.post("/interop/drafts/{draft_id}/cancel")
async def cancel_draft(
    request: Request, draft_id: str, runtime: RuntimeDep, base_url: BaseUrlDep
) -> Response:
    """Cancel (`draft` or `in_progress` → `cancelled`)."""
    started = await _action(request, draft_id, runtime)
    if isinstance(started, Response):
        return started
    _, draft = started
    try:
        await _move(
            runtime, drafts.cancel_draft, draft_id=draft.id, owner_key=None, base_url=base_url
        )
    except ApiError as exc:
        return web.page_for_error(request, exc, runtime=runtime, back=_page_url(draft.id))
    return _see(_page_url(draft.id, "cancelled"))
