"""Tables and statuses; the wire models are in app/schemas.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, String, Text, TypeDecorator
from sqlmodel import Field, SQLModel

from app.storable import scrub, storable_text


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StoredJSON(TypeDecorator[Any]):
    """JSON read back as UTF-8 can carry it: a lone surrogate stored escaped (before
    bodies were checked for them) comes back as U+FFFD instead of failing every read."""

    impl = JSON
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return scrub(value)


class StorableString(TypeDecorator[str]):
    """A VARCHAR written with NUL and lone surrogates replaced by U+FFFD (app.storable), for
    text taken from the request line rather than a checked body: PostgreSQL refuses NUL."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else storable_text(value)


def _ts(*, index: bool = False, nullable: bool = True) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class DraftStatus(StrEnum):
    TEMPORARY = "temporary"
    DRAFT = "draft"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Draft(SQLModel, table=True):
    """A téléexpertise request, from the vendor's temporary draft to its end."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    owner_key: str | None = Field(default=None, index=True, max_length=200)
    status: str = Field(default=DraftStatus.TEMPORARY, max_length=20, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Indexed: the dashboard's change cursor takes its maximum (app.admin.changes.change_cursor).
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    visited_at: datetime | None = _ts()
    published_at: datetime | None = _ts()
    completed_at: datetime | None = _ts()
    cancelled_at: datetime | None = _ts()
    author_rpps: str | None = Field(default=None, max_length=64)
    recipient_rpps: str | None = Field(default=None, max_length=64)
    patient: dict[str, Any] | None = Field(default=None, sa_column=Column(StoredJSON))
    text: str | None = Field(default=None, sa_column=Column(Text))
    # Compact JSON text of `context` exactly as parsed, echoed in every notification.
    context_json: str | None = Field(default=None, sa_column=Column(Text))
    report_text: str | None = Field(default=None, sa_column=Column(Text))


class StoredFile(SQLModel, table=True):
    """An attachment; visible only once its bytes are on disk and this row committed."""

    __tablename__ = "stored_file"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    draft_id: str = Field(foreign_key="draft.id", index=True, max_length=36)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=255)
    sniffed_type: str | None = Field(default=None, max_length=255)
    size: int
    sha256: str = Field(max_length=64)
    storage_name: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RenderedReport(SQLModel, table=True):
    """A completed draft's compte rendu PDF, drawn once on first request (`app.reports.service`)."""

    __tablename__ = "rendered_report"

    draft_id: str = Field(foreign_key="draft.id", ondelete="CASCADE", primary_key=True)
    pdf: bytes = Field(sa_type=LargeBinary, nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebhookEndpoint(SQLModel, table=True):
    """A webhook registered at run time; overrides the fixture's for that key."""

    __tablename__ = "webhook_endpoint"

    owner_key: str = Field(primary_key=True, max_length=200)
    url: str = Field(max_length=2000)
    secret: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RuntimeKey(SQLModel, table=True):
    """An API key added at run time (SPEC §11, `POST /_sandbox/admin/keys`).

    Written by `app.admin.keys`, read by `app.http.api_keys` on every worker and replica.
    Kept by the admin reset (db.wipe_data): a reset wipes data, not the team's keys. A
    revoked key's row is deleted; its drafts and journal stay until a reset.
    """

    __tablename__ = "runtime_key"
    __table_args__ = {"info": {"kept_by_reset": True}}

    key: str = Field(primary_key=True, max_length=200)
    name: str = Field(max_length=200)
    webhook_url: str | None = Field(default=None, max_length=2000)
    webhook_secret: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class AutopilotMove(SQLModel, table=True):
    """A scenario practitioner's answer, booked when its draft entered `in_progress`.

    Owned by `app.drafts.autopilot`: written in the publishing transaction, removed by the
    transaction that performs it (or finds the draft already answered by hand).
    """

    __tablename__ = "autopilot_move"

    draft_id: str = Field(foreign_key="draft.id", primary_key=True, max_length=36)
    outcome: str = Field(max_length=20)  # a DraftStatus: completed or cancelled
    report_text: str | None = Field(default=None, sa_column=Column(Text))
    # The publishing request's base, so the notification's report_url names the same host.
    base_url: str = Field(sa_column=Column(Text, nullable=False))
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EventStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookEvent(SQLModel, table=True):
    """One notification in the durable outbox; its attempts are WebhookAttempt rows."""

    __tablename__ = "webhook_event"

    # Insertion order: per-draft ordering and the `?after=` cursor both rely on it.
    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(default_factory=new_id, unique=True, max_length=36)
    webhook_id: str = Field(max_length=64)  # Standard Webhooks `webhook-id`, same on retries
    owner_key: str = Field(index=True, max_length=200)
    draft_id: str = Field(index=True, max_length=36)
    event_type: str = Field(max_length=100)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=EventStatus.PENDING, index=True, max_length=20)
    attempt_count: int = 0
    next_attempt_at: datetime | None = _ts(index=True)
    claimed_until: datetime | None = _ts()
    claim_token: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Indexed: the dashboard's change cursor takes its maximum (app.admin.changes.change_cursor).
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class WebhookAttempt(SQLModel, table=True):
    """One POST of an event to the vendor's endpoint, successful or not."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    event_seq: int = Field(foreign_key="webhook_event.seq", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    url: str = Field(max_length=2000)
    status_code: int | None = None
    duration_ms: float = 0.0
    error: str | None = Field(default=None, max_length=500)
    response_body: str | None = Field(default=None, sa_column=Column(Text))


class InboxItem(SQLModel, table=True):
    """One request received by the built-in webhook receiver `/_sandbox/inbox/{name}`."""

    __tablename__ = "inbox_item"

    # Insertion order, for the `?after=` cursor.
    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(default_factory=new_id, unique=True, max_length=36)
    name: str = Field(index=True, max_length=64)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    method: str = Field(max_length=10)
    headers: dict[str, str] = Field(default_factory=dict, sa_column=Column(StoredJSON))
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    body_encoding: str = Field(default="utf-8", max_length=10)  # or "base64" for binary
    size: int = 0


class InboxUsage(SQLModel, table=True):
    """Bytes the inbox holds across every name: one row, changed with its items (sandbox.inbox)."""

    __tablename__ = "inbox_usage"

    id: int = Field(default=1, primary_key=True)
    stored_bytes: int = 0


class JournalEntry(SQLModel, table=True):
    """One journaled call of a key (README, "Request journal"): what happened, never bodies."""

    __tablename__ = "journal_entry"
    __table_args__ = (Index("ix_journal_entry_owner_seq", "owner_key", "seq"),)

    # Insertion order: newest first, the `?after=` cursor and the size cap rely on it.
    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(default_factory=new_id, unique=True, max_length=36)
    owner_key: str = Field(max_length=200)
    time: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # From the request line, not a checked body: whatever bytes it holds is stored.
    method: str = Field(sa_type=StorableString(16))
    path: str = Field(sa_type=StorableString(2000))
    status: int
    draft_id: str | None = Field(default=None, sa_type=StorableString(64))
    duration_ms: float = 0.0
    errors: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(StoredJSON))
    warnings: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(StoredJSON))
    # What the test kit judges (app.testkit.judge), never a value sent: a create's field
    # names, whether it sent `context`, its author's presence in the directory and the
    # SHA-256 of its canonical JSON; an upload's number of `file` parts.
    facts: dict[str, Any] | None = Field(default=None, sa_column=Column(StoredJSON))


class FaultRule(SQLModel, table=True):
    """An injected fault: the key's next `remaining` matching interop calls misbehave."""

    __tablename__ = "fault_rule"

    seq: int | None = Field(default=None, primary_key=True)  # oldest rule matches first
    id: str = Field(default_factory=new_id, unique=True, max_length=36)
    owner_key: str = Field(index=True, max_length=200)
    method: str = Field(max_length=16)
    path: str = Field(max_length=2000)
    status: int | None = None
    delay_ms: int = 0
    # The `Retry-After` of an injected 429/503 (the test kit's resilience asks for 2 s).
    retry_after: int | None = None
    times: int = 1
    remaining: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AdminSession(SQLModel, table=True):
    """A dashboard sign-in (SPEC §7): the cookie holds a random value; the row, keyed by
    HMAC(OMNIDOC_ADMIN_TOKEN, value), says it is still open. In the database, so every
    worker and replica sees a sign-out; the key is not the value, so a copy of the
    database opens no dashboard, and a new token ends every session. Kept by the admin
    reset (db.wipe_data), which would otherwise sign out the admin who clicked it."""

    __tablename__ = "admin_session"
    __table_args__ = {"info": {"kept_by_reset": True}}

    id: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class TestSessionStatus(StrEnum):
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"


