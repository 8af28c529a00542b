"""The request journal (README, "Request journal"): a pure ASGI middleware and its rows.

What a call's response does not carry in full (field errors with their messages,
warnings, the id of a created draft) reaches it through app.callnotes.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Table
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import callnotes, runtime, urls
from app.db import read_session
from app.errors import FieldIssue
from app.groupcommit import GroupCommit, Tidy
from app.http.deps import bearer_key
from app.longpoll import newest_page
from app.models import JournalEntry, new_id, utcnow
from app.sandbox.schemas import RequestEntry

logger = logging.getLogger("omnidoc_sandbox")

_DRAFT_IN_PATH = re.compile(
    rf"^(?:{urls.INTEROP_PREFIX}|{urls.SANDBOX_PREFIX})/drafts/([^/]{{1,64}})(?:/|$)"
)
_UNHANDLED = FieldIssue("", "internal_error", "Unhandled error.")
_TABLE: Table = JournalEntry.__table__  # type: ignore[attr-defined]


def _issues(items: list[FieldIssue]) -> list[dict[str, str]]:
    return [{"field": i.field, "code": i.code, "message": i.message} for i in items]


def entry_row(
    *,
    owner_key: str,
    at: datetime,
    method: str,
    path: str,
    status: int,
    draft_id: str | None,
    duration_ms: float,
    errors: list[FieldIssue],
    warnings: list[FieldIssue],
    facts: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One journal row, every column given (a Core insert applies no model defaults)."""
    return {
        "id": new_id(),
        "owner_key": owner_key,
        "time": at,
        "method": method[:16],
        "path": path[:2000],
        "status": status,
        "draft_id": draft_id[:64] if draft_id is not None else None,
        "duration_ms": duration_ms,
        "errors": _issues(errors),
        "warnings": _issues(warnings),
        "facts": facts,
    }


async def record(writer: GroupCommit, *, row: dict[str, Any], keep: int) -> None:
    """Insert the row with the next group commit; the key's journal is trimmed to `keep`
    rows in the same transaction, so a listing never sees more."""
    owner_key = row["owner_key"]
    trim = Tidy(("journal_trim", owner_key), _TRIM_SQL, {"owner_key": owner_key, "skip": keep - 1})
    await writer.insert(_TABLE, row, tidy=trim)


# The key's rows older than its `keep` newest, in one indexed statement. Written once as
# SQL: built per group with the ORM's select()/delete(), the statement cost more Python
# (construction and the compiled-cache key) than SQLite's walk of the index. The same
# text runs on SQLite and PostgreSQL; with fewer than `keep` rows the subquery is NULL
# and nothing is deleted.
_TRIM_SQL = (
    "DELETE FROM journal_entry WHERE owner_key = :owner_key AND seq < ("
    "SELECT seq FROM journal_entry WHERE owner_key = :owner_key"
    " ORDER BY seq DESC LIMIT 1 OFFSET :skip)"
)


def entry_view(entry: JournalEntry) -> RequestEntry:
    return RequestEntry(
        id=entry.id,
        time=entry.time,
        method=entry.method,
        path=entry.path,
        status=entry.status,
        draft_id=entry.draft_id,
        duration_ms=round(entry.duration_ms, 1),
        errors=[FieldIssue(**issue) for issue in entry.errors],
        warnings=[FieldIssue(**issue) for issue in entry.warnings],
    )


def list_entries(
    engine: Engine, *, owner_key: str, after: str | None, limit: int
) -> list[RequestEntry]:
    """The key's journal, newest first; `after` keeps only entries newer than that one."""
    with read_session(engine) as session:
        scope, what = JournalEntry.owner_key == owner_key, "an entry still in your journal"
        rows = newest_page(session, JournalEntry, scope=scope, after=after, what=what, limit=limit)
        return [entry_view(row) for row in rows]


def _is_journaled(method: str, path: str) -> bool:
    if path.startswith(urls.INTEROP_PREFIX + "/"):
        return True
    return method == "POST" and path.startswith(urls.SANDBOX_PREFIX + "/drafts/")


class JournalMiddleware:
    """Journals the key's calls once their answer is known; never reads a request body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = runtime.serving(scope)
        if (
            state is None
            or state.writer is None
            or not _is_journaled(scope["method"], scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        api_key = await bearer_key(scope, state)
        if api_key is None:  # no owner to show it to: 401s are not journaled
            await self.app(scope, receive, send)
            return
        writer, keep = state.writer, state.settings.journal_size
        assert writer is not None
        notes = callnotes.of(scope)
        at, started = utcnow(), time.perf_counter()
        status = 0
        recorded = False

        async def finish() -> None:
            nonlocal recorded
            recorded = True
            try:  # the journal must never fail the call it describes
                path_id = _DRAFT_IN_PATH.match(scope["path"])
                row = entry_row(
                    owner_key=api_key.key,
                    at=at,
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    draft_id=path_id.group(1) if path_id else notes.draft_id,
                    duration_ms=(time.perf_counter() - started) * 1000,
                    errors=notes.errors if status >= 400 else [],
                    warnings=notes.warnings,
                    facts=notes.facts,
                )
                await record(writer, row=row, keep=keep)
            except Exception as exc:  # the type only: messages may quote request data
                logger.warning("journal write failed (%s)", type(exc).__name__)

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif (
                message["type"] == "http.response.body"
                and not message.get("more_body")
                and not recorded
            ):
                # Recorded before the last chunk goes out: once the client has its
                # answer, the journal already shows the call (no sleep needed).
                await finish()
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        except Exception:
            if not recorded:  # the error handler answers 500 outside this middleware
                status, notes.errors = status or 500, [_UNHANDLED]
                await finish()
            raise
        if not recorded:
            await finish()
