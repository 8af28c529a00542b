"""Fault injection (README, "Fault injection"): a key's rules as rows, consumed atomically,
and the middleware that applies them to the key's interop calls."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Engine, delete, text, update
from sqlmodel import col, select
from starlette.types import ASGIApp, Receive, Scope, Send

from app import callnotes, runtime, urls
from app.db import is_busy, read_session, write_session
from app.errors import InjectedFault
from app.http.deps import bearer_key
from app.http.problems import problem_issues, problem_response
from app.models import FaultRule
from app.sandbox.schemas import Fault, FaultBody

logger = logging.getLogger("omnidoc_sandbox")


@dataclass(frozen=True)
class Injected:
    """What one consumed use of a rule does to the call."""

    status: int | None
    delay_ms: int
    retry_after: int | None = None


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


class LiveRule(NamedTuple):
    """A rule with uses left, as the middleware matches it."""

    seq: int
    method: str
    path: str
    status: int | None
    delay_ms: int
    retry_after: int | None


# The key's rules with uses left, oldest first. Run on the event loop's own SQLite
# connection for every interop call, so it is plain SQL through the driver: an indexed
# read that finds nothing in the common case, in a few microseconds. (Both sqlite3 and
# SQLAlchemy's text() take the named parameter.)
_LIVE_RULES_SQL = (
    "SELECT seq, method, path, status, delay_ms, retry_after FROM fault_rule"
    " WHERE owner_key = :owner_key AND remaining > 0 ORDER BY seq"
)


def live_rules(engine: Engine, *, owner_key: str) -> list[LiveRule]:
    """The key's rules with uses left, oldest first (any database, any thread)."""
    with engine.connect() as connection:
        rows = connection.execute(text(_LIVE_RULES_SQL), {"owner_key": owner_key}).all()
    return [LiveRule(*row) for row in rows]


def _live_rules_on_loop(loop_db: sqlite3.Connection, *, owner_key: str) -> list[LiveRule] | None:
    """The same read on the event loop's connection; None if SQLite is busy right then."""
    try:
        rows = loop_db.execute(_LIVE_RULES_SQL, {"owner_key": owner_key})
        return [LiveRule(*row) for row in rows]
    except sqlite3.OperationalError as exc:
        if is_busy(exc):
            return None
        raise


def claim(engine: Engine, *, rule: LiveRule) -> Injected | None:
    """Consume one use of the rule, atomically across processes; None if none was left.

    The conditional UPDATE is the claim: of two workers racing for the last use, only
    one sees a row changed.
    """
    with write_session(engine) as session:
        result = session.execute(
            update(FaultRule)
            .where(col(FaultRule.seq) == rule.seq, col(FaultRule.remaining) > 0)
            .values(remaining=col(FaultRule.remaining) - 1)
        )
    if int(result.rowcount) == 1:  # type: ignore[attr-defined]
        return Injected(status=rule.status, delay_ms=rule.delay_ms, retry_after=rule.retry_after)
    return None


def _matching(rules: list[LiveRule], *, method: str, path: str) -> list[LiveRule]:
    return [
        rule
        for rule in rules
        if rule.method in ("*", method.upper()) and path_matches(rule.path, path)
    ]


def take_fault(engine: Engine, *, owner_key: str, method: str, path: str) -> Injected | None:
    """Consume one use of the oldest matching rule, atomically across processes."""
    for rule in _matching(live_rules(engine, owner_key=owner_key), method=method, path=path):
        if (injected := claim(engine, rule=rule)) is not None:
            return injected
    return None


async def take_fault_for_call(
    state: runtime.Runtime, *, owner_key: str, method: str, path: str
) -> Injected | None:
    """`take_fault` for the middleware: no thread and no write unless a rule matches.

    Rules are read from the database on every call, never cached: a rule created,
    consumed or deleted by another worker or process applies from the next call. The
    common case, no matching rule, is answered by one read on the event loop's own
    connection (SQLite); otherwise `take_fault` itself runs in a thread.
    """
    assert state.engine is not None
    if state.loop_db is not None:
        rules = _live_rules_on_loop(state.loop_db, owner_key=owner_key)
        if rules is not None and not _matching(rules, method=method, path=path):
            return None
    return await asyncio.to_thread(
        take_fault, state.engine, owner_key=owner_key, method=method, path=path
    )


class FaultMiddleware:
    """Applies the key's next matching rule to an interop call: a delay, an answer, or both."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = runtime.serving(scope)
        if (
            state is None
            or state.engine is None
            or not scope["path"].startswith(urls.INTEROP_PREFIX + "/")
        ):
            await self.app(scope, receive, send)
            return
        api_key = await bearer_key(scope, state)
        injected = None
        if api_key is not None:
            try:
                injected = await take_fault_for_call(
                    state, owner_key=api_key.key, method=scope["method"], path=scope["path"]
                )
            except Exception as exc:  # a broken rule lookup must not break the API
                logger.warning("fault lookup failed (%s)", type(exc).__name__)
        if injected is not None and injected.delay_ms:
            await asyncio.sleep(injected.delay_ms / 1000)
        if injected is not None and injected.status:
            error = InjectedFault(injected.status, retry_after=injected.retry_after)
            callnotes.of(scope).errors = problem_issues(error)
            await problem_response(error)(scope, receive, send)
            return
        await self.app(scope, receive, send)
