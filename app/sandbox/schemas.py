"""Wire models of the sandbox's own endpoints (`/_sandbox`, README "Calls, with curl and
Python"): the helpers' bodies, webhook registration and deliveries, the request journal,
fault rules, the inbox. Shared types and the draft models are in app.schemas."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from app import urls
from app.errors import FieldIssue
from app.schemas import Rpps, Timestamp, Uuid

FAULT_PATH_PATTERN = r"^/api/interop/v1/[A-Za-z0-9._~%/*{}-]*$"
REPORT_TEXT_MAX_CHARS = 20_000


def _json_integer(value: object) -> object:
    # A JSON integer, as JSON Schema counts them (3 and 3.0), never "3" or true.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


# The bounds go inside, before the validator, so the schema says minimum/maximum.
FaultStatus = Annotated[int, Field(ge=400, le=599, strict=True), BeforeValidator(_json_integer)]
DelayMs = Annotated[int, Field(ge=0, le=30_000, strict=True), BeforeValidator(_json_integer)]
Times = Annotated[int, Field(ge=1, le=10_000, strict=True), BeforeValidator(_json_integer)]


# --- Test helpers ---------------------------------------------------------------------


class PublishBody(BaseModel):
    """Practitioners to use when the draft has none, checked as at creation."""

    model_config = ConfigDict(extra="forbid")

    author_rpps: Rpps | None = Field(default=None, description="In the practitioner directory.")
    recipient_rpps: Rpps | None = None


def _storable(value: str) -> str:
    # NUL and lone surrogates parse from JSON but cannot be stored as UTF-8 or PostgreSQL text.
    if any(ch == "\x00" or "\ud800" <= ch <= "\udfff" for ch in value):
        raise PydanticCustomError(
            "invalid_character", "The text holds a NUL character or a lone surrogate."
        )
    return value


class CompleteBody(BaseModel):
    """The expert's answer; a default text is used when none is given."""

    model_config = ConfigDict(extra="forbid")

    report_text: Annotated[str, AfterValidator(_storable)] | None = Field(
        default=None, max_length=REPORT_TEXT_MAX_CHARS
    )


class ResetCounts(BaseModel):
    drafts: int
    files: int
    deliveries: int
    journal: int
    faults: int


class AdminResetCounts(ResetCounts):
    """What the full reset deleted: every key's rows, the inboxes and run-time state."""

    inbox: int
    webhooks: int = Field(description="Webhook endpoints registered at run time.")
    autopilot: int = Field(description="Automatic answers that were still due.")


class VendorReset(BaseModel):
    deleted: ResetCounts


# --- Request journal and faults --------------------------------------------------------


class RequestEntry(BaseModel):
    """One journaled call: what happened and every error and warning, never the bodies."""

    id: Uuid
    time: Timestamp
    method: str
    path: str
    status: int
    draft_id: str | None
    duration_ms: float
    errors: list[FieldIssue]
    warnings: list[FieldIssue]


class RequestList(BaseModel):
    items: list[RequestEntry]


class FaultMethod(StrEnum):
    ANY = "*"
    GET = "GET"
    HEAD = "HEAD"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"
    OPTIONS = "OPTIONS"


class FaultBody(BaseModel):
    """The key's next `times` matching interop calls answer `status`, or wait first."""

    model_config = ConfigDict(
        extra="forbid",
        # No effect without a status or a delay: say so in the schema as the server does.
        json_schema_extra={
            "if": {
                "anyOf": [
                    {"not": {"required": ["status"]}},
                    {"properties": {"status": {"type": "null"}}},
                ]
            },
            "then": {"required": ["delay_ms"], "properties": {"delay_ms": {"minimum": 1}}},
        },
    )

    method: FaultMethod = FaultMethod.ANY
    path: str = Field(
        default=f"{urls.INTEROP_PREFIX}/*",
        max_length=2000,
        pattern=FAULT_PATH_PATTERN,
        description="An interop path; `*` matches any characters, slashes included.",
        examples=["/api/interop/v1/drafts"],
    )
    status: FaultStatus | None = None
    delay_ms: DelayMs = 0
    times: Times = 1

    @model_validator(mode="after")
    def _has_effect(self) -> FaultBody:
        if self.status is None and not self.delay_ms:
            raise PydanticCustomError(
                "no_effect", "Give a status (400-599), a delay_ms (> 0), or both."
            )
        return self


class Fault(BaseModel):
    """A fault rule, with the uses it has `remaining`."""

    id: Uuid
    method: FaultMethod
    path: str
    status: int | None
    delay_ms: int
    times: int
    remaining: int
    created_at: Timestamp


class FaultList(BaseModel):
    items: list[Fault]


class FaultsDeleted(BaseModel):
    deleted: int


# --- Inbox ---------------------------------------------------------------------------


class InboxRequest(BaseModel):
    """One request the built-in receiver recorded; binary bodies are base64."""

    id: Uuid
    name: str
    received_at: Timestamp
    method: str
    headers: dict[str, str]
    body: str
    body_encoding: Literal["utf-8", "base64"]
    size: int


class InboxList(BaseModel):
    items: list[InboxRequest]


class InboxRecorded(BaseModel):
    id: Uuid


# --- The URL method's lint (the pages' JSON endpoint) -----------------------------------


class LintRequest(BaseModel):
    """Either the raw fragment (what follows `#`) or form values keyed by parameter name."""

    model_config = ConfigDict(extra="forbid")

    fragment: str | None = None
    values: dict[str, str] | None = None


class LintIssue(BaseModel):
    code: str
    message: str
    message_fr: str


class LintParameter(BaseModel):
    name: str
    value: str
    field: str | None
    verdict: Literal["ok", "warning", "error", "unknown"]
    issues: list[LintIssue]


class LintResult(BaseModel):
    """Each parameter with its verdict, and the decoded values of the recognised ones."""

    ok: bool
    errors: int
    warnings: int
    parameters: list[LintParameter]
    values: dict[str, str]


class ClockAdvanceBody(BaseModel):
    """How far ahead to look: what is scheduled before now + `seconds` happens now."""

    model_config = ConfigDict(extra="forbid")

    seconds: Annotated[
        int, Field(gt=0, le=2_592_000, strict=True), BeforeValidator(_json_integer)
    ] = Field(description="1 to 2,592,000 (thirty days).", examples=[3600])


class PerformedMove(BaseModel):
    """One scheduled move, performed by the advance."""

    kind: Literal["autopilot", "webhook_retry"] = Field(
        description="A scenario practitioner's answer, or a webhook retry."
    )
    draft_id: Uuid
    due_at: Timestamp = Field(description="When it was due.")


class ClockAdvanced(BaseModel):
    advanced_seconds: int
    performed: list[PerformedMove] = Field(description="In the order they were performed.")
