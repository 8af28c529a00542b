"""What the lifespan builds and every layer shares: settings, fixtures, the engine."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass, field

from sqlalchemy import Engine

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
    # Receiver checks running in this process (app.receiver_checks), held until done.
    checks: set[asyncio.Task[None]] = field(default_factory=set)


def of_app(app: object) -> Runtime | None:
    """The runtime of a started app, None before its lifespan ran."""
    state = getattr(app, "state", None)
    runtime = getattr(state, "runtime", None)
    return runtime if isinstance(runtime, Runtime) else None
