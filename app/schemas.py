"""Wire models: every JSON body the sandbox sends, and the bodies its own endpoints read.

Responses are built from these models only, so `/openapi.json` (and the committed
docs/openapi.json) says exactly what goes on the wire. One datetime format everywhere:
UTC, milliseconds, a `Z` (README, "Calls, with curl and Python").
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.errors import FieldIssue
from app.models import DraftStatus, EventStatus

RPPS_PATTERN = r"^[0-9]{11}$"
# Positions 6-7 may be Corsica's 2A/2B (lowercase is accepted with a warning).
NIR_PATTERN = r"^[0-9]{5}(?:[0-9]{2}|2[ABab])[0-9]{8}$"
INSEE_PATTERN = r"^(?:2[AB][0-9]{3}|[0-9]{5})$"
PHONE_PATTERN = r"^0[1-9][0-9]{8}$"
FAULT_PATH_PATTERN = r"^/api/interop/v1/[A-Za-z0-9._~%/*{}-]*$"
# http(s), a host (a name, an IPv4 address or [::1]), a port up to 65535, then printable
# ASCII: what the delivery worker can send to, and no more.
WEBHOOK_URL_PATTERN = (
    r"^https?://(?:[A-Za-z0-9._~!$&'()*+,;=%-]+@)?(?:\[::1\]|[A-Za-z0-9._~%-]+)"
    r"(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
    r"(?:[/?#][!-~]*)?$"
)
# Standard Webhooks: whsec_ and non-empty, well-padded base64.
_B64 = "[A-Za-z0-9+/]"
WEBHOOK_SECRET_PATTERN = rf"^whsec_(?:{_B64}{{4}})*(?:{_B64}{{4}}|{_B64}{{3}}=|{_B64}{{2}}==)$"
REPORT_TEXT_MAX_CHARS = 20_000


def wire_time(value: datetime) -> str:
    """The one datetime format on the wire: `2026-11-26T10:00:00.000Z`."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timestamp = Annotated[
    datetime,
    PlainSerializer(wire_time, return_type=str),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "examples": ["2026-11-26T10:00:00.000Z"]}
    ),
]
Uuid = Annotated[str, Field(json_schema_extra={"format": "uuid"})]
Url = Annotated[str, Field(json_schema_extra={"format": "uri"})]
# Documented here, checked by app.validation (codes rpps_format, rpps_luhn, ...) wherever
# an RPPS is read, so every body answers the same codes.
Rpps = Annotated[
    str,
    Field(
        description="RPPS: 11 digits whose last is a Luhn check digit (a failed check is a "
        "warning, an error when OMNIDOC_STRICT=true).",
        examples=["10002170750"],
        json_schema_extra={"pattern": RPPS_PATTERN},
    ),
]


class Gender(StrEnum):
    M = "M"
    F = "F"


class BirthOrderText(StrEnum):
    """`birth_order` as a string: accepted with a warning (an error when strict)."""

    ONE = "1"
    TWO = "2"
    THREE = "3"
    FOUR = "4"
    FIVE = "5"
    SIX = "6"
    SEVEN = "7"
    EIGHT = "8"
    NINE = "9"


class Context(RootModel[dict[str, Any]]):
    """Any JSON object (≤ 16 KiB as compact UTF-8 JSON), echoed verbatim in every
    notification of the draft."""


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


def _text(max_length: int, description: str | None = None) -> Any:
    return Field(default=None, max_length=max_length, description=description)


# --- The create body (Omnidoc document), for documentation ------------------------------
# The create route checks bodies with app.validation (every error and warning at once,
# strict mode); these models describe valid input, and tests keep their field lists equal.


