"""What the lifespan builds and every layer shares: settings, fixtures, the engine."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass, field

from sqlalchemy import Engine
from starlette.types import Scope

from app.admin_throttle import FailureThrottle
from app.config import Settings
from app.fixtures import Fixtures
from app.groupcommit import GroupCommit


@dataclass
class Runtime:
    """Settings and fixtures at once; the engine, its group commit and (SQLite) the event
    loop's own connection once the database is up (`ready`)."""

    settings: Settings
    fixtures: Fixtures
    engine: Engine | None = None
    writer: GroupCommit | None = None
    loop_db: sqlite3.Connection | None = None  # app.db.loop_connection
    ready: bool = False
    # Wrong admin tokens per client (app.admin_throttle): in-process, per app.
    admin_failures: FailureThrottle = field(default_factory=FailureThrottle)
    # Receiver checks running in this process (app.receiver_checks), held until done.
    checks: set[asyncio.Task[None]] = field(default_factory=set)


def of_app(app: object) -> Runtime | None:
    """The runtime of a started app, None before its lifespan ran."""
    state = getattr(app, "state", None)
    runtime = getattr(state, "runtime", None)
    return runtime if isinstance(runtime, Runtime) else None


def serving(scope: Scope) -> Runtime | None:
    """The runtime for an HTTP call once the app is ready; None for anything else (a
    lifespan or websocket scope, a call before the lifespan ran or before it was ready)."""
    state = of_app(scope.get("app"))
    if scope["type"] != "http" or state is None or not state.ready:
        return None
    return state
