"""problem+json: an error's RFC 9457 body, and the app's exception handlers that answer
every error with it, the framework's own included (app/errors.py has the classes), noted
for the journal and the console."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from app import callnotes, storable, urls
from app.errors import (
    ApiError,
    BodyTooLarge,
    ClientClosedRequest,
    FieldIssue,
    InternalError,
    InvalidJson,
    MethodNotAllowed,
    NotFound,
    ValidationFailed,
)
from app.http.routing import allowed_methods

logger = logging.getLogger("omnidoc_sandbox")
PROBLEM_JSON = "application/problem+json"


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
    """The route's parameter descriptions (those OpenAPI shows), by name, its dependencies'
    included (a listing's `after` and `wait` come with longpoll.PageQuery)."""
    described: dict[str, str] = {}
    dependants = [getattr(request.scope.get("route"), "dependant", None)]
    while dependants:
        dependant = dependants.pop()
        for kind in ("query_params", "path_params", "header_params"):
            for p in getattr(dependant, kind, ()):
                if p.field_info.description:
                    described.setdefault(p.alias, p.field_info.description)
        dependants.extend(getattr(dependant, "dependencies", ()))
    return described


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
