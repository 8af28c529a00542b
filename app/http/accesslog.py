"""Access log without health data: method, path, status and timing; never the query string.

A call that had errors or warnings (app.callnotes) says so on the same line, with each
field's code and a safe hint: what a vendor watching `make run` or `docker logs` needs
to see a typo, never a value sent (messages may quote values, so they stay out).

A field is named only with the API's own names (SPEC §7): a JSON key the client chose is
client data too (a dict keyed by patients' names or ids), so from the first part that is
not a name of the API's schema on, the field is shown as `[unknown]`; its hint (the known
field it resembles) still says what the client probably meant.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import callnotes

if TYPE_CHECKING:
    from app.errors import FieldIssue

logger = logging.getLogger("omnidoc_sandbox.access")

# Issues named on one line; the journal (GET /_sandbox/requests) has them all.
MAX_LISTED = 10
_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
# A list index in a field (items.0.id): small numbers only, never 4 digits of a NIR or date.
_INDEX = re.compile(r"[0-9]{1,3}")
# What stands for the parts of a field that are not the API's own names.
HIDDEN_FIELD = "[unknown]"
_KNOWN_ATTRIBUTE = "omnidoc_schema_names"
# What a path may decode to that a console line cannot show as is: control characters
# (%0A would forge a second line, %00 puts a NUL on the terminal) and lone surrogates.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def schema_names(document: Mapping[str, Any]) -> frozenset[str]:
    """Every name an OpenAPI document gives: its schemas' properties and its parameters."""
    names: set[str] = set()
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict):
                names.update(str(name) for name in properties)
            parameters = node.get("parameters")
            if isinstance(parameters, list):
                names.update(
                    str(p["name"]) for p in parameters if isinstance(p, dict) and "name" in p
                )
            stack.extend(node.values())
    return frozenset(names)


def api_names(app: Any, field_names: Collection[str] = ()) -> frozenset[str]:
    """The names a console line may show for this app, computed once: its OpenAPI
    document's and `field_names` (the app gives the validation rules' and the URL
    method's parameters, SPEC §4)."""
    state = getattr(app, "state", None)
    known = getattr(state, _KNOWN_ATTRIBUTE, None)
    if isinstance(known, frozenset):
        return known
    openapi = getattr(app, "openapi", None)
    try:
        document = openapi() if callable(openapi) else {}
    except Exception:  # a console line must never fail a call: fewer names, then
        document = {}
    known = schema_names(document) | frozenset(field_names)
    if state is not None:
        setattr(state, _KNOWN_ATTRIBUTE, known)
    return known


def shown_field(name: str, known: Collection[str]) -> str:
    """The field with its parts the API's own names (or small indexes) as they are, and
    from the first other part on `[unknown]`: `patient.[unknown]`, never the client's key."""
    shown: list[str] = []
    for part in name.split("."):
        if part not in known and not _INDEX.fullmatch(part):
            shown.append(HIDDEN_FIELD)
            break
        shown.append(part)
    return ".".join(shown)


def _issue(issue: FieldIssue, hints: Mapping[str, str], known: Collection[str]) -> str:
    code = issue.code if _CODE.fullmatch(issue.code) else "?"
    text = f"{shown_field(issue.field, known)} {code}" if issue.field else code
    hint = hints.get(issue.field)
    return f"{text} ({hint})" if hint else text


def summary(notes: callnotes.CallNotes, status: int, known: Collection[str] = ()) -> str:
    """`errors: f code (hint), …; warnings: …`, at most MAX_LISTED issues; "" if none.

    `known`: the names a field may be shown with (api_names); any other part is hidden.
    """
    groups: list[tuple[str, Sequence[FieldIssue]]] = [("warnings", notes.warnings)]
    if status >= 400:  # a success's errors were handled (the journal does the same)
        groups.insert(0, ("errors", notes.errors))
    parts, room = [], MAX_LISTED
    for label, issues in groups:
        if not issues:
            continue
        shown = [_issue(issue, notes.hints, known) for issue in issues[:room]]
        more = f", +{len(issues) - len(shown)} more" if len(issues) > len(shown) else ""
        parts.append(f"{label}: {', '.join(shown)}{more}")
        room = max(room - len(shown), 0)
    return "; ".join(parts)


def printable(path: str) -> str:
    """The path on one line: what a console cannot show is escaped (`\\n`, `\\x00`, `\\ud800`)."""
    return _UNPRINTABLE.sub(lambda match: ascii(match.group())[1:-1], path)


class AccessLogMiddleware:
    """Pure ASGI middleware, so streamed uploads are not buffered."""

    def __init__(self, app: ASGIApp, *, field_names: Collection[str] = ()) -> None:
        """`field_names`: names of the API's own a console line may show besides its
        OpenAPI document's (the create's and the URL method's fields)."""
        self.app = app
        self.field_names = frozenset(field_names)

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
            said = ""
            if notes is not None:
                said = summary(notes, status["code"], api_names(scope.get("app"), self.field_names))
            if said:
                logger.warning(line + " | %s", *args, said)
            else:
                logger.info(line, *args)
