"""The test kit's routes (SPEC §9): requirements, test sessions, their reports and page."""

from __future__ import annotations

from importlib.metadata import version
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from app import formats, urls
from app.errors import (
    BodyTooLarge,
    FieldIssue,
    InvalidJson,
    SessionRunning,
    TestSessionNotFound,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.http.bodies import JsonBodyRoute
from app.http.deps import CurrentKey, EngineDep, RuntimeDep
from app.http.openapi import PUBLIC, SANDBOX, binary, problems
from app.longpoll import MAX_WAIT_SECONDS, wait_for_items
from app.models import TestSessionStatus
from app.pages import web
from app.testkit import service
from app.testkit.judge import rollup
from app.testkit.junit import junit_xml
from app.testkit.labels_fr import KINDS_FR, RESULTS_FR, STATUS_FR
from app.testkit.requirements import REQUIREMENTS
from app.testkit.schemas import (
    RequirementList,
    RequirementView,
    TestSessionBody,
    TestSessionView,
)

router = APIRouter(prefix=urls.SANDBOX_PREFIX, tags=[SANDBOX], route_class=JsonBodyRoute)
page_router = APIRouter(include_in_schema=False)

SessionWait = Annotated[
    float,
    Query(
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="Seconds (≤ 30, fractions allowed) to hold the request until the session "
        "is finished; then it answers as it stands.",
    ),
]
SessionId = Annotated[
    str, Path(description="The test session's `id`.", json_schema_extra={"format": "uuid"})
]


@router.get("/requirements", response_model=RequirementList, openapi_extra=PUBLIC)
async def list_requirements() -> RequirementList:
    """Every requirement a client must honour: the Omnidoc document's (`OMD-…`, with where
    the document says it) and the sandbox's (`SBX-…`). No key needed."""
    return RequirementList(
        items=[
            RequirementView(id=r.id, source=r.source, title=r.title, text=r.text)
            for r in REQUIREMENTS
        ]
    )


@router.post(
    "/test-sessions",
    status_code=201,
    response_model=TestSessionView,
    responses={
        201: {
            "description": "The session, `running`; its id leads to the others.",
            "links": {
                target: {"operationId": target, "parameters": {"session_id": "$response.body#/id"}}
                for target in (
                    "getTestSession",
                    "finishTestSession",
                    "getTestSessionReport",
                    "getTestSessionJunit",
                )
            },
        },
        **problems(
            InvalidJson,
            Unauthorized,
            BodyTooLarge,
            UnsupportedMediaType,
            ValidationFailed,
            SessionRunning,
        ),
    },
)
async def create_test_session(
    api_key: CurrentKey,
    engine: EngineDep,
    request: Request,
    body: TestSessionBody | None = None,
) -> TestSessionView:
    """Open a test session: from now on the sandbox judges the key's own traffic against
    the test kit's tests (one running session per key)."""
    if body is None and (await request.body()).strip():  # `null`: no body is no bytes
        message = "The body, when sent, is a JSON object."
        raise ValidationFailed(message, errors=[FieldIssue("", "model_type", message)])
    body = body or TestSessionBody()
    return await run_in_threadpool(
        service.open_session, engine, owner_key=api_key.key, resilience=body.resilience
    )


@router.get(
    "/test-sessions/{session_id}",
    response_model=TestSessionView,
    responses=problems(Unauthorized, TestSessionNotFound, ValidationFailed),
)
async def get_test_session(
    session_id: SessionId,
    request: Request,
    api_key: CurrentKey,
    engine: EngineDep,
    wait: SessionWait = 0,
) -> TestSessionView:
    """The session and each test's result with its evidence, judged now while it runs;
    `?wait=` holds the request until the session is finished (≤ 30 s)."""

    def finished() -> list[object]:
        row = service.read_session_row(engine, owner_key=api_key.key, session_id=session_id)
        return [row] if row.status != TestSessionStatus.RUNNING else []

    await wait_for_items(finished, wait=wait, is_disconnected=request.is_disconnected)
    row = await run_in_threadpool(
        service.read_session_row, engine, owner_key=api_key.key, session_id=session_id
    )
    return await run_in_threadpool(service.session_view, engine, row)


@router.post(
    "/test-sessions/{session_id}/finish",
    response_model=TestSessionView,
    responses=problems(Unauthorized, TestSessionNotFound),
)
async def finish_test_session(
    session_id: SessionId, api_key: CurrentKey, engine: EngineDep
) -> TestSessionView:
    """Finish: a test still waiting fails (required) or is omitted (optional); the results
    are frozen. Finishing a finished session changes nothing."""
    return await run_in_threadpool(
        service.finish_session, engine, owner_key=api_key.key, session_id=session_id
    )


async def _view(
    engine: EngineDep, *, owner_key: str, session_id: str
) -> tuple[TestSessionView, dict[str, str]]:
    row = await run_in_threadpool(
        service.read_session_row, engine, owner_key=owner_key, session_id=session_id
    )
    return await run_in_threadpool(service.session_view_fr, engine, row)


def _draw_pdf(view: TestSessionView, french: dict[str, str], key_name: str) -> bytes:
    from app.testkit.report_pdf import draw_session_report  # fpdf2 is heavy: first use only

    return draw_session_report(
        view, french=french, key_name=key_name, version=version("omnidoc-sandbox")
    )


@router.get(
    "/test-sessions/{session_id}/report.pdf",
    response_class=Response,
    responses={
        **binary("application/pdf", description="The evidence file (PDF), marked SANDBOX."),
        **problems(Unauthorized, TestSessionNotFound),
    },
)
async def get_test_session_report(
    session_id: SessionId, api_key: CurrentKey, engine: EngineDep
) -> Response:
    """The session's evidence file: key name, times, every requirement with its tests,
    results, messages and evidence lines, the sandbox's version; never a patient value."""
    view, french = await _view(engine, owner_key=api_key.key, session_id=session_id)
    pdf = await run_in_threadpool(_draw_pdf, view, french, api_key.name)
    name = f"omnidoc-sandbox-test-session-{view.id}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/test-sessions/{session_id}/junit.xml",
    response_class=Response,
    responses={
        **binary("application/xml", description="JUnit XML: one testcase per test."),
        **problems(Unauthorized, TestSessionNotFound),
    },
)
async def get_test_session_junit(
    session_id: SessionId, api_key: CurrentKey, engine: EngineDep
) -> Response:
    """The session as JUnit XML for CI: one testcase per test; a failure carries its message."""
    view, _ = await _view(engine, owner_key=api_key.key, session_id=session_id)
    return Response(junit_xml(view, key_name=api_key.name), media_type="application/xml")


