"""The receiver check's battery: twelve Standard Webhooks cases and how to judge answers.

Pure: built once from a secret, a draft id and the present, it is what the API's checks,
`omnidoc-sandbox check-receiver` and `omnidoc-sandbox receiver-vectors` send or print
(SPEC §8; Standard Webhooks, spec/standard-webhooks.md: headers `webhook-id`,
`webhook-timestamp`, `webhook-signature`, signed content `id.timestamp.body`, a
tolerance of five minutes). Signatures come from the `standardwebhooks` library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from standardwebhooks import Webhook

from app import urls
from app.models import DraftStatus
from app.notifications.webhooks import SECRET_PREFIX
from app.receiver_checks.schemas import CaseResult, Expect, Verdict
from app.schemas import (
    Billing,
    BillingAct,
    Context,
    Insurance,
    StatusChangedData,
    StatusChangedEvent,
    wire_time,
)

SLOW_MS = 2000.0  # a passing answer slower than this is a `warn`
SKEW = timedelta(minutes=10)  # stale and future timestamps: twice the spec's tolerance
PROBE_TYPE = "telexpertise.sandbox_probe"
# Where the events' report_url points when no server names itself (the CLI).
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
NON_ASCII_TEXT = "Caisse primaire d’assurance maladie de l’Hérault – cœur de ville… 🩺"


@dataclass(frozen=True)
class Delivery:
    """One request of a case: its vector name, exact headers and body."""

    name: str
    summary: str  # what is sent, for the verdict's detail
    headers: dict[str, str]
    body: str


@dataclass(frozen=True)
class Case:
    """A case: its deliveries, what a correct receiver answers, what to change otherwise."""

    name: str
    expect: Expect
    deliveries: tuple[Delivery, ...]
    hint: str  # when the receiver answered the wrong class (2xx for reject, 4xx for accept)


@dataclass(frozen=True)
class Answer:
    """How the receiver answered one delivery; `error` is "timeout" or "connection"."""

    status_code: int | None
    duration_ms: float
    error: str | None = None
    excerpt: str = ""  # the start of the response body


@dataclass(frozen=True)
class Battery:
    secret: str
    now: datetime
    draft_id: str
    cases: tuple[Case, ...]


HINTS = {
    "valid": "your receiver refused a correctly signed event: verify `webhook-signature` "
    "over the raw body with the endpoint's secret (the base64 after `whsec_`), signed content "
    "`{webhook-id}.{webhook-timestamp}.{body}`, then answer 2xx.",
    "duplicate": "a retry repeats the same `webhook-id`: answer 2xx again (deduplicate on "
    "`webhook-id`) instead of refusing it.",
    "multiple_signatures": "`webhook-signature` may hold several space-separated `v1,` "
    "signatures (secret rotation): accept the request when any one of them matches.",
    "unknown_type": "ignore event types you do not know and answer 2xx: new types are added "
    "without notice.",
    "extra_fields": "ignore unknown JSON members at every level (no strict schema on input): "
    "members are added without notice.",
    "non_ascii": "verify the raw bytes as received, before parsing: re-serialising the JSON "
    "(escaping é as \\u00e9, reordering or re-spacing) changes the signed content.",
    "out_of_order": "events may arrive out of order: accept both, and order them by the "
    "body's `timestamp` (keep the newest status) rather than by arrival.",
    "bad_signature": "your receiver accepted a body whose signature was made with another "
    "secret: verify `webhook-signature` with the endpoint's secret before parsing.",
    "missing_signature": "your receiver accepted a request without `webhook-signature`: "
    "answer 4xx when `webhook-id`, `webhook-timestamp` or `webhook-signature` is missing.",
    "tampered_body": "your receiver accepted a body changed after signing: compute the HMAC "
    "over the exact body received and compare it in constant time.",
    "stale_timestamp": "your receiver accepted an event signed 10 minutes ago: refuse a "
    "`webhook-timestamp` older than 5 minutes (replays).",
    "future_timestamp": "your receiver accepted an event dated 10 minutes ahead: refuse a "
    "`webhook-timestamp` more than 5 minutes in the future.",
}
HINT_SERVER_ERROR_ON_REJECT = (
    "answer 4xx (400 or 401) to a request that fails verification, not 5xx: a 5xx tells the "
    "sender to retry it."
)
HINT_REDIRECT = (
    "redirects are never followed: register the final URL (scheme, host, path, trailing "
    "slash) as the webhook URL."
)
HINT_TIMEOUT = (
    "answer within the sender's timeout: acknowledge with 2xx first, process the event "
    "afterwards (a queue)."
)
HINT_CONNECTION = (
    "nothing answered at this URL: check that the receiver listens there (host, port, path)."
)
HINT_RUN_AGAIN = "run the check again."
HINT_SLOW = (
    "answer within 2 s: acknowledge first and do the work afterwards; slow answers end in "
    "timeouts and retries."
)


def _dumps(value: Any) -> str:
    # Compact and raw UTF-8, as the sandbox's own notifications are sent.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def other_secret(secret: str) -> str:
    """A secret that is not the endpoint's, derived from it (the vectors stay stable)."""
    digest = hmac.new(secret.encode(), b"omnidoc-sandbox another secret", hashlib.sha256)
    return SECRET_PREFIX + base64.b64encode(digest.digest()[:24]).decode()


