"""Typed errors: each ApiError subclass carries its code, status, title and explanation
(README, "Errors"); the catalogue behind the `/errors/<code>` pages is derived from the
classes. Their problem+json body and the handlers that answer with them, the framework's
own errors included, are in app/http/problems.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


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


class HostNotAllowed(ApiError):
    code = "host_not_allowed"
    status = 400
    title = "Host not allowed"
    explanation = (
        "The `Host` header names a host this sandbox does not answer for. It accepts the "
        "loopback names (localhost, 127.0.0.1, [::1]), the address the connection came "
        "to, OMNIDOC_BASE_URL's host and the names in OMNIDOC_ALLOWED_HOSTS "
        "(comma-separated; ports are not compared). Calling it by another name, such as "
        "a compose service name, needs that name in OMNIDOC_ALLOWED_HOSTS. A page of "
        "another site reaching the sandbox through its own DNS name (DNS rebinding) is "
        "refused this way."
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


class KeyNotFound(ApiError):
    code = "key_not_found"
    status = 404
    title = "API key not found"
    explanation = (
        "No API key with this value in this sandbox. Take the `key` from GET /_sandbox/admin/keys."
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


class FixtureKey(ApiError):
    code = "fixture_key"
    status = 409
    title = "Key of the fixtures"
    explanation = (
        "This API key comes from the fixtures file: it cannot be deleted at run time. Edit "
        "the file OMNIDOC_FIXTURES points at and restart, or revoke a key added with "
        "POST /_sandbox/admin/keys."
    )


class ReceiverCheckNotFound(ApiError):
    code = "receiver_check_not_found"
    status = 404
    title = "Receiver check not found"
    explanation = (
        "No receiver check with this id belongs to your API key. Take the `id` from "
        "POST /_sandbox/receiver-checks or GET /_sandbox/receiver-checks."
    )


class SnapshotInvalid(ApiError):
    code = "snapshot_invalid"
    status = 422
    title = "Snapshot refused"
    explanation = (
        "The snapshot file is truncated, was changed after it was written, or has a newer "
        "format than this sandbox reads; nothing was imported. The detail names what is wrong."
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


class AdminTooManyFailures(ApiError):
    code = "admin_too_many_failures"
    status = 429
    title = "Too many wrong admin tokens"
    explanation = (
        "This client sent too many wrong admin tokens in a short time; admin calls with a "
        "token from it are refused until `Retry-After` seconds have passed. Check "
        "OMNIDOC_ADMIN_TOKEN, then retry after that delay."
    )

    def __init__(self, retry_after: int = 60) -> None:
        super().__init__(
            f"Too many wrong admin tokens from this client: retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


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
