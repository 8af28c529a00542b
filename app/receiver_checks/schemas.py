"""Wire models of the receiver check (README, "Check your webhook receiver")."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.sandbox.schemas import WEBHOOK_SECRET_PATTERN, WEBHOOK_URL_PATTERN
from app.schemas import Context, Timestamp, Uuid


class CheckStatus(StrEnum):
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"


class Expect(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105  (a verdict, not a password)
    FAIL = "fail"
    WARN = "warn"


class ReceiverCheckBody(BaseModel):
    """Where to send the battery; each of `url` and `secret` defaults to the key's webhook."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(
        default=None,
        max_length=2000,
        pattern=WEBHOOK_URL_PATTERN,
        examples=["http://127.0.0.1:9000/hook"],
    )
    secret: str | None = Field(default=None, max_length=200, pattern=WEBHOOK_SECRET_PATTERN)
    context: Context | None = Field(
        default=None,
        description='The context of the check\'s draft; `{"receiver_check": "<check id>"}` '
        "when absent.",
    )


class CaseResult(BaseModel):
    """One case of the battery and how the receiver answered it."""

    name: str = Field(examples=["valid"])
    expect: Expect
    verdict: Verdict
    status_code: int | None = Field(description="The last answer's status; null without one.")
    duration_ms: float = Field(description="The slowest answer of the case.")
    detail: str = Field(description="What was sent and what came back.")
    hint: str | None = Field(description="What to change in the receiver; null when it passed.")


class ReceiverCheck(BaseModel):
    """A receiver check: the battery sent to `url`, its cases as they are judged."""

    id: Uuid | None
    url: str
    status: CheckStatus
    started_at: Timestamp
    finished_at: Timestamp | None
    draft_id: Uuid | None
    cases: list[CaseResult]


class ReceiverCheckList(BaseModel):
    """The key's receiver checks, newest first."""

    items: list[ReceiverCheck]


def case_results(raw: list[dict[str, Any]]) -> list[CaseResult]:
    """Stored cases (JSON) as wire models."""
    return [CaseResult.model_validate(item) for item in raw]


class AdminReceiverCheckBody(ReceiverCheckBody):
    """A check for any key (admin scope); the same defaults from that key's webhook."""

    owner_key: str = Field(max_length=200, description="The API key whose receiver is checked.")


class AdminCaseResult(CaseResult):
    """A case as the dashboard shows it: with its title and hint in French."""

    title_fr: str
    hint_fr: str | None


class AdminReceiverCheck(ReceiverCheck):
    """A receiver check, the key it belongs to, its cases with their French."""

    owner_key: str
    cases: list[AdminCaseResult]  # type: ignore[assignment]


class AdminReceiverCheckList(BaseModel):
    items: list[AdminReceiverCheck]
