"""The ASGI app: lifespan (database, fixtures, webhook worker), routers, error handlers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from importlib.metadata import version

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine

from app import resume_collector
from app.admin import dashboard
from app.admin import endpoints as admin
from app.admin import receiver_check_endpoints as admin_receiver_checks
from app.admin import snapshot_endpoints as admin_snapshots
from app.config import Settings, get_settings
from app.db import create_db_engine, create_schema, loop_connection
from app.drafts import autopilot, uploads
from app.drafts import endpoints as interop
from app.drafts.validation import PATIENT_FIELDS, TOP_LEVEL_FIELDS
from app.fixtures import load_fixtures
from app.groupcommit import GroupCommit
from app.http import health as system
from app.http import openapi_document
from app.http.accesslog import AccessLogMiddleware
from app.http.body_timeout import BodyTimeoutMiddleware
from app.http.hosts import HostAllowlistMiddleware
from app.http.keyed_route import KeyedRouteShortcut
from app.http.problems import install_error_handlers
from app.http.routing import HeadAsGetMiddleware
from app.http.security_headers import SecurityHeadersMiddleware
from app.notifications import worker as delivery
from app.pages import actions_endpoints as page_actions
from app.pages import endpoints as pages
from app.pages import files_endpoints as page_files
from app.pages import url_method_endpoints as url_method
from app.pages import web
from app.pages.url_method import PARAMETERS as URL_METHOD_PARAMETERS
from app.receiver_checks import endpoints as receiver_checks
from app.receiver_checks import service as receiver_check_service
from app.runtime import Runtime
from app.sandbox import endpoints as sandbox
from app.sandbox import journal_endpoints as journal
from app.sandbox import snapshots
from app.sandbox.faults import FaultMiddleware
from app.sandbox.journal import JournalMiddleware
from app.testkit import endpoints as testkit

logger = logging.getLogger("omnidoc_sandbox")

STARTUP_GRACE_SECONDS = 3.0


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
    try:  # receiver checks a restart cut off: finished as failed, with that reason
        await asyncio.to_thread(receiver_check_service.finish_abandoned, runtime.engine)
    except Exception as exc:
        logger.warning("receiver check sweep skipped (%s)", type(exc).__name__)
    await asyncio.to_thread(snapshots.sweep_leftovers, runtime.settings)
    # OMNIDOC_SEED: a snapshot for a database still empty (a demo that starts populated).
    await asyncio.to_thread(snapshots.import_seed, runtime.engine, settings=runtime.settings)
    with loop_connection(runtime.engine) as loop_db:
        runtime.loop_db = loop_db
        runtime.writer = GroupCommit(runtime.engine, inline=loop_db)
        # The hot path's writer, the webhook outbox and the scenario practitioners'
        # answers, until shutdown cancels them.
        async with asyncio.TaskGroup() as workers:
            workers.create_task(runtime.writer.run())
            runtime.ready = True
            logger.info("ready: database and fixtures loaded")
            workers.create_task(
                delivery.run_worker(
                    runtime.engine, settings=runtime.settings, fixtures=runtime.fixtures
                )
            )
            workers.create_task(autopilot.run_worker(runtime.engine))


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings_override or get_settings()
    # A broken file, or an admin token equal to a key, stops the start here.
    fixtures = load_fixtures(settings.fixtures, admin_token=settings.admin_token)
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
        for check in list(runtime.checks):  # each records that the sandbox stopped
            check.cancel()
        if runtime.checks:
            await asyncio.wait(runtime.checks, timeout=1.0)
        starter.cancel()
        with suppress(asyncio.CancelledError, Exception):  # let the worker finish its step
            await starter
        if runtime.engine is not None:
            runtime.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; `settings` replaces the environment (tests)."""
    app = FastAPIOffline(
        title=openapi_document.TITLE,
        version=version("omnidoc-sandbox"),
        description=openapi_document.DESCRIPTION,
        lifespan=_lifespan,
        redirect_slashes=False,
        openapi_tags=openapi_document.TAGS,
        servers=openapi_document.SERVERS,
        license_info=openapi_document.LICENSE,
        generate_unique_id_function=openapi_document.operation_id,
        # FastAPI's native OpenTelemetry off: its logs would carry exception messages,
        # which may quote request data (health data never leaves in logs), and
        # asking whether a global provider is configured costs CPU on every call.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings_override = settings
    install_error_handlers(app)
    # Innermost first: the hot routes' shortcut past the router, HEAD as GET, then
    # faults, journal (which sees them all), the Host check, access log, body timeout, and
    # the security headers.
    app.add_middleware(KeyedRouteShortcut, routers=[interop.router])
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(FaultMiddleware)
    app.add_middleware(JournalMiddleware)
    app.add_middleware(HostAllowlistMiddleware)  # a foreign Host: 400 before any route
    app.add_middleware(
        AccessLogMiddleware,
        field_names={*PATIENT_FIELDS, *TOP_LEVEL_FIELDS, *URL_METHOD_PARAMETERS},
    )
    app.add_middleware(BodyTimeoutMiddleware)  # every reader of the body is timed
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: on every answer, errors too
    app.include_router(system.router)
    app.include_router(interop.router)
    app.include_router(interop.pull_router)
    app.include_router(sandbox.router)
    app.include_router(journal.router)
    app.include_router(testkit.router)
    app.include_router(receiver_checks.router)
    app.include_router(admin_receiver_checks.router)
    app.include_router(admin_snapshots.router)
    app.include_router(admin.router)
    app.include_router(dashboard.router)
    app.include_router(url_method.router)  # before pages: /interop/drafts/new is not an id
    app.include_router(pages.router)
    app.include_router(page_actions.router)
    app.include_router(page_files.router)
    app.include_router(testkit.page_router)
    app.mount("/static", web.static_files(), name="static")
    openapi_document.install(app)
    return app


app = create_app()
# What exists by now (modules, the app, its models and schemas: some 140,000 objects)
# lives as long as the process. Frozen, it is left out of the garbage collector's full
# passes, which otherwise walk all of it every few thousand requests (a pause of a
# few hundred milliseconds on a busy machine, felt by every call in flight); the
# collector, paused while it loaded (app/__init__.py), runs again from here.
resume_collector()
