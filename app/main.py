"""The ASGI app: lifespan (database, fixtures, webhook worker), routers, error handlers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine

from app.accesslog import AccessLogMiddleware
from app.config import Settings, get_settings
from app.db import create_db_engine, create_schema
from app.deps import Runtime
from app.errors import install_error_handlers
from app.fixtures import load_fixtures
from app.models import DraftCreate
from app.routes import interop, system

logger = logging.getLogger("omnidoc_sandbox")

DESCRIPTION = """\
**Unofficial** local stand-in for the Omnidoc téléexpertise interop API
(document "Interopérabilité Omnidoc v1.4").

* Operations tagged **Omnidoc interop API** follow the Omnidoc document: paths, fields,
  the `{"id", "redirect_url"}` success body, multipart field `file`.
* Operations tagged **Sandbox-defined** (downstream notifications, pull view, report,
  test helpers, admin) are this sandbox's own contract: the Omnidoc document leaves the
  downstream side to each integration. They are not Omnidoc's API.
* Every error is RFC 9457 `application/problem+json` with a `code`; see `/errors/<code>`.
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
    runtime.ready = True
    logger.info("ready: database and fixtures loaded")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings_override or get_settings()
    fixtures = load_fixtures(settings.fixtures)  # a broken file stops the start here
    for warning in fixtures.warnings:
        logger.warning("%s", warning)
    runtime = Runtime(settings=settings, fixtures=fixtures)
    app.state.runtime = runtime
    starter = asyncio.create_task(_start(runtime))
    try:
        yield
    finally:
        starter.cancel()
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
    app.add_middleware(AccessLogMiddleware)
    app.include_router(system.router)
    app.include_router(interop.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


app = create_app()
