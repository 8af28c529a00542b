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
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    model_serializer,
)

from app.errors import FieldIssue
from app.models import DraftStatus

RPPS_PATTERN = r"^[0-9]{11}$"
# Positions 6-7 may be Corsica's 2A/2B (lowercase is accepted with a warning).
NIR_PATTERN = r"^[0-9]{5}(?:[0-9]{2}|2[ABab])[0-9]{8}$"
INSEE_PATTERN = r"^(?:2[AB][0-9]{3}|[0-9]{5})$"
PHONE_PATTERN = r"^0[1-9][0-9]{8}$"


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
    # The string first: "2" stays "2" when the pull view echoes it.
    birth_order: BirthOrderText | Annotated[int, Field(ge=1, le=9)] | None = Field(
        union_mode="left_to_right",
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


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]


class Problem(BaseModel):
    """RFC 9457 problem details, as every sandbox error is rendered."""

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