class TestSession(SQLModel, table=True):
    """A test kit session (app.testkit.service): from `started_at` the key's traffic is judged;
    once finished, its results are frozen in `results`."""

    __tablename__ = "test_session"
    __test__ = False  # not a pytest class

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    owner_key: str = Field(index=True, max_length=200)
    # The key while the session runs, NULL once finished: unique, so one running per key
    # even with several workers.
    running_key: str | None = Field(default=None, unique=True, max_length=200)
    status: str = Field(default=TestSessionStatus.RUNNING, max_length=20)
    resilience: bool = False
    fault_rule_id: str | None = Field(default=None, max_length=36)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = _ts()
    results: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(StoredJSON))


class ReceiverCheckRecord(SQLModel, table=True):
    """A receiver check of a key (README, "Check your webhook receiver"); its cases as judged.

    Owned by `app.receiver_checks.service`. `running_key` is the owner's key while the check
    runs and NULL after: its unique index makes one running check per key on any backend.
    """

    __tablename__ = "receiver_check"

    # Insertion order: newest first and the `?after=` cursor rely on it.
    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(default_factory=new_id, unique=True, max_length=36)
    owner_key: str = Field(index=True, max_length=200)
    running_key: str | None = Field(default=None, unique=True, max_length=200)
    url: str = Field(max_length=2000)
    status: str = Field(max_length=20)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = _ts()
    # Renewed while a process runs the check; one left behind by a restart is finished.
    heartbeat_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    draft_id: str | None = Field(default=None, max_length=36)
    cases: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(StoredJSON))