class Patient(BaseModel):
    """The patient of a draft; every field optional. Fields the sandbox does not know are
    kept (a warning, an error in strict mode)."""

    model_config = ConfigDict(extra="allow")

    first_name: str | None = _text(100)
    last_name: str | None = _text(100)
    birth_name: str | None = _text(100)
    birth_place: Annotated[str, Field(pattern=INSEE_PATTERN)] | None = Field(
        default=None, description="INSEE code of the birth place: 5 digits, or 2A/2B + 3 digits."
    )
    nir: Annotated[str, Field(pattern=NIR_PATTERN)] | None = Field(
        default=None,
        description="NIR of the insured person (may be a parent): 15 characters, no "
        "separators; key (last 2) = 97 - (first 13 mod 97), 2A→19 and 2B→18.",
    )
    nir_cert: Annotated[str, Field(pattern=NIR_PATTERN)] | None = Field(
        default=None, description="NIR of the patient (the beneficiary); same rules as `nir`."
    )
    gender: Gender | None = None
    birth_date: Annotated[str, Field(json_schema_extra={"format": "date"})] | None = Field(
        default=None, description="YYYY-MM-DD, a real date, not in the future."
    )
    birth_order: Annotated[int, Field(ge=1, le=9)] | BirthOrderText | None = Field(
        default=None,
        description='1-9. The strings "1"-"9" are accepted with a warning (an error when '
        "OMNIDOC_STRICT=true).",
    )
    regime: Annotated[str, Field(pattern=r"^[0-9]{2}$")] | None = None
    centre: Annotated[str, Field(pattern=r"^[0-9]{4}$")] | None = None
    caisse: Annotated[str, Field(pattern=r"^[0-9]{3}$")] | None = None
    gestion: Annotated[str, Field(pattern=r"^[0-9]{2}$")] | None = None
    address: str | None = _text(500, "Newlines allowed.")
    phone: Annotated[str, Field(pattern=PHONE_PATTERN)] | None = Field(
        default=None,
        description="10 digits starting with 0; not a valid French number (overseas "
        "included) is a warning.",
    )
    email: Annotated[str, Field(max_length=254, json_schema_extra={"format": "email"})] | None = (
        None
    )

    # No return annotation: pydantic would document that type instead of this model's.
    @model_serializer(mode="wrap")
    def _as_sent(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        # The pull view echoes the patient as sent: fields that were not sent stay absent.
        data = handler(self)
        sent = self.model_fields_set | set(self.model_extra or {})
        return {key: value for key, value in data.items() if key in sent}


class DraftCreate(BaseModel):
    """Body of POST /api/interop/v1/drafts; every field optional, `{}` is valid."""

    model_config = ConfigDict(extra="allow")

    patient: Patient | None = None
    author_rpps: Rpps | None = Field(default=None, description="In the practitioner directory.")
    recipient_rpps: Rpps | None = Field(
        default=None, description="Absent from the practitioner directory: a warning."
    )
    text: str | None = _text(20_000, "The request text.")
    context: Context | None = None


class DraftCreated(BaseModel):
    """Exactly the body the Omnidoc document gives for a created draft."""

    id: Uuid
    redirect_url: Url


# --- Files --------------------------------------------------------------------------


class AttachedFile(BaseModel):
    """A stored attachment: the original name as metadata, the declared type, a digest."""

    id: Uuid
    filename: str
    content_type: str
    size: int = Field(ge=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class FilesAttached(BaseModel):
    """The files stored by one upload request, in the order they were sent."""

    files: list[AttachedFile]


class DraftFile(AttachedFile):
    """An attachment in the pull view, with the URL of its bytes."""

    url: Url


# --- The pull view (sandbox-defined) ---------------------------------------------------


class BillingAct(BaseModel):
    code: Literal["TE2", "RQD"]
    role: Literal["requis", "requérant"]
    rpps: str | None
    amount: str = Field(pattern=r"^[0-9]+\.[0-9]{2}$", examples=["20.00"])


class Insurance(BaseModel):
    nir: str | None
    regime: str | None
    caisse: str | None
    centre: str | None
    gestion: str | None


class Billing(BaseModel):
    """Téléexpertise acts since April 2022: TE2 for the expert, RQD for the requester."""

    date: str = Field(json_schema_extra={"format": "date"})
    currency: Literal["EUR"]
    acts: list[BillingAct]
    insurance: Insurance


class DraftView(BaseModel):
    """A draft as its key sees it: state, timestamps, fields, files, report and billing."""

    id: Uuid
    status: DraftStatus
    created_at: Timestamp
    visited_at: Timestamp | None
    published_at: Timestamp | None
    completed_at: Timestamp | None
    cancelled_at: Timestamp | None
    author_rpps: str | None
    recipient_rpps: str | None
    patient: Patient | None
    text: str | None
    context: Context | None
    files: list[DraftFile]
    report_url: Url | None = Field(description="Set once `completed`.")
    billing: Billing | None = Field(description="Set once `completed`.")
    autopilot_due_at: Timestamp | None = Field(
        description="When a scenario recipient (fixtures `autopilot`) answers by itself; null "
        "when no automatic answer is pending (sandbox-defined)."
    )


# --- Notifications (sandbox-defined) -------------------------------------------------


class StatusChangedData(BaseModel):
    id: Uuid
    status: DraftStatus
    previous_status: DraftStatus
    context: Context | None = Field(description="Exactly as sent at creation.")
    report_url: Url | None
    billing: Billing | None


class StatusChangedEvent(BaseModel):
    """The body POSTed to the key's webhook URL, signed per Standard Webhooks."""

    type: Literal["telexpertise.status_changed"]
    timestamp: Timestamp
    data: StatusChangedData


class DeliveryAttempt(BaseModel):
    at: Timestamp
    status_code: int | None
    duration_ms: float
    error: str | None
    response_body: str | None = Field(description="The first 1 KiB of the answer.")


class Delivery(BaseModel):
    """One notification and every attempt to deliver it (same `webhook_id` on each)."""

    id: Uuid
    webhook_id: str
    draft_id: Uuid
    status: EventStatus
    url: str | None
    payload: StatusChangedEvent
    created_at: Timestamp
    next_attempt_at: Timestamp | None
    attempts: list[DeliveryAttempt]


class DeliveryList(BaseModel):
    items: list[Delivery]


class WebhookBody(BaseModel):
    """Where the key's notifications go; a secret is generated when none is given."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        max_length=2000, pattern=WEBHOOK_URL_PATTERN, examples=["http://127.0.0.1:9000/hook"]
    )
    secret: str | None = Field(default=None, max_length=200, pattern=WEBHOOK_SECRET_PATTERN)


class WebhookConfig(BaseModel):
    """The key's webhook endpoint and secret; nulls when none is configured."""

    url: str | None
    secret: str | None


# --- Test helpers (sandbox-defined) ---------------------------------------------------


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


class VendorReset(BaseModel):
    deleted: ResetCounts


# --- Request journal and faults (sandbox-defined) ----------------------------------


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
        default="/api/interop/v1/*",
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


# --- Inbox, probes, problems ------------------------------------------------------


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


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]


class Problem(BaseModel):
    """RFC 9457 problem details, as every sandbox error is rendered (errors.problem_body)."""

    type: str = Field(
        description="`/errors/<code>`, a page of the sandbox that explains the code.",
        json_schema_extra={"format": "uri-reference"},
    )
    title: str
    status: int
    detail: str = Field(description="A sentence a developer can act on.")
    code: str = Field(examples=["validation_failed"])
    errors: list[FieldIssue] | None = Field(
        default=None, description="Problems about fields: one entry per field and rule."
    )
    current_status: DraftStatus | None = Field(
        default=None, description="invalid_transition, report_not_ready: the draft's status."
    )
    requested_status: DraftStatus | None = Field(
        default=None, description="invalid_transition: the status asked for."
    )
    missing: list[str] | None = Field(
        default=None, description="draft_incomplete: the fields publishing needs."
    )
