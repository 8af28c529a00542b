"""Wire models of the notifications the sandbox sends and of their endpoint
(`/_sandbox/webhook`, `/_sandbox/webhooks/deliveries`; README, "Receive notifications")."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.models import EventStatus
from app.schemas import StatusChangedEvent, Timestamp, Uuid

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
    """Where the key's notifications go. Without `secret` the key keeps its current one (a
    new one is generated only when it has none, or with `rotate_secret`)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        max_length=2000,
        pattern=WEBHOOK_URL_PATTERN,
        examples=["http://127.0.0.1:9000/hook"],
        description="Never a link-local address (169.254.0.0/16, fe80::/10): 422.",
    )
    secret: str | None = Field(
        default=None,
        max_length=200,
        pattern=WEBHOOK_SECRET_PATTERN,
        description="Omitted: the key's current secret is kept.",
    )
    rotate_secret: bool = Field(
        default=False,
        strict=True,
        description="True: a new secret is generated (a given `secret` is used instead).",
    )


class WebhookConfig(BaseModel):
    """The key's webhook endpoint and secret; nulls when none is configured (after a
    DELETE: the fixtures' webhook again, or nulls)."""

    url: str | None
    secret: str | None