def _webhook_id(draft_id: str, now: datetime, name: str) -> str:
    digest = hashlib.sha256(f"{draft_id}:{now.timestamp()}:{name}".encode()).hexdigest()
    return f"msg_{digest[:24]}"


def _billing(draft_at: datetime) -> Billing:
    return Billing(
        date=draft_at.date().isoformat(),
        currency="EUR",
        acts=[
            BillingAct(code="TE2", role="requis", rpps=None, amount="20.00"),
            BillingAct(code="RQD", role="requérant", rpps=None, amount="10.00"),
        ],
        insurance=Insurance(
            nir=None, regime="Régime général", caisse=NON_ASCII_TEXT, centre=None, gestion=None
        ),
    )


def _status_event(
    *,
    draft_id: str,
    status: DraftStatus,
    previous: DraftStatus,
    at: datetime,
    context: dict[str, Any] | None,
    base_url: str,
    billing: Billing | None = None,
) -> dict[str, Any]:
    completed = status == DraftStatus.COMPLETED
    event = StatusChangedEvent(
        type="telexpertise.status_changed",
        timestamp=at,
        data=StatusChangedData(
            id=draft_id,
            status=status,
            previous_status=previous,
            context=Context(context) if context is not None else None,
            report_url=urls.report_url(base_url, draft_id) if completed else None,
            billing=billing,
        ),
    )
    return event.model_dump(mode="json")


