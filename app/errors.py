"""Typed errors rendered as RFC 9457 problem+json, including the framework's own."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.validation import FieldIssue

logger = logging.getLogger("omnidoc_sandbox")

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class ErrorDoc:
    """What a vendor reads at /errors/<code>: the title and how to fix it."""

    status: int
    title: str
    explanation: str


# One entry per problem code the sandbox can answer; /errors/<code> renders it.
CATALOG: dict[str, ErrorDoc] = {
    "invalid_json": ErrorDoc(
        400, "Malformed JSON", "The body is not valid UTF-8 JSON. Check quoting and commas."
    ),
    "invalid_multipart": ErrorDoc(
        400,
        "Malformed multipart body",
        "The multipart/form-data body could not be parsed (boundary, part headers, or a "
        "body cut short). Send files as curl does: `-F 'file=@a.png'`; nothing was stored.",
    ),
    "unauthorized": ErrorDoc(
        401,
        "Missing or unknown API key",
        "Send `Authorization: Bearer <key>` with a key from the fixtures "
        "(sandbox-key-a or sandbox-key-b by default).",
    ),
    "cross_origin_request": ErrorDoc(
        403,
        "Cross-origin request",
        "The sandbox's pages accept posts from their own origin only (checked on the "
        "`Origin` header), so another site cannot act in a signed-in browser. Post from "
        "the page itself, or from a client that sends no `Origin`.",
    ),
    "not_found": ErrorDoc(404, "Not found", "No route matches this path. Check the URL."),
    "draft_not_found": ErrorDoc(
        404,
        "Draft not found",
        "No draft with this id belongs to your API key. Use the `id` returned by "
        "POST /api/interop/v1/drafts with the same key.",
    ),
    "file_not_found": ErrorDoc(404, "File not found", "No such file on this draft."),
    "delivery_not_found": ErrorDoc(
        404,
        "Delivery not found",
        "No webhook delivery with this id belongs to your API key. Take the `id` from "
        "GET /_sandbox/webhooks/deliveries.",
    ),
    "method_not_allowed": ErrorDoc(
        405, "Method not allowed", "This path exists but not with this HTTP method."
    ),
    "draft_locked": ErrorDoc(
        409,
        "Draft locked",
        "Files can only be attached while the draft is `temporary`, i.e. before its "
        "redirect_url is visited. Attach files right after creating the draft.",
    ),
    "draft_incomplete": ErrorDoc(
        409,
        "Draft incomplete",
        "Publishing needs an author_rpps and a recipient_rpps. Set the missing one.",
    ),
    "invalid_transition": ErrorDoc(
        409,
        "Invalid transition",
        "The draft's current status does not allow this change. See the state machine "
        "in the README.",
    ),
    "report_not_ready": ErrorDoc(
        409, "Report not ready", "The report exists once the téléexpertise is `completed`."
    ),
    "body_too_large": ErrorDoc(
        413, "Body too large", "The JSON body exceeds OMNIDOC_MAX_BODY_BYTES."
    ),
    "file_too_large": ErrorDoc(
        413, "File too large", "A file exceeds OMNIDOC_MAX_FILE_BYTES; nothing was stored."
    ),
    "unsupported_media_type": ErrorDoc(
        415, "Unsupported media type", "Send the Content-Type this endpoint expects."
    ),
    "validation_failed": ErrorDoc(
        422,
        "Validation failed",
        "One or more fields break the Omnidoc rules. Each entry of `errors` names the "
        "field, a code and how to fix it; nothing was stored.",
    ),
    "storage_failed": ErrorDoc(
        507,
        "Storage failed",
        "The sandbox could not write the upload to its data dir (disk full or not "
        "writable); nothing was stored. Free space under OMNIDOC_DATA_DIR and retry.",
    ),
    "injected_fault": ErrorDoc(
        503,
        "Injected fault",
        "A fault rule of your API key (POST /_sandbox/faults) answered this call on "
        "purpose, with the status it names; nothing was done. See GET /_sandbox/faults.",
    ),
    "not_ready": ErrorDoc(
        503, "Not ready", "The sandbox is still starting (database or fixtures). Retry."
    ),
    "internal_error": ErrorDoc(
        500, "Internal error", "The sandbox hit a bug. Please report it with the request id."
    ),
}


class ApiError(Exception):
    """Base of every error a behaviour module raises; rendered as problem+json."""

    code = "internal_error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Iterable[FieldIssue] = (),
        headers: Mapping[str, str] | None = None,
        code: str | None = None,
        status: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.code = code or self.code
        doc = CATALOG.get(self.code, CATALOG["internal_error"])
        self.status = status or doc.status
        self.title = doc.title
        self.detail = detail or doc.explanation
        self.errors = tuple(errors)
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        super().__init__(self.detail)


class InvalidJson(ApiError):
    code = "invalid_json"


class Unauthorized(ApiError):
    code = "unauthorized"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class CrossOriginRequest(ApiError):
    code = "cross_origin_request"


class DraftNotFound(ApiError):
    code = "draft_not_found"


class FileNotFound(ApiError):
    code = "file_not_found"


class DraftLocked(ApiError):
    code = "draft_locked"


class DraftIncomplete(ApiError):
    code = "draft_incomplete"


class InvalidTransition(ApiError):
    code = "invalid_transition"


class ReportNotReady(ApiError):
    code = "report_not_ready"


class DeliveryNotFound(ApiError):
    code = "delivery_not_found"


class BodyTooLarge(ApiError):
    code = "body_too_large"


class FileTooLarge(ApiError):
    code = "file_too_large"


class UnsupportedMediaType(ApiError):
    code = "unsupported_media_type"


class ValidationFailed(ApiError):
    code = "validation_failed"


class InjectedFault(ApiError):
    code = "injected_fault"


class NotReady(ApiError):
    code = "not_ready"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": "1"})


def problem_body(error: ApiError) -> dict[str, Any]:
    """The RFC 9457 members plus `code` and, for field problems, `errors`."""
    body: dict[str, Any] = {
        "type": f"/errors/{error.code}",
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
        problem_body(error),
        status_code=error.status,
        headers=error.headers,
        media_type=PROBLEM_JSON,
    )


def _framework_validation_issues(exc: RequestValidationError) -> list[FieldIssue]:
    issues = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path")]
        issues.append(FieldIssue(".".join(loc), str(err.get("type", "invalid")), str(err["msg"])))
    return issues


async def _api_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return problem_response(exc)


async def _http_exception_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(exc.status_code)
    if code is None:
        error = ApiError(str(exc.detail), code="internal_error", status=exc.status_code)
        error.title = "HTTP error"
    else:
        error = ApiError(code=code)
    error.headers.update(exc.headers or {})
    return problem_response(error)


async def _request_validation_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = _framework_validation_issues(exc)
    if any(issue.code == "json_invalid" for issue in issues):
        return problem_response(InvalidJson())
    return problem_response(ValidationFailed(errors=issues))


async def _unhandled_handler(request: Request, exc: Exception) -> JSONResponse:
    # Log the type and path only: exception messages may quote request data.
    logger.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return problem_response(ApiError(code="internal_error"))


def install_error_handlers(app: FastAPI) -> None:
    """Replace FastAPI's default error bodies with problem+json."""
    app.add_exception_handler(ApiError, _api_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(RequestValidationError, _request_validation_handler)
    app.add_exception_handler(Exception, _unhandled_handler)


def json_dumps_ascii(value: object) -> str:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


def warnings_header(warnings: Iterable[FieldIssue], limit: int = 4096) -> str:
    """ASCII JSON list of {field, code}, cut to `limit` bytes with a final truncated marker."""
    items = [{"field": w.field, "code": w.code} for w in warnings]
    value = json_dumps_ascii(items)
    if len(value) <= limit:
        return value
    marker = json_dumps_ascii({"code": "truncated"})
    kept: list[str] = []
    size = 2 + len(marker)  # the brackets and the marker
    for item in items:
        encoded = json_dumps_ascii(item)
        if size + len(encoded) + 1 > limit:
            break
        kept.append(encoded)
        size += len(encoded) + 1
    return "[" + ",".join([*kept, marker]) + "]"


class Problem(BaseModel):
    """RFC 9457 problem details, as every sandbox error is rendered."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, str]] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting problem+json for these statuses."""
    return {
        status: {
            "model": Problem,
            "content": {PROBLEM_JSON: {}},
            "description": ", ".join(
                f"`{code}`" for code, doc in CATALOG.items() if doc.status == status
            ),
        }
        for status in statuses
    }
