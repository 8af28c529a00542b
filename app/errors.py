"""Typed errors rendered as RFC 9457 problem+json, including the framework's own.

Each ApiError subclass carries its code, status, title and explanation (README,
"Errors"); the catalogue behind the `/errors/<code>` pages is derived from the classes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from app import callnotes, storable, urls
from app.http.routing import allowed_methods

logger = logging.getLogger("omnidoc_sandbox")

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class FieldIssue:
    """One problem with one field: an entry of a problem's `errors`, or a warning."""

    field: str
    code: str
    message: str


class ApiError(Exception):
    """Base of every error the sandbox answers; rendered as problem+json by the handler."""

    code: ClassVar[str] = "internal_error"
    status: int = 500
    title: ClassVar[str] = "Internal error"
    explanation: ClassVar[str] = "The sandbox hit a bug. Please report it with the request id."

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Iterable[FieldIssue] = (),
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.detail = detail or self.explanation
        self.errors = tuple(errors)
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        super().__init__(self.detail)


class InternalError(ApiError):
    """A bug: the answer to an unhandled exception."""


class InvalidJson(ApiError):
    code = "invalid_json"
    status = 400
    title = "Malformed JSON"
    explanation = "The body is not valid UTF-8 JSON. Check quoting and commas."


class InvalidMultipart(ApiError):
    code = "invalid_multipart"
    status = 400
    title = "Malformed multipart body"
    explanation = (
        "The multipart/form-data body could not be parsed (boundary, part headers, or a "
        "body cut short). Send files as curl does: `-F 'file=@a.png'`; nothing was stored."
    )


class Unauthorized(ApiError):
    code = "unauthorized"
    status = 401
    title = "Missing or unknown API key"
    explanation = (
        "Send `Authorization: Bearer <key>` with a key from the fixtures "
        "(sandbox-key-a or sandbox-key-b by default)."
    )

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class CrossOriginRequest(ApiError):
    code = "cross_origin_request"
    status = 403
    title = "Cross-origin request"
    explanation = (
        "The sandbox's pages accept posts from their own origin only (checked on the "
        "`Origin` header), so another site cannot act in a signed-in browser. Post from "
        "the page itself, or from a client that sends no `Origin`."
    )


class AdminUnauthorized(Unauthorized):
    code = "admin_unauthorized"
    title = "Admin token required"
    explanation = (
        "The admin scope (/_sandbox/admin/…, GET /_sandbox/inbox/{name}, the dashboard) "
        "needs `Authorization: Bearer <OMNIDOC_ADMIN_TOKEN>` when that setting is set. A "
        "vendor key never opens it; in a browser, sign in on the dashboard at /."
    )


class NotFound(ApiError):
    code = "not_found"
    status = 404
    title = "Not found"
    explanation = "No route matches this path. Check the URL."


class DraftNotFound(ApiError):
    code = "draft_not_found"
    status = 404
    title = "Draft not found"
    explanation = (
        "No draft with this id belongs to your API key. Use the `id` returned by "
        "POST /api/interop/v1/drafts with the same key."
    )


class FileNotFound(ApiError):
    code = "file_not_found"
    status = 404
    title = "File not found"
    explanation = "No such file on this draft."


class DeliveryNotFound(ApiError):
    code = "delivery_not_found"
    status = 404
    title = "Delivery not found"
    explanation = (
        "No webhook delivery with this id belongs to your API key. Take the `id` from "
        "GET /_sandbox/webhooks/deliveries."
    )


class TestSessionNotFound(ApiError):
    __test__ = False  # not a pytest class
    code = "test_session_not_found"
    status = 404
    title = "Test session not found"
    explanation = (
        "No test session with this id belongs to your API key. Take the `id` returned by "
        "POST /_sandbox/test-sessions with the same key."
    )


class SessionRunning(ApiError):
    code = "session_running"
    status = 409
    title = "Session running"
    explanation = (
        "Your API key already has a test session running: one at a time per key. Finish it "
        "(POST /_sandbox/test-sessions/{id}/finish) before opening another."
    )


class ReceiverCheckNotFound(ApiError):
    code = "receiver_check_not_found"
    status = 404
    title = "Receiver check not found"
    explanation = (
        "No receiver check with this id belongs to your API key. Take the `id` from "
        "POST /_sandbox/receiver-checks or GET /_sandbox/receiver-checks."
    )


class MethodNotAllowed(ApiError):
    code = "method_not_allowed"
    status = 405
    title = "Method not allowed"
    explanation = "This path exists but not with this HTTP method; `Allow` lists the methods."


class DraftLocked(ApiError):
    code = "draft_locked"
    status = 409
    title = "Draft locked"
    explanation = (
        "Files can only be attached while the draft is `temporary`, i.e. before its "
        "redirect_url is visited. Attach files right after creating the draft."
    )


