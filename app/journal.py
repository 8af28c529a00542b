"""Request journal + fault injection: a pure ASGI middleware and the journal's rows (SPEC §6)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy import Engine, delete
from sqlmodel import col, select
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import faults
from app.db import read_session, write_session
from app.errors import PROBLEM_JSON, InjectedFault, problem_response
from app.fixtures import ApiKeyFixture
from app.longpoll import newer_than
from app.models import JournalEntry, utcnow
from app.validation import FieldIssue

logger = logging.getLogger("omnidoc_sandbox")

_DRAFT_IN_PATH = re.compile(r"^(?:/api/interop/v1|/_sandbox)/drafts/([^/]{1,64})(?:/|$)")
_PROBLEM_CAP = 4 * 1024 * 1024  # a 422 on a 1 MiB body lists many fields; stop somewhere
_WARNINGS = "journal_warnings"
_DRAFT_ID = "journal_draft_id"


def note(request: Request, *, warnings: Iterable[FieldIssue] = (), draft_id: str = "") -> None:
    """Let a route hand the journal what the response does not carry in full."""
    if warnings:
        setattr(request.state, _WARNINGS, list(warnings))
    if draft_id:
        setattr(request.state, _DRAFT_ID, draft_id)


def _issues(items: Iterable[Any]) -> list[dict[str, str]]:
    return [{"field": str(i.field), "code": str(i.code), "message": str(i.message)} for i in items]


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


def _view(entry: JournalEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "time": entry.time.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "method": entry.method,
        "path": entry.path,
        "status": entry.status,
        "draft_id": entry.draft_id,
        "duration_ms": round(entry.duration_ms, 1),
        "errors": entry.errors,
        "warnings": entry.warnings,
    }


def list_entries(
    engine: Engine, *, owner_key: str, after: str | None, limit: int
) -> list[dict[str, Any]]:
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
        return [_view(row) for row in rows]


def _is_interop(path: str) -> bool:
    return path.startswith(faults.INTEROP_PREFIX + "/")


def _is_journaled(method: str, path: str) -> bool:
    return _is_interop(path) or (method == "POST" and path.startswith("/_sandbox/drafts/"))


def _bearer_key(scope: Scope, runtime: Any) -> ApiKeyFixture | None:
    """The key as `current_key` finds it (same parsing, constant-time lookup); no 401 here."""
    header = Headers(scope=scope).get("authorization")
    scheme, credentials = get_authorization_scheme_param(header)
    if scheme.lower() != "bearer" or not credentials:
        return None
    found: ApiKeyFixture | None = runtime.fixtures.find_key(credentials)
    return found


@dataclass
class _Call:
    """What the middleware learns of one call while its response goes out."""

    status: int = 0
    problem: bool = False
    body: bytearray = field(default_factory=bytearray)
    recorded: bool = False

    def errors(self) -> list[dict[str, str]]:
        if not self.problem:
            return []
        try:
            problem = json.loads(bytes(self.body))
        except ValueError:
            return [{"field": "", "code": "truncated", "message": "Problem body too large."}]
        if not isinstance(problem, dict):
            return []
        if isinstance(problem.get("errors"), list) and problem["errors"]:
            return [
                {k: str(item.get(k, "")) for k in ("field", "code", "message")}
                for item in problem["errors"]
                if isinstance(item, dict)
            ]
        code, detail = problem.get("code", ""), problem.get("detail", "")
        return [{"field": "", "code": str(code), "message": str(detail)}]


class JournalMiddleware:
    """Journals the key's calls and injects its faults; never reads a request body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
        if (
            scope["type"] != "http"
            or not _is_journaled(scope["method"], scope["path"])
            or runtime is None
            or runtime.engine is None
            or not runtime.ready
        ):
            await self.app(scope, receive, send)
            return
        api_key = _bearer_key(scope, runtime)
        if api_key is None:  # no owner to show it to: 401s are not journaled
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        call = _Call()
        at, started = utcnow(), time.perf_counter()

        async def finish() -> None:
            call.recorded = True
            try:  # the journal must never fail the call it describes
                state = scope.get("state", {})
                path_id = _DRAFT_IN_PATH.match(scope["path"])
                entry = JournalEntry(
                    owner_key=api_key.key,
                    time=at,
                    method=scope["method"][:16],
                    path=scope["path"][:2000],
                    status=call.status,
                    draft_id=path_id.group(1) if path_id else state.get(_DRAFT_ID),
                    duration_ms=(time.perf_counter() - started) * 1000,
                    errors=call.errors(),
                    warnings=_issues(state.get(_WARNINGS, ())),
                )
                keep = runtime.settings.journal_size
                await asyncio.to_thread(record_entry, runtime.engine, entry=entry, keep=keep)
            except Exception as exc:  # the type only: messages may quote request data
                logger.warning("journal write failed (%s)", type(exc).__name__)

        async def send_and_watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                call.status = message["status"]
                headers = dict(message.get("headers", ()))
                content_type = headers.get(b"content-type", b"").decode("latin-1")
                call.problem = content_type.startswith(PROBLEM_JSON)
            elif message["type"] == "http.response.body":
                if call.problem and len(call.body) < _PROBLEM_CAP:
                    call.body += message.get("body", b"")
                if not message.get("more_body", False) and not call.recorded:
                    # Recorded before the last chunk goes out: once the client has its
                    # answer, the journal already shows the call (no sleep needed).
                    await finish()
            await send(message)

        try:
            await self._call_with_faults(scope, receive, send_and_watch, runtime, api_key)
        except Exception:
            if not call.recorded:  # the error handler answers 500 outside this middleware
                call.status, call.problem = call.status or 500, True
                call.body = bytearray(b'{"code": "internal_error", "detail": "Unhandled error."}')
                await finish()
            raise
        if not call.recorded:
            await finish()

    async def _call_with_faults(
        self, scope: Scope, receive: Receive, send: Send, runtime: Any, api_key: ApiKeyFixture
    ) -> None:
        """Apply the key's next matching fault rule, if any, then call the app (or not)."""
        fault = None
        if _is_interop(scope["path"]):
            try:
                fault = await asyncio.to_thread(
                    faults.take_fault,
                    runtime.engine,
                    owner_key=api_key.key,
                    method=scope["method"],
                    path=scope["path"],
                )
            except Exception as exc:  # a broken rule lookup must not break the API
                logger.warning("fault lookup failed (%s)", type(exc).__name__)
        if fault is not None and fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        if fault is not None and fault.status:
            headers = {"Retry-After": "1"} if fault.status in (429, 503) else {}
            error = InjectedFault(
                f"Injected by a fault rule of your key: status {fault.status}.",
                status=fault.status,
                headers=headers,
            )
            await problem_response(error)(scope, receive, send)
            return
        await self.app(scope, receive, send)
