"""The request journal (README, "Request journal"): a pure ASGI middleware and its rows.

What a call's response does not carry in full (field errors with their messages,
warnings, the id of a created draft) reaches it through app.callnotes.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time

from sqlalchemy import Engine, delete
from sqlmodel import col, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import callnotes, runtime, urls
from app.db import read_session, write_session
from app.deps import bearer_key
from app.errors import FieldIssue
from app.longpoll import newer_than
from app.models import JournalEntry, utcnow
from app.sandbox_schemas import RequestEntry

logger = logging.getLogger("omnidoc_sandbox")

_DRAFT_IN_PATH = re.compile(
    rf"^(?:{urls.INTEROP_PREFIX}|{urls.SANDBOX_PREFIX})/drafts/([^/]{{1,64}})(?:/|$)"
)
_UNHANDLED = FieldIssue("", "internal_error", "Unhandled error.")


def _issues(items: list[FieldIssue]) -> list[dict[str, str]]:
    return [{"field": i.field, "code": i.code, "message": i.message} for i in items]


def record_entry(engine: Engine, *, entry: JournalEntry, keep: int) -> None:
    """Insert one entry and trim the key's journal to `keep` rows, in one transaction."""
    with write_session(engine) as session:
        session.add(entry)
        session.flush()
        oldest_kept = session.exec(
            select(JournalEntry.seq)
            .where(JournalEntry.owner_key == entry.owner_key)
            .order_by(col(JournalEntry.seq).desc())
            .offset(keep - 1)
            .limit(1)
        ).first()
        if oldest_kept is not None:
            session.execute(
                delete(JournalEntry).where(
                    col(JournalEntry.owner_key) == entry.owner_key,
                    col(JournalEntry.seq) < oldest_kept,
                )
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
        query = select(JournalEntry).where(JournalEntry.owner_key == owner_key)
        if after is not None:
            scope = JournalEntry.owner_key == owner_key
            what = "an entry still in your journal"
            query = query.where(
                newer_than(session, JournalEntry, after=after, scope=scope, what=what)
            )
        rows = session.exec(query.order_by(col(JournalEntry.seq).desc()).limit(limit)).all()
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
        state = runtime.of_app(scope.get("app"))
        if (
            scope["type"] != "http"
            or not _is_journaled(scope["method"], scope["path"])
            or state is None
            or state.engine is None
            or not state.ready
        ):
            await self.app(scope, receive, send)
            return
        api_key = bearer_key(scope, state.fixtures)
        if api_key is None:  # no owner to show it to: 401s are not journaled
            await self.app(scope, receive, send)
            return
        engine, keep = state.engine, state.settings.journal_size
        notes = callnotes.of(scope)
        at, started = utcnow(), time.perf_counter()
        status = 0
        recorded = False

        async def finish() -> None:
            nonlocal recorded
            recorded = True
            try:  # the journal must never fail the call it describes
                path_id = _DRAFT_IN_PATH.match(scope["path"])
                entry = JournalEntry(
                    owner_key=api_key.key,
                    time=at,
                    method=scope["method"][:16],
                    path=scope["path"][:2000],
                    status=status,
                    draft_id=path_id.group(1) if path_id else notes.draft_id,
                    duration_ms=(time.perf_counter() - started) * 1000,
                    errors=_issues(notes.errors) if status >= 400 else [],
                    warnings=_issues(notes.warnings),
                )
                await asyncio.to_thread(record_entry, engine, entry=entry, keep=keep)
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
