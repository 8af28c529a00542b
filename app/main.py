"""The ASGI app: lifespan (database, fixtures, webhook worker), routers, error handlers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine

from app import autopilot, delivery, uploads, web
from app.accesslog import AccessLogMiddleware
from app.config import Settings, get_settings
from app.db import create_db_engine, create_schema
from app.deps import Runtime
from app.errors import install_error_handlers
from app.fixtures import load_fixtures
from app.journal import JournalMiddleware
from app.models import DraftCreate
from app.routes import interop, journal, page_files, pages, sandbox, system, url_method

logger = logging.getLogger("omnidoc_sandbox")

STARTUP_GRACE_SECONDS = 3.0

DESCRIPTION = """\
**Unofficial** local stand-in for the Omnidoc téléexpertise interop API
(document "Interopérabilité Omnidoc v1.4").

* Operations tagged **Omnidoc interop API** follow the Omnidoc document: paths, fields,
  the `{"id", "redirect_url"}` success body, multipart field `file`.
* Operations tagged **Sandbox-defined** (downstream notifications, pull view, report,
  test helpers, admin) are this sandbox's own contract: the Omnidoc document leaves the
  downstream side to each integration. They are not Omnidoc's API.
* Every error is RFC 9457 `application/problem+json` with a `code`; see `/errors/<code>`.

**Notifications (sandbox-defined).** Each change of a key's draft to `in_progress`,
`completed` or `cancelled` POSTs `{"type": "telexpertise.status_changed", "timestamp",
"data": {"id", "status", "previous_status", "context", "report_url", "billing"}}` to the
key's webhook URL (fixtures, or `PUT /_sandbox/webhook`), signed per Standard Webhooks
(`webhook-id`, the same on every retry, `webhook-timestamp`, `webhook-signature`). First
attempt at once; a non-2xx answer, a timeout (`OMNIDOC_WEBHOOK_TIMEOUT`) or a connection
error is retried after each delay of `OMNIDOC_WEBHOOK_RETRY_SCHEDULE`, then the delivery
is `failed`. A draft's notifications arrive in order. With no webhook URL, attempts are
recorded with an error and follow the same schedule. Inspect and replay them with
`GET /_sandbox/webhooks/deliveries` and `POST /_sandbox/webhooks/deliveries/{id}/redeliver`.

**Request journal and faults (sandbox-defined).** `GET /_sandbox/requests` lists the key's
last `OMNIDOC_JOURNAL_SIZE` calls of the interop API and of the `POST /_sandbox/drafts/…`
helpers, newest first, with status, timing and every error and warning *with its message*
(`?after=`, `?wait=`). `POST /_sandbox/faults` `{"method", "path", "status", "delay_ms",
"times"}` makes the key's next matching interop calls answer `status` (code
`injected_fault`) and/or wait `delay_ms` first; `*` in `path` matches anything.

**Scenario practitioners (sandbox-defined).** A practitioner of the fixtures may carry an
`autopilot`: drafts sent to it answer by themselves, a set time after they enter
`in_progress`, like test card numbers. In the default fixtures `10006789019` completes
after 3 s (with a report) and `10007890121` cancels after 3 s; the pull view's
`autopilot_due_at` says when (null when no automatic answer is pending).
"""


async def _connect_database(runtime: Runtime) -> Engine:
    """Create the engine and schema, retrying while the database is not reachable yet."""
    delay = 0.2
    while True:
        try:
            engine = create_db_engine(runtime.settings)
            await asyncio.to_thread(create_schema, engine)
            return engine
        except Exception as exc:  # a database still starting: keep /readyz at 503
            logger.warning("database not ready (%s); retrying in %.1fs", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def _start(runtime: Runtime) -> None:
    runtime.engine = await _connect_database(runtime)
    try:  # leftovers of a crash mid-upload; never worth failing the start over
        await asyncio.to_thread(uploads.sweep_orphans, runtime.engine, settings=runtime.settings)
    except Exception as exc:
        logger.warning("upload sweep skipped (%s)", type(exc).__name__)
    runtime.ready = True
    logger.info("ready: database and fixtures loaded")
    # The webhook outbox and the scenario practitioners' answers, until shutdown cancels them.
    async with asyncio.TaskGroup() as workers:
        workers.create_task(delivery.run_worker(runtime))
        workers.create_task(
            autopilot.run_worker(runtime, on_moved=lambda: delivery.wake(runtime.extras))
        )


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings_override or get_settings()
    fixtures = load_fixtures(settings.fixtures)  # a broken file stops the start here
    for warning in fixtures.warnings:
        logger.warning("%s", warning)
    runtime = Runtime(settings=settings, fixtures=fixtures)
    app.state.runtime = runtime
    starter = asyncio.create_task(_start(runtime))
    # Serve only once ready when the database answers at once (the usual case), so that
    # with several workers no worker takes connections before its engine exists; a
    # database that is still starting keeps /readyz at 503 while we go on retrying.
    deadline = asyncio.get_running_loop().time() + STARTUP_GRACE_SECONDS
    while not runtime.ready and not starter.done():
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        starter.cancel()
        with suppress(asyncio.CancelledError, Exception):  # let the worker finish its step
            await starter
        if runtime.engine is not None:
            runtime.engine.dispose()


def _openapi(app: FastAPI) -> dict[str, Any]:
    """OpenAPI with the documentation-only request schemas and the bearer scheme."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    ref = "#/components/schemas/{model}"
    create_schema_json = DraftCreate.model_json_schema(ref_template=ref)
    components.update(create_schema_json.pop("$defs", {}))
    components["DraftCreate"] = create_schema_json
    app.openapi_schema = schema
    return schema


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; `settings` replaces the environment (tests)."""
    app = FastAPIOffline(
        title="omnidoc-sandbox",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=_lifespan,
        redirect_slashes=False,
        openapi_tags=[
            {"name": "Omnidoc interop API", "description": "Follows the Omnidoc document."},
            {
                "name": "Sandbox-defined",
                "description": "The sandbox's own contract; not part of Omnidoc's API.",
            },
        ],
    )
    app.state.settings_override = settings
    install_error_handlers(app)
    app.add_middleware(JournalMiddleware)  # inside the access log, which times it too
    app.add_middleware(AccessLogMiddleware)
    app.include_router(system.router)
    app.include_router(interop.router)
    app.include_router(interop.pull_router)
    app.include_router(sandbox.router)
    app.include_router(journal.router)
    app.include_router(url_method.router)  # before pages: /interop/drafts/new is not an id
    app.include_router(pages.router)
    app.include_router(page_files.router)
    app.mount("/static", web.static_files(), name="static")
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


app = create_app()
