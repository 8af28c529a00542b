"""The redirect_url `/interop/drafts/{id}`: visit, sign in, review, publish, answer (README)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import ValidationError

from app.db import read_session
from app.drafts import service as drafts
from app.errors import ApiError, DraftIncomplete, DraftNotFound, FieldIssue, ValidationFailed
from app.http.deps import BaseUrlDep, EngineDep, RuntimeDep
from app.identifiers import is_uuid4
from app.longpoll import Wait, wait_for_items
from app.models import Draft, DraftStatus
from app.pages import labels_fr, review, web
from app.pages import url_method as prefill
from app.reports.billing import billing_for
from app.runtime import Runtime
from app.sandbox.schemas import CompleteBody

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


def _page_url(draft_id: str, message: str | None = None) -> str:
    suffix = f"?message={message}" if message else ""
    return f"/interop/drafts/{quote(draft_id, safe='')}{suffix}"


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.head("/interop/drafts/{draft_id}")
def head_draft_page(draft_id: str, engine: EngineDep) -> Response:
    """HEAD never visits: link checkers and prefetchers must not lock the draft."""
    exists = False
    if is_uuid4(draft_id):
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
            _, lint = review.lint_form(values, is_known_practitioner=_known(runtime))
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


async def _posted(request: Request, runtime: Runtime) -> dict[str, str]:
    """A page form's fields, once the post is known to come from the sandbox's own pages."""
    web.check_same_origin(request, runtime)
    return await web.read_form(request, limit=runtime.settings.max_body_bytes)


@router.post("/interop/drafts/{draft_id}/sign-in")
async def sign_in(request: Request, draft_id: str, runtime: RuntimeDep) -> Response:
    """Mock sign-in: the practitioner chosen from the directory, kept in a cookie."""
    started = await _posted_on_draft(request, draft_id, runtime)
    if isinstance(started, Response):
        return started
    posted, draft = started
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


async def _posted_on_draft(
    request: Request, draft_id: str, runtime: Runtime
) -> tuple[dict[str, str], Draft] | Response:
    """The form posted to a draft's page (same origin) and the draft; else an error page."""
    assert runtime.engine is not None
    try:
        posted = await _posted(request, runtime)
        draft = await run_in_threadpool(review.read_draft, runtime.engine, draft_id=draft_id)
    except ApiError as exc:
        return web.page_for_error(request, exc, runtime=runtime)
    return posted, draft


async def _action(
    request: Request, draft_id: str, runtime: Runtime
) -> tuple[dict[str, str], Draft] | Response:
    """The common start of every draft action: same origin, signed in, draft exists."""
    started = await _posted_on_draft(request, draft_id, runtime)
    if not isinstance(started, Response) and web.signed_in(request, runtime) is None:
        return _see(_page_url(started[1].id))
    return started


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


# An action reads the form and answers a page (refused) or the status change to make.
Prepare = Callable[[dict[str, str], Draft], Awaitable[Response | Callable[..., object]]]
# A refusal the action shows on its own page, or None for the generic error page.
Refused = Callable[[ApiError, dict[str, str], Draft], Awaitable[Response | None]]


async def _act(
    request: Request,
    draft_id: str,
    runtime: Runtime,
    *,
    prepare: Prepare,
    done: str,
    refused: Refused | None = None,
) -> Response:
    """The one frame of the page's status changes (publish, answer, cancel): start, let the
    action check its form, run its drafts.service move off the loop, then show the page."""
    started = await _action(request, draft_id, runtime)
    if isinstance(started, Response):
        return started
    posted, draft = started
    move = await prepare(posted, draft)
    if isinstance(move, Response):
        return move
    try:
        await run_in_threadpool(move, runtime.engine)  # its commit wakes the workers it needs
    except ApiError as exc:
        shown = await refused(exc, posted, draft) if refused is not None else None
        return shown or web.page_for_error(request, exc, runtime=runtime, back=_page_url(draft.id))
    return _see(_page_url(draft.id, done))


@router.post("/interop/drafts/{draft_id}/publish")
async def publish_draft(
    request: Request, draft_id: str, runtime: RuntimeDep, base_url: BaseUrlDep
) -> Response:
    """Save the fields, then publish (`draft` → `in_progress`); author: the draft's, else me."""

    async def prepare(posted: dict[str, str], draft: Draft) -> Response | Callable[..., object]:
        failed = await _save(request, runtime, draft, posted)
        if failed:
            return failed
        me = web.signed_in(request, runtime)
        assert me is not None
        return partial(
            drafts.publish_draft,
            draft_id=draft.id,
            owner_key=None,
            base_url=base_url,
            directory=runtime.fixtures.practitioner,
            author_rpps=me.rpps,  # from the directory: a known practitioner
        )

    async def refused(exc: ApiError, posted: dict[str, str], draft: Draft) -> Response | None:
        if not isinstance(exc, DraftIncomplete):
            return None
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

    return await _act(
        request, draft_id, runtime, prepare=prepare, done="published", refused=refused
    )


@router.post("/interop/drafts/{draft_id}/complete")
async def complete_draft(
    request: Request, draft_id: str, runtime: RuntimeDep, base_url: BaseUrlDep
) -> Response:
    """The recipient's answer (`in_progress` → `completed`), played by the demo operator."""

    async def prepare(posted: dict[str, str], draft: Draft) -> Response | Callable[..., object]:
        report_text = posted.get("report_text", "")
        if not report_text.strip():
            alert = labels_fr.issue_message(FieldIssue("report_text", "report_missing", ""))
            return await _draft_page(request, runtime, draft, alert=alert, status=422)
        try:
            answer = CompleteBody(report_text=report_text)  # the API's rules for the same text
        except ValidationError:
            alert = (
                "L'avis est trop long (20 000 caractères au plus) "
                "ou contient un caractère interdit."
            )
            return await _draft_page(request, runtime, draft, alert=alert, status=422)
        return partial(
            drafts.complete_draft,
            draft_id=draft.id,
            owner_key=None,
            base_url=base_url,
            report_text=answer.report_text,
        )

    return await _act(request, draft_id, runtime, prepare=prepare, done="completed")


@router.post("/interop/drafts/{draft_id}/cancel")
async def cancel_draft(
    request: Request, draft_id: str, runtime: RuntimeDep, base_url: BaseUrlDep
) -> Response:
    """Cancel (`draft` or `in_progress` → `cancelled`), once confirmed (`confirm=yes`)."""

    async def prepare(posted: dict[str, str], draft: Draft) -> Response | Callable[..., object]:
        if posted.get("confirm") != "yes":
            # Irreversible: the page's button only shows the confirming one (_draft.html).
            alert = "Confirmez l'annulation : elle est définitive."
            return await _draft_page(
                request, runtime, draft, alert=alert, status=422, confirm_cancel=True
            )
        return partial(drafts.cancel_draft, draft_id=draft.id, owner_key=None, base_url=base_url)

    return await _act(request, draft_id, runtime, prepare=prepare, done="cancelled")