def build_battery(
    *,
    secret: str,
    draft_id: str,
    now: datetime,
    context: dict[str, Any] | None = None,
    base_url: str = DEFAULT_BASE_URL,
) -> Battery:
    """The twelve cases, in SPEC order, about `draft_id`, signed for the instant `now`."""
    now = now.replace(microsecond=0)
    signer, impostor = Webhook(secret), Webhook(other_secret(secret))

    def delivery(
        name: str,
        summary: str,
        body: str,
        *,
        at: datetime = now,
        sign_with: Webhook = signer,
        signed_body: str | None = None,
    ) -> Delivery:
        webhook_id = _webhook_id(draft_id, now, name)
        signature = sign_with.sign(webhook_id, at, body if signed_body is None else signed_body)
        headers = {
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature,
            "content-type": "application/json",
            "user-agent": "omnidoc-sandbox receiver-check",
        }
        return Delivery(name=name, summary=summary, headers=headers, body=body)

    def event(status: DraftStatus, previous: DraftStatus, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("at", now)
        return _status_event(
            draft_id=draft_id,
            status=status,
            previous=previous,
            context=context,
            base_url=base_url,
            **kwargs,
        )

    in_progress = _dumps(event(DraftStatus.IN_PROGRESS, DraftStatus.DRAFT))
    valid = delivery("valid", "a correctly signed telexpertise.status_changed", in_progress)
    duplicate = Delivery(
        name="duplicate",
        summary="the `valid` request again (same webhook-id, headers and body)",
        headers=dict(valid.headers),
        body=valid.body,
    )
    rotated = delivery("multiple_signatures", "", in_progress)
    wrong = impostor.sign(rotated.headers["webhook-id"], now, in_progress)
    rotated = Delivery(
        name=rotated.name,
        summary="a wrong `v1,` signature, then the right one, in one header",
        headers={
            **rotated.headers,
            "webhook-signature": f"{wrong} {rotated.headers['webhook-signature']}",
        },
        body=in_progress,
    )
    probe = _dumps({"type": PROBE_TYPE, "timestamp": wire_time(now), "data": {"id": draft_id}})
    extra = event(DraftStatus.IN_PROGRESS, DraftStatus.DRAFT)
    extra["sandbox_probe"] = {"level": 1, "nested": {"level": 2, "list": [{"level": 3}]}}
    extra["data"]["sandbox_probe"] = {"level": 2, "nested": {"level": 3}}
    completed_at = now - timedelta(seconds=1)
    non_ascii = event(
        DraftStatus.COMPLETED, DraftStatus.IN_PROGRESS, at=completed_at, billing=_billing(now)
    )
    completed = _dumps(event(DraftStatus.COMPLETED, DraftStatus.IN_PROGRESS, at=completed_at))
    earlier = _dumps(
        event(DraftStatus.IN_PROGRESS, DraftStatus.DRAFT, at=completed_at - timedelta(minutes=1))
    )
    tampered = _tamper(in_progress, draft_id)
    unsigned = delivery("missing_signature", "", in_progress)
    unsigned_headers = {k: v for k, v in unsigned.headers.items() if k != "webhook-signature"}

    accept, reject = Expect.ACCEPT, Expect.REJECT
    cases = [
        Case("valid", accept, (valid,), HINTS["valid"]),
        Case("duplicate", accept, (duplicate,), HINTS["duplicate"]),
        Case("multiple_signatures", accept, (rotated,), HINTS["multiple_signatures"]),
        Case(
            "unknown_type",
            accept,
            (delivery("unknown_type", f"a signed event of type {PROBE_TYPE}", probe),),
            HINTS["unknown_type"],
        ),
        Case(
            "extra_fields",
            accept,
            (delivery("extra_fields", "a signed event with unknown members", _dumps(extra)),),
            HINTS["extra_fields"],
        ),
        Case(
            "non_ascii",
            accept,
            (delivery("non_ascii", "a signed event holding é, œ, … and 🩺", _dumps(non_ascii)),),
            HINTS["non_ascii"],
        ),
        Case(
            "out_of_order",
            accept,
            (
                delivery("out_of_order.completed", "a signed `completed` event", completed),
                delivery("out_of_order.in_progress", "an earlier `in_progress` event", earlier),
            ),
            HINTS["out_of_order"],
        ),
        Case(
            "bad_signature",
            reject,
            (
                delivery(
                    "bad_signature",
                    "an event signed with another secret",
                    in_progress,
                    sign_with=impostor,
                ),
            ),
            HINTS["bad_signature"],
        ),
        Case(
            "missing_signature",
            reject,
            (
                Delivery(
                    name="missing_signature",
                    summary="an event without webhook-signature",
                    headers=unsigned_headers,
                    body=in_progress,
                ),
            ),
            HINTS["missing_signature"],
        ),
        Case(
            "tampered_body",
            reject,
            (
                delivery(
                    "tampered_body",
                    "the right signature of the body before one character changed",
                    tampered,
                    signed_body=in_progress,
                ),
            ),
            HINTS["tampered_body"],
        ),
        Case(
            "stale_timestamp",
            reject,
            (
                delivery(
                    "stale_timestamp",
                    "a correctly signed event, webhook-timestamp 10 minutes old",
                    in_progress,
                    at=now - SKEW,
                ),
            ),
            HINTS["stale_timestamp"],
        ),
        Case(
            "future_timestamp",
            reject,
            (
                delivery(
                    "future_timestamp",
                    "a correctly signed event, webhook-timestamp 10 minutes ahead",
                    in_progress,
                    at=now + SKEW,
                ),
            ),
            HINTS["future_timestamp"],
        ),
    ]
    return Battery(secret=secret, now=now, draft_id=draft_id, cases=tuple(cases))


def _tamper(body: str, draft_id: str) -> str:
    """The body with one character of the draft id changed (another hex digit)."""
    at = body.index(draft_id)
    original = body[at]
    return body[:at] + ("0" if original != "0" else "1") + body[at + 1 :]


# The cases in order, and what a correct receiver does with each (SPEC §8).
EXPECTED = {
    "valid": Expect.ACCEPT,
    "duplicate": Expect.ACCEPT,
    "multiple_signatures": Expect.ACCEPT,
    "unknown_type": Expect.ACCEPT,
    "extra_fields": Expect.ACCEPT,
    "non_ascii": Expect.ACCEPT,
    "out_of_order": Expect.ACCEPT,
    "bad_signature": Expect.REJECT,
    "missing_signature": Expect.REJECT,
    "tampered_body": Expect.REJECT,
    "stale_timestamp": Expect.REJECT,
    "future_timestamp": Expect.REJECT,
}


def _shown(answer: Answer) -> str:
    if answer.error == "timeout":
        return "no answer before the timeout"
    if answer.error is not None:
        return "no connection (nothing answered)"
    excerpt = " ".join(answer.excerpt.split())[:80]
    said = f" «{excerpt}»" if excerpt else ""
    return f"{answer.status_code} in {answer.duration_ms:.0f} ms{said}"


def _failure(case: Case, answer: Answer) -> str | None:
    """The hint when this answer fails the case, else None."""
    code = answer.status_code
    if answer.error == "timeout":
        return HINT_TIMEOUT
    if answer.error is not None or code is None:
        return HINT_CONNECTION
    if 300 <= code < 400:
        return HINT_REDIRECT
    if code >= 500:
        return case.hint if case.expect == Expect.ACCEPT else HINT_SERVER_ERROR_ON_REJECT
    ok = 200 <= code < 300 if case.expect == Expect.ACCEPT else 400 <= code < 500
    return None if ok else case.hint


def judge(case: Case, answers: Sequence[Answer]) -> CaseResult:
    """The case's verdict from the answers to its deliveries, in order."""
    hints = [_failure(case, answer) for answer in answers]
    failed = next((hint for hint in hints if hint is not None), None)
    slowest = max(answer.duration_ms for answer in answers)
    if failed is not None:
        verdict, hint = Verdict.FAIL, failed
    elif slowest > SLOW_MS:
        verdict, hint = Verdict.WARN, HINT_SLOW
    else:
        verdict, hint = Verdict.PASS, None
    expected = "2xx" if case.expect == Expect.ACCEPT else "4xx"
    sent = "; then ".join(
        f"sent {d.summary}, got {_shown(a)}" for d, a in zip(case.deliveries, answers, strict=True)
    )
    return CaseResult(
        name=case.name,
        expect=case.expect,
        verdict=verdict,
        status_code=answers[-1].status_code,
        duration_ms=round(slowest, 1),
        detail=f"{sent[0].upper()}{sent[1:]} (expected {expected}).",
        hint=hint,
    )


def unsent(name: str, reason: str) -> CaseResult:
    """A case the check could not send (the sandbox restarted): failed, with that reason."""
    return CaseResult(
        name=name,
        expect=EXPECTED[name],
        verdict=Verdict.FAIL,
        status_code=None,
        duration_ms=0.0,
        detail=f"Not sent: {reason}.",
        hint=HINT_RUN_AGAIN,
    )
