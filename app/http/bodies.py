"""Request bodies: read with a size cap, JSON parsed safely, one place for both.

The create route takes the parsed JSON as is (app.drafts.validation reports on it); routes with
a typed body use JsonBodyRoute, so FastAPI validates (and documents) their pydantic
model only after the cap and the parser here said yes (docs/architecture.md).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute

from app import runtime
from app.errors import (
    BodyTooLarge,
    FieldIssue,
    InvalidJson,
    NotReady,
    UnsupportedMediaType,
    ValidationFailed,
)
from app.http.deps import RuntimeDep
from app.storable import escaped, has_surrogate

# Deeper documents cannot be rendered back (pydantic's serializer stops near 500 levels).
MAX_JSON_DEPTH = 64
# Places named in one answer when a body holds unstorable strings or numbers.
MAX_ISSUES = 50


async def read_capped(request: Request, *, limit: int, what: str = "The body") -> bytes:
    """The whole body, refused with 413 `body_too_large` as soon as it passes `limit`."""
    too_large = BodyTooLarge(f"{what} exceeds OMNIDOC_MAX_BODY_BYTES ({limit} bytes).")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _check_json_media_type(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"Expected `Content-Type: application/json`, got `{media_type[:100]}`."
        )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@dataclass(frozen=True)
class _Overflow:
    """A number literal too large for a double (`1e400`): kept as written, then refused."""

    text: str


# A lone surrogate can only come from a `\uD800`-`\uDFFF` escape: UTF-8 bytes of one are
# refused by the decoding. (An escaped backslash before `ud8…` matches too: harmless.)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _nothing_to_scan(raw: bytes, *, overflowed: bool) -> bool:
    """Whether `_scan` could find nothing in this document, told from its bytes: no
    surrogate escape, no number beyond a double, fewer brackets than the depth cap
    (nesting never exceeds them). Most bodies: their walk is skipped."""
    if overflowed or _SURROGATE_ESCAPE.search(raw):
        return False
    return raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH


def parse_json(raw: bytes) -> Any:
    """Strict JSON (no NaN or Infinity), nesting capped; 400 `invalid_json` otherwise.

    A document that parses but cannot be stored and echoed as sent (a lone surrogate in
    any key or string, a number beyond a double) is a 422 naming each place.
    """
    overflowed = False

    def parse_float(text: str) -> float | _Overflow:
        nonlocal overflowed
        value = float(text)
        if math.isfinite(value):
            return value
        overflowed = True
        return _Overflow(text)

    try:
        parsed = json.loads(
            raw.decode("utf-8"), parse_constant=_reject_constant, parse_float=parse_float
        )
    except UnicodeDecodeError:
        raise InvalidJson("The body is not UTF-8.") from None
    except json.JSONDecodeError as exc:
        raise InvalidJson(
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None
    except (ValueError, RecursionError):
        raise InvalidJson("The body is not valid JSON (NaN, Infinity or too deep).") from None
    if _nothing_to_scan(raw, overflowed=overflowed):
        return parsed
    depth, issues = _scan(parsed)
    if depth > MAX_JSON_DEPTH:
        message = f"JSON nesting is limited to {MAX_JSON_DEPTH} levels."
        raise ValidationFailed(errors=[FieldIssue("", "too_deep", message)])
    if issues:
        raise ValidationFailed(errors=issues)
    return parsed


def _unstorable_text(field: str, what: str) -> FieldIssue:
    where = field or "The body"
    return FieldIssue(
        field,
        "invalid_character",
        f"{where}: {what} holds a lone UTF-16 surrogate escape (\\ud800-\\udfff without "
        "its pair), which no UTF-8 text can hold; send the whole pair or remove it.",
    )


def _scan(document: Any) -> tuple[int, list[FieldIssue]]:
    """Deepest nesting of lists/objects, and every string or number that cannot be stored
    as sent (at most MAX_ISSUES), walked without recursion."""
    deepest, issues = 0, list[FieldIssue]()
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack and len(issues) < MAX_ISSUES:
        node, field, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth + 1)
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in reversed(list(items)):
                name = escaped(key) if isinstance(key, str) else str(key)
                child_field = f"{field}.{name}" if field else name
                if isinstance(key, str) and has_surrogate(key):
                    issues.append(_unstorable_text(child_field, "the key"))
                stack.append((child, child_field, depth + 1))
        elif isinstance(node, str) and has_surrogate(node):
            issues.append(_unstorable_text(field, "the text"))
        elif isinstance(node, _Overflow):
            shown = node.text if len(node.text) <= 40 else node.text[:40] + "…"
            issues.append(
                FieldIssue(
                    field,
                    "invalid_number",
                    f"{field or 'The body'}: {shown} is beyond what a JSON number can carry "
                    "(a double, about ±1.8e308): it could not be echoed as sent. Send a "
                    "smaller number, or the value as a string.",
                )
            )
    return deepest, issues[:MAX_ISSUES]


async def json_body(request: Request, state: RuntimeDep) -> Any:
    """The parsed JSON body, read with a size cap; an empty body means `{}`."""
    _check_json_media_type(request)
    raw = await read_capped(request, limit=state.settings.max_body_bytes)
    return parse_json(raw) if raw.strip() else {}


JsonBody = Annotated[Any, Depends(json_body)]


class _CheckedJsonRequest(Request):
    """A request whose body was already read under the cap and parsed."""

    def __init__(self, request: Request, raw: bytes, parsed: Any) -> None:
        super().__init__(request.scope, request.receive)
        self._checked_raw = raw
        self._checked_json = parsed

    async def body(self) -> bytes:
        return self._checked_raw

    async def json(self) -> Any:
        return self._checked_json


class JsonBodyRoute(APIRoute):
    """A route whose pydantic body FastAPI reads only after the cap, the media type and
    the JSON parser here accepted it (FastAPI itself reads bodies whole and unchecked)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler  # a route that reads its body itself (the inbox)

        async def checked(request: Request) -> Response:
            state = runtime.of_app(request.app)
            if state is None or not state.ready:
                raise NotReady()
            _check_json_media_type(request)
            raw = await read_capped(request, limit=state.settings.max_body_bytes)
            parsed = parse_json(raw) if raw.strip() else None
            return await handler(_CheckedJsonRequest(request, raw if raw.strip() else b"", parsed))

        return checked
