"""Fault injection (README, "Fault injection"): a key's rules as rows, consumed atomically,
and the middleware that applies them to the key's interop calls."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

from sqlalchemy import Engine, delete, update
from sqlmodel import col, select
from starlette.types import ASGIApp, Receive, Scope, Send

from app import callnotes, runtime, urls
from app.db import read_session, write_session
from app.deps import bearer_key
from app.errors import InjectedFault, problem_issues, problem_response
from app.models import FaultRule
from app.sandbox_schemas import Fault, FaultBody

logger = logging.getLogger("omnidoc_sandbox")


@dataclass(frozen=True)
class Injected:
    """What one consumed use of a rule does to the call."""

    status: int | None
    delay_ms: int


def _view(rule: FaultRule) -> Fault:
    return Fault.model_validate(rule, from_attributes=True)


def create_fault(engine: Engine, *, owner_key: str, body: FaultBody) -> Fault:
    """Store a rule for the key; it applies from the key's next call."""
    rule = FaultRule(
        owner_key=owner_key,
        method=body.method.value,
        path=body.path,
        status=body.status,
        delay_ms=body.delay_ms,
        times=body.times,
        remaining=body.times,
    )
    with write_session(engine) as session:
        session.add(rule)
    return _view(rule)


def list_faults(engine: Engine, *, owner_key: str) -> list[Fault]:
    """The key's rules, oldest first (the order they match in), used-up ones included."""
    with read_session(engine) as session:
        rules = session.exec(
            select(FaultRule).where(FaultRule.owner_key == owner_key).order_by(col(FaultRule.seq))
        ).all()
        return [_view(rule) for rule in rules]


def delete_faults(engine: Engine, *, owner_key: str) -> int:
    """Remove all the key's rules; how many there were."""
    with write_session(engine) as session:
        result = session.execute(delete(FaultRule).where(col(FaultRule.owner_key) == owner_key))
    return int(result.rowcount)  # type: ignore[attr-defined]


def path_matches(pattern: str, path: str) -> bool:
    """`*` matches any characters (slashes too); a trailing slash is not significant."""
    regex = ".*".join(re.escape(part) for part in pattern.rstrip("/").split("*"))
    return re.fullmatch(regex, path.rstrip("/")) is not None


def take_fault(engine: Engine, *, owner_key: str, method: str, path: str) -> Injected | None:
    """Consume one use of the oldest matching rule, atomically across processes."""
    with read_session(engine) as session:
        candidates = session.exec(
            select(FaultRule)
            .where(FaultRule.owner_key == owner_key, col(FaultRule.remaining) > 0)
            .order_by(col(FaultRule.seq))
        ).all()
    for rule in candidates:
        if rule.method not in ("*", method.upper()) or not path_matches(rule.path, path):
            continue
        # The conditional UPDATE is the claim: of two workers racing for the last use,
        # only one sees a row changed.
        with write_session(engine) as session:
            result = session.execute(
                update(FaultRule)
                .where(col(FaultRule.seq) == rule.seq, col(FaultRule.remaining) > 0)
                .values(remaining=col(FaultRule.remaining) - 1)
            )
        if int(result.rowcount) == 1:  # type: ignore[attr-defined]
            return Injected(status=rule.status, delay_ms=rule.delay_ms)
    return None


class FaultMiddleware:
    """Applies the key's next matching rule to an interop call: a delay, an answer, or both."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = runtime.of_app(scope.get("app"))
        if (
            scope["type"] != "http"
            or not scope["path"].startswith(urls.INTEROP_PREFIX + "/")
            or state is None
            or state.engine is None
            or not state.ready
        ):
            await self.app(scope, receive, send)
            return
        api_key = bearer_key(scope, state.fixtures)
        injected = None
        if api_key is not None:
            try:
                injected = await asyncio.to_thread(
                    take_fault,
                    state.engine,
                    owner_key=api_key.key,
                    method=scope["method"],
                    path=scope["path"],
                )
            except Exception as exc:  # a broken rule lookup must not break the API
                logger.warning("fault lookup failed (%s)", type(exc).__name__)
        if injected is not None and injected.delay_ms:
            await asyncio.sleep(injected.delay_ms / 1000)
        if injected is not None and injected.status:
            error = InjectedFault(injected.status)
            callnotes.of(scope).errors = problem_issues(error)
            await problem_response(error)(scope, receive, send)
            return
        await self.app(scope, receive, send)
