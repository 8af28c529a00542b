"""What the lifespan builds and every layer shares: settings, fixtures, the engine."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from app.config import Settings
from app.fixtures import Fixtures


@dataclass
class Runtime:
    """Settings and fixtures at once; the engine once the database is up (`ready`)."""

    settings: Settings
    fixtures: Fixtures
    engine: Engine | None = None
    ready: bool = False


def of_app(app: object) -> Runtime | None:
    """The runtime of a started app, None before its lifespan ran."""
    state = getattr(app, "state", None)
    runtime = getattr(state, "runtime", None)
    return runtime if isinstance(runtime, Runtime) else None