class DraftIncomplete(ApiError):
    code = "draft_incomplete"
    status = 409
    title = "Draft incomplete"
    explanation = "Publishing needs an author_rpps and a recipient_rpps. Set the missing one."


class InvalidTransition(ApiError):
    code = "invalid_transition"
    status = 409
    title = "Invalid transition"
    explanation = (
        "The draft's current status does not allow this change. See the state machine "
        "in the README."
    )


class ReportNotReady(ApiError):
    code = "report_not_ready"
    status = 409
    title = "Report not ready"
    explanation = "The report exists once the téléexpertise is `completed`."


class NoWebhook(ApiError):
    code = "no_webhook"
    status = 409
    title = "No webhook to check"
    explanation = (
        "A receiver check needs a URL and a secret: give `url` and `secret` in the body, or "
        "register the key's webhook first with PUT /_sandbox/webhook."
    )


class ReceiverCheckRunning(ApiError):
    code = "receiver_check_running"
    status = 409
    title = "Receiver check running"
    explanation = (
        "Your API key has a receiver check running already; one runs at a time per key. "
        "Wait for it with GET /_sandbox/receiver-checks/{id}?wait=30, then start another."
    )


class BodyTimeout(ApiError):
    code = "body_timeout"
    status = 408
    title = "Body timeout"
    explanation = (
        "The request body stopped arriving for longer than OMNIDOC_BODY_TIMEOUT seconds "
        "(default 30); nothing was stored and the connection is closed. Send the whole "
        "body at once, with a Content-Length that matches what you send."
    )

    def __init__(self, detail: str | None = None) -> None:
        # The rest of the body may still come: the connection cannot carry another request.
        super().__init__(detail, headers={"Connection": "close"})


class BodyTooLarge(ApiError):
    code = "body_too_large"
    status = 413
    title = "Body too large"
    explanation = "The JSON body exceeds OMNIDOC_MAX_BODY_BYTES."


class FileTooLarge(ApiError):
    code = "file_too_large"
    status = 413
    title = "File too large"
    explanation = "A file exceeds OMNIDOC_MAX_FILE_BYTES; nothing was stored."


class UnsupportedMediaType(ApiError):
    code = "unsupported_media_type"
    status = 415
    title = "Unsupported media type"
    explanation = "Send the Content-Type this endpoint expects."


class ValidationFailed(ApiError):
    code = "validation_failed"
    status = 422
    title = "Validation failed"
    explanation = (
        "One or more fields break the rules. Each entry of `errors` names the field, a "
        "code and how to fix it; nothing was stored."
    )


class ClientClosedRequest(ApiError):
    code = "client_closed_request"
    status = 499  # nginx's code for it: no standard status says "the client left"
    title = "Client closed request"
    explanation = (
        "The client closed the connection before sending the whole request body; nothing "
        "was done. Nobody reads this answer: it is what the request journal shows for the "
        "call. Check the client's timeouts, and that Content-Length matches the body."
    )


class InjectedFault(ApiError):
    code = "injected_fault"
    status = 503
    title = "Injected fault"
    explanation = (
        "A fault rule of your API key (POST /_sandbox/faults) answered this call on "
        "purpose, with the status it names (400-599); nothing was done. See GET "
        "/_sandbox/faults."
    )

    def __init__(self, status: int, *, retry_after: int | None = None) -> None:
        # 429 and 503 tell a well-behaved client when to retry, as a real gateway would.
        wait = str(retry_after or 1)
        headers = {"Retry-After": wait} if status in (429, 503) else {}
        super().__init__(f"Injected by a fault rule of your key: status {status}.", headers=headers)
        self.status = status


class NotReady(ApiError):
    code = "not_ready"
    status = 503
    title = "Not ready"
    explanation = "The sandbox is still starting (database or fixtures). Retry."

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": "1"})


class StorageFailed(ApiError):
    code = "storage_failed"
    status = 507
    title = "Storage failed"
    explanation = (
        "The sandbox could not write the upload to its data dir (disk full or not "
        "writable); nothing was stored. Free space under OMNIDOC_DATA_DIR and retry."
    )