@page_router.get(urls.TEST_SESSION_PAGE_PREFIX + "/{session_id}", response_class=HTMLResponse)
async def test_session_page(request: Request, session_id: str, runtime: RuntimeDep) -> Response:
    """The session's page: each test, its result and evidence; reloads while it runs."""
    assert runtime.engine is not None
    engine = runtime.engine
    row = await run_in_threadpool(service.read_any, engine, session_id=session_id)
    if row is None:
        missing = {
            "title": "Session de test introuvable",
            "message": "Aucune session de test ne correspond à ce lien. Vérifiez l'identifiant "
            "renvoyé à l'ouverture de la session.",
            "back": None,
        }
        return web.render(request, "error.html", missing, runtime=runtime, status=404)
    view, french = await run_in_threadpool(service.session_view_fr, engine, row)
    key = runtime.fixtures.find_key(row.owner_key)
    context = {
        "view": view,
        "french": french,
        "key_name": key.name if key else "clé inconnue",
        "requirements": [
            (r, rollup([t.result for t in view.tests if r.id in t.requirements]))
            for r in REQUIREMENTS
        ],
        "results_fr": RESULTS_FR,
        "status_fr": STATUS_FR,
        "kinds_fr": KINDS_FR,
        "fr_datetime": formats.fr_datetime,
        "in_paris": formats.in_paris,
        "running": view.status == "running",
    }
    return web.render(request, "test_session.html", context, runtime=runtime)
