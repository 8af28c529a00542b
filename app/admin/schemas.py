"""Wire models of the admin scope `/_sandbox/admin/…` (README, "Dashboard and admin scope"):
every key's data as the dashboard reads it. The vendor-scope models they extend are in
app.schemas and app.sandbox.schemas."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.notifications.schemas import WEBHOOK_URL_PATTERN, Delivery
from app.sandbox.schemas import AdminResetCounts, RequestEntry
from app.schemas import DraftView, Timestamp, Url


class AdminDraft(DraftView):
    """A draft of any key, or of the URL method's page; each file's `url` is the admin
    download route."""

    owner_key: str | None = Field(
        description="The API key that created it; null for a draft of the URL method's page."
    )
    updated_at: Timestamp
    redirect_url: Url = Field(description="The draft's page (a first GET visits it).")


class AdminDraftList(BaseModel):
    items: list[AdminDraft]


class AdminIssue(BaseModel):
    """A journaled error or warning, with the pages' French sentence for it."""

    field: str
    code: str
    message: str
    message_fr: str


class AdminRequestEntry(RequestEntry):
    """A journaled call of any key."""

    owner_key: str
    errors: list[AdminIssue]  # type: ignore[assignment]
    warnings: list[AdminIssue]  # type: ignore[assignment]


class AdminRequestList(BaseModel):
    items: list[AdminRequestEntry]


class AdminDelivery(Delivery):
    """A notification of any key, with every attempt."""

    owner_key: str


class AdminDeliveryList(BaseModel):
    items: list[AdminDelivery]


class InboxSummary(BaseModel):
    """An inbox that received something; `GET /_sandbox/inbox/{name}` lists its requests."""

    name: str
    count: int
    last_received_at: Timestamp


class InboxSummaryList(BaseModel):
    items: list[InboxSummary]


class AdminKey(BaseModel):
    """An API key (of the fixtures, or added at run time) and where its notifications go."""

    key: str
    name: str
    source: Literal["fixtures", "runtime"] = Field(
        description="`runtime`: added with POST /_sandbox/admin/keys (it can be revoked)."
    )
    webhook_url: str | None
    webhook_secret: str | None
    webhook_source: Literal["fixtures", "registered"] | None = Field(
        description="`registered`: PUT /_sandbox/webhook, which overrides the fixtures'."
    )


class AdminKeyList(BaseModel):
    items: list[AdminKey]


class AdminKeyBody(BaseModel):
    """A key to add at run time; a webhook secret is generated when `webhook_url` is given."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["Vendor C"])
    webhook_url: str | None = Field(
        default=None,
        max_length=2000,
        pattern=WEBHOOK_URL_PATTERN,
        examples=["http://127.0.0.1:9000/hook"],
        description="Never a link-local address (169.254.0.0/16, fe80::/10): 422.",
    )


class AdminKeyCreated(BaseModel):
    """The new key and its webhook secret: shown once here, and in GET /_sandbox/admin/keys."""

    key: str
    name: str
    webhook_url: str | None
    webhook_secret: str | None


class ChangeCursor(BaseModel):
    """Moves whenever anything the admin listings show changes."""

    cursor: str


class AdminReset(BaseModel):
    deleted: AdminResetCounts


class SnapshotImported(BaseModel):
    """What a snapshot import put in place of everything (README, "Snapshots")."""

    format: int = Field(description="The snapshot's format number.")
    tables: dict[str, int] = Field(description="Rows imported per table.")
    files: int = Field(description="Attached files imported, with their bytes.")