def _subclasses(cls: type[ApiError]) -> Iterable[type[ApiError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


# Every problem code the sandbox can answer, for the /errors/<code> pages and OpenAPI.
CATALOG: dict[str, type[ApiError]] = {cls.code: cls for cls in _subclasses(ApiError)}


def problem_body(error: ApiError) -> dict[str, Any]:
    """The RFC 9457 members plus `code` and, for field problems, `errors` (schemas.Problem)."""
    body: dict[str, Any] = {
        "type": urls.error_type(error.code),
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
    }
    if error.errors:
        body["errors"] = [
            {"field": issue.field, "code": issue.code, "message": issue.message}
            for issue in error.errors
        ]
    body.update(error.extra)
    return body


def problem_response(error: ApiError) -> JSONResponse:
    return JSONResponse(
        storable.scrub(problem_body(error)),  # a message may quote what the client sent
        status_code=error.status,
        headers=error.headers,
        media_type=PROBLEM_JSON,
    )


def problem_issues(error: ApiError) -> list[FieldIssue]:
    """What the journal keeps of a problem: its field errors, else its code and detail."""
    return list(error.errors) or [FieldIssue("", error.code, error.detail)]


# Pydantic's error types that have a name in the sandbox's own vocabulary (README,
# "Validation"); the others keep pydantic's stable type names.
_PYDANTIC_CODES = {
    "extra_forbidden": "unknown_field",
    "model_attributes_type": "not_an_object",
    "model_type": "not_an_object",
    "dict_type": "not_an_object",
    "string_type": "not_a_string",
    "string_too_long": "too_long",
}


_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def framework_issues(errors: Iterable[Mapping[str, Any]]) -> list[FieldIssue]:
    """Pydantic/FastAPI errors as field issues: the dotted field and a code."""
    issues = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())]
        if loc and loc[0] in _LOCATIONS:  # where FastAPI found it, not a field name
            loc = loc[1:]
        kind = str(err.get("type", "invalid"))
        issues.append(FieldIssue(".".join(loc), _PYDANTIC_CODES.get(kind, kind), str(err["msg"])))
    return issues


def _answer(request: Request, error: ApiError) -> JSONResponse:
    callnotes.of(request.scope).errors = problem_issues(error)
    return problem_response(error)


async def _api_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _answer(request, exc)


async def _http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error: ApiError
    if exc.status_code == 405:
        error = MethodNotAllowed()
        # Starlette names only the first route's methods; list every one for this path.
        error.headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope))
        return _answer(request, error)
    if exc.status_code == 404:
        error = NotFound()
    elif exc.status_code == 413:
        error = BodyTooLarge()
    else:
        error = InternalError(str(exc.detail))
        error.status = exc.status_code
    error.headers.update(exc.headers or {})
    return _answer(request, error)


# Where FastAPI found a bad value, as a vendor calls it; a body's fields keep the default.
_PLACES = {"query": "query parameter", "path": "path parameter", "header": "header"}


def _described(request: Request) -> dict[str, str]:
    """The route's parameter descriptions (those OpenAPI shows), by name."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    params = [
        *getattr(dependant, "query_params", ()),
        *getattr(dependant, "path_params", ()),
        *getattr(dependant, "header_params", ()),
    ]
    return {p.alias: p.field_info.description for p in params if p.field_info.description}


def _parameter_problem(request: Request, errors: Iterable[Mapping[str, Any]]) -> ApiError | None:
    """A 422 that speaks of the query (or path, header) parameters at fault, not of fields."""
    described, issues = _described(request), []
    named: dict[str, list[str]] = {}  # place -> names, in order
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())]
        if len(loc) < 2 or loc[0] not in _PLACES:
            return None
        name, place = ".".join(loc[1:]), _PLACES[loc[0]]
        expected = f" Expected: {described[name]}" if name in described else ""
        message = f"{place.capitalize()} {name}: {str(err['msg']).rstrip('.')}.{expected}"
        kind = str(err.get("type", "invalid"))
        issues.append(FieldIssue(name, _PYDANTIC_CODES.get(kind, kind), message))
        if name not in named.setdefault(place, []):
            named[place].append(name)
    listed = " and ".join(
        f"{place}{'s' if len(names) > 1 else ''} {', '.join(names)}"
        for place, names in named.items()
    )
    verb = "is" if sum(len(names) for names in named.values()) == 1 else "are"
    return ValidationFailed(
        f"The {listed} {verb} not valid; see `errors`. Nothing was done.", errors=issues
    )


async def _request_validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = framework_issues(exc.errors())
    if any(issue.code == "json_invalid" for issue in issues):
        return _answer(request, InvalidJson())
    error = _parameter_problem(request, exc.errors()) or ValidationFailed(errors=issues)
    return _answer(request, error)


async def _client_disconnect_handler(request: Request, exc: Exception) -> JSONResponse:
    # A client gone mid-body is not a bug: no traceback, journaled as 499 (the access log
    # has its one line). Where a body is read, this is the one place that says so.
    return _answer(request, ClientClosedRequest())


async def _unhandled_handler(request: Request, exc: Exception) -> JSONResponse:
    # Log the type and path only: exception messages may quote request data.
    logger.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return _answer(request, InternalError())


def install_error_handlers(app: FastAPI) -> None:
    """Replace FastAPI's default error bodies with problem+json."""
    app.add_exception_handler(ApiError, _api_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(RequestValidationError, _request_validation_handler)
    app.add_exception_handler(ClientDisconnect, _client_disconnect_handler)
    app.add_exception_handler(Exception, _unhandled_handler)
