"""The URL method's page `/interop/drafts/new#…`, its lint endpoint and its form (README,
"Pages: the browser side")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from app.errors import (
    ApiError,
    BodyTooLarge,
    CrossOriginRequest,
    InvalidJson,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.http.bodies import JsonBodyRoute
from app.http.deps import BaseUrlDep, RuntimeDep
from app.http.openapi import PUBLIC, SANDBOX, problems
from app.pages import labels_fr, review, web
from app.pages import url_method as prefill
from app.pages.url_method import LintReport
from app.sandbox.schemas import LintIssue, LintParameter, LintRequest, LintResult

router = APIRouter(route_class=JsonBodyRoute)


def _lint_result(report: LintReport) -> LintResult:
    return LintResult(
        ok=report.ok,
        errors=report.errors,
        warnings=report.warnings,
        parameters=[
            LintParameter(
                name=p.name,
                value=p.value,
                field=p.field,
                verdict=p.verdict,
                issues=[
                    LintIssue(
                        code=i.code,
                        message=i.message,
                        message_fr=labels_fr.issue_message(i, p.value),
                    )
                    for i in p.issues
                ],
            )
            for p in report.parameters
        ],
        values=report.values,
    )


def same_origin(request: Request, runtime: RuntimeDep) -> None:
    """Posts of the pages come from their own origin (checked before the body is)."""
    web.check_same_origin(request, runtime)


@router.post(
    "/interop/drafts/new/lint",
    tags=[SANDBOX],
    response_model=LintResult,
    responses=problems(
        InvalidJson, CrossOriginRequest, BodyTooLarge, UnsupportedMediaType, ValidationFailed
    ),
    dependencies=[Depends(same_origin)],
    openapi_extra=PUBLIC,
)
def lint_prefill(asked: LintRequest, runtime: RuntimeDep) -> LintResult:
    """Lint the URL method's parameters with the API's rules (the page's check, as check-url)."""
    known = runtime.fixtures.is_known_practitioner
    if asked.values is not None:
        report = prefill.lint_values(asked.values, is_known_practitioner=known)
    else:
        params = prefill.parse_fragment(asked.fragment or "")
        report = prefill.lint_parameters(params, is_known_practitioner=known)
    return _lint_result(report)


def _new_page(
    request: Request,
    runtime: RuntimeDep,
    values: dict[str, str],
    lint: LintReport | None,
    status: int,
) -> Response:
    form = review.form_view(values, lint) if lint else review.FormView()
    if lint is None:
        form.fields = {name: review.FieldView(values.get(name, "")) for name in prefill.PARAMETERS}
    context: dict[str, Any] = {
        "form": form,
        "sections": labels_fr.SECTIONS,
        "practitioners": runtime.fixtures.practitioners,
    }
    return web.render(request, "new_draft.html", context, runtime=runtime, status=status)


@router.api_route("/interop/drafts/new", methods=["GET", "HEAD"], include_in_schema=False)
def new_draft_page(request: Request, runtime: RuntimeDep) -> Response:
    """The URL method: an empty form that its script prefills from the fragment."""
    return _new_page(request, runtime, {}, None, 200)


@router.post("/interop/drafts/new", include_in_schema=False)
async def create_draft_from_form(
    request: Request, runtime: RuntimeDep, base_url: BaseUrlDep
) -> Response:
    """Create the draft (state `draft`, owned by no key), or show the form's errors."""
    try:
        web.check_same_origin(request, runtime)
        posted = await web.read_form(request, limit=runtime.settings.max_body_bytes)
    except ApiError as exc:
        return web.page_for_error(request, exc, runtime=runtime)
    known = runtime.fixtures.is_known_practitioner
    values, lint = review.lint_form(posted, is_known_practitioner=known)
    if not lint.ok:
        return _new_page(request, runtime, values, lint, 422)
    assert runtime.engine is not None
    draft = await run_in_threadpool(
        prefill.create_prefilled_draft, runtime.engine, values=values, base_url=base_url
    )
    return RedirectResponse(f"/interop/drafts/{draft.id}?message=created", status_code=303)
