"""The redirect_url page's forms: sign in and out, save, publish, answer, cancel (README).
Each posts from the page and answers a redirect back to it, or the page with what to fix."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from app.drafts import service as drafts
from app.errors import ApiError, DraftIncomplete, FieldIssue, ValidationFailed
from app.http.deps import BaseUrlDep, RuntimeDep
from app.models import Draft
from app.pages import labels_fr, review, web
from app.pages.endpoints import draft_page_response, known_practitioner, page_url, see
from app.runtime import Runtime
from app.sandbox.schemas import CompleteBody

router = APIRouter(include_in_schema=False)


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
        return await draft_page_response(request, runtime, draft, alert=alert, status=422)
    response = see(page_url(draft.id, "signed_in"))
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
    response = see(target)
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
        return see(page_url(started[1].id))
    return started


@router.post("/interop/drafts/{draft_id}/save")
async def save_draft(request: Request, draft_id: str, runtime: RuntimeDep) -> Response:
    """Save the corrected fields (checked by the API's rules); the draft stays a draft."""
    started = await _action(request, draft_id, runtime)
    if isinstance(started, Response):
        return started
    posted, draft = started
    failed = await _save(request, runtime, draft, posted)
    return failed or see(page_url(draft.id, "saved"))


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
            is_known_practitioner=known_practitioner(runtime),
        )
    except ValidationFailed:
        values, lint = review.lint_form(posted, is_known_practitioner=known_practitioner(runtime))
        form = review.form_view(values, lint)
        return await draft_page_response(request, runtime, draft, form=form, status=422)
    except ApiError as exc:
        return web.page_for_error(request, exc, runtime=runtime, back=page_url(draft.id))
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
        return shown or web.page_for_error(request, exc, runtime=runtime, back=page_url(draft.id))
    return see(page_url(draft.id, done))


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
        values, lint = review.lint_form(posted, is_known_practitioner=known_practitioner(runtime))
        form = review.form_view(values, lint)
        missing = FieldIssue("recipient_rpps", "recipient_missing", "")
        form.fields["recipient_rpps"] = review.FieldView(
            values["recipient_rpps"], "error", (labels_fr.issue_message(missing),)
        )
        form.errors += 1
        return await draft_page_response(request, runtime, draft, form=form, status=409)

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
            return await draft_page_response(request, runtime, draft, alert=alert, status=422)
        try:
            answer = CompleteBody(report_text=report_text)  # the API's rules for the same text
        except ValidationError:
            alert = (
                "L'avis est trop long (20 000 caractères au plus) "
                "ou contient un caractère interdit."
            )
            return await draft_page_response(request, runtime, draft, alert=alert, status=422)
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
            return await draft_page_response(
                request, runtime, draft, alert=alert, status=422, confirm_cancel=True
            )
        return partial(drafts.cancel_draft, draft_id=draft.id, owner_key=None, base_url=base_url)

    return await _act(request, draft_id, runtime, prepare=prepare, done="cancelled")
