"""Access log without health data: method, path, status and timing; never the query string.

A call that had errors or warnings (app.callnotes) says so on the same line, with each
field's code and a safe hint: what a vendor watching `make run` or `docker logs` needs
to see a typo, never a value sent (messages may quote values, so they stay out).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import callnotes

if TYPE_CHECKING:
    from app.errors import FieldIssue

logger = logging.getLogger("omnidoc_sandbox.access")

# Issues named on one line; the journal (GET /_sandbox/requests) has them all.
MAX_LISTED = 10
_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
# A field as the sandbox names them (patient.nir, items.0.id). An unknown field's name is
# whatever the client sent as a key, so one that could be a value is hidden: anything
# else than identifiers and small indexes, or 4 digits in a row (a NIR, an RPPS, a date).
_PART = r"(?:[A-Za-z_][A-Za-z0-9_]{0,63}|[0-9]{1,3})"
_FIELD = re.compile(rf"{_PART}(?:\.{_PART})*")
_DIGITS = re.compile(r"[0-9]{4}")
HIDDEN_FIELD = "[field]"
# What a path may decode to that a console line cannot show as is: control characters
# (%0A would forge a second line, %00 puts a NUL on the terminal) and lone surrogates.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _field(name: str) -> str:
    if len(name) <= 120 and _FIELD.fullmatch(name) and not _DIGITS.search(name):
        return name
    return HIDDEN_FIELD


def _issue(issue: FieldIssue, hints: Mapping[str, str]) -> str:
    code = issue.code if _CODE.fullmatch(issue.code) else "?"
    text = f"{_field(issue.field)} {code}" if issue.field else code
    hint = hints.get(issue.field)
    return f"{text} ({hint})" if hint else text


def summary(notes: callnotes.CallNotes, status: int) -> str:
    """`errors: f code (hint), …; warnings: …`, at most MAX_LISTED issues; "" if none."""
    groups: list[tuple[str, Sequence[FieldIssue]]] = [("warnings", notes.warnings)]
    if status >= 400:  # a success's errors were handled (the journal does the same)
        groups.insert(0, ("errors", notes.errors))
    parts, room = [], MAX_LISTED
    for label, issues in groups:
        if not issues:
            continue
        shown = [_issue(issue, notes.hints) for issue in issues[:room]]
        more = f", +{len(issues) - len(shown)} more" if len(issues) > len(shown) else ""
        parts.append(f"{label}: {', '.join(shown)}{more}")
        room = max(room - len(shown), 0)
    return "; ".join(parts)


def printable(path: str) -> str:
    """The path on one line: what a console cannot show is escaped (`\\n`, `\\x00`, `\\ud800`)."""
    return _UNPRINTABLE.sub(lambda match: ascii(match.group())[1:-1], path)


class AccessLogMiddleware:
    """Pure ASGI middleware, so streamed uploads are not buffered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 0}
        scope.setdefault("state", {})  # shared with the app, so its call notes reach us

        async def send_and_watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            line = "%s %s %s %.1fms"
            args = [scope["method"], printable(scope["path"]), status["code"]]
            args.append((time.perf_counter() - started) * 1000)
            notes = callnotes.peek(scope)
            said = summary(notes, status["code"]) if notes is not None else ""
            if said:
                logger.warning(line + " | %s", *args, said)
            else:
                logger.info(line, *args)
