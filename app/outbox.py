"""The database side of webhook delivery: due events, atomic claims, attempts (SPEC §5).

Several server processes may share one database: an attempt is made only by the process
whose conditional UPDATE claimed the row, and only the head (lowest `seq`) pending event
of each draft is ever due, so a draft's notifications keep their order. Every function
here is synchronous; the worker runs them in a thread.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, exists, func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from app.db import read_session, write_session
from app.fixtures import Fixtures
from app.models import EventStatus, WebhookAttempt, WebhookEvent, utcnow
from app.webhooks import Endpoint, effective_endpoint

# A claim outlives the longest possible attempt, so a crashed process's rows come back.
LEASE_MARGIN = timedelta(seconds=30)


@dataclass(frozen=True)
class Claimed:
    """An event this process owns until it records the attempt."""

    seq: int
    id: str
    webhook_id: str
    draft_id: str
    payload: str
    token: str
    attempt_number: int
    endpoint: Endpoint | None


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave."""

    at: datetime
    url: str
    status_code: int | None
    duration_ms: float
    error: str | None
    response_body: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _is_head() -> Any:
    """No earlier pending event of the same draft: per-draft order."""
    earlier = aliased(WebhookEvent)
    return ~exists().where(
        col(earlier.draft_id) == col(WebhookEvent.draft_id),
        col(earlier.status) == EventStatus.PENDING,
        col(earlier.seq) < col(WebhookEvent.seq),
    )


def _claimable(now: datetime) -> Any:
    return (
        WebhookEvent.status == EventStatus.PENDING,
        or_(col(WebhookEvent.claimed_until).is_(None), col(WebhookEvent.claimed_until) < now),
        _is_head(),
    )


def due_seqs(engine: Engine, *, limit: int) -> list[int]:
    """Head events whose next attempt is due and that nobody holds, oldest due first."""
    now = utcnow()
    with read_session(engine) as session:
        rows = session.exec(
            select(WebhookEvent.seq)
            .where(col(WebhookEvent.next_attempt_at) <= now, *_claimable(now))
            .order_by(col(WebhookEvent.next_attempt_at), col(WebhookEvent.seq))
            .limit(limit)
        ).all()
    return [seq for seq in rows if seq is not None]


def seconds_until_due(engine: Engine, *, cap: float) -> float:
    """How long the worker may sleep: until the next head attempt, at most `cap`."""
    now = utcnow()
    with read_session(engine) as session:
        earliest = session.exec(
            select(func.min(WebhookEvent.next_attempt_at)).where(*_claimable(now))
        ).first()
    if earliest is None:
        return cap
    return min(max((earliest - now).total_seconds(), 0.01), cap)


def claim(engine: Engine, seq: int, *, fixtures: Fixtures, timeout: float) -> Claimed | None:
    """The conditional UPDATE is the lock: rowcount 1 means this process owns the attempt.

    The endpoint is read here, so each attempt goes to the one current at that attempt.
    """
    now = utcnow()
    token = str(uuid.uuid4())
    lease = now + timedelta(seconds=timeout) + LEASE_MARGIN
    with write_session(engine) as session:
        result = session.execute(
            update(WebhookEvent)
            .where(
                col(WebhookEvent.seq) == seq,
                col(WebhookEvent.next_attempt_at) <= now,
                *_claimable(now),
            )
            .values(claim_token=token, claimed_until=lease)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        event = session.exec(select(WebhookEvent).where(WebhookEvent.seq == seq)).one()
        api_key = next((k for k in fixtures.api_keys if k.key == event.owner_key), None)
        return Claimed(
            seq=seq,
            id=event.id,
            webhook_id=event.webhook_id,
            draft_id=event.draft_id,
            payload=event.payload,
            token=token,
            attempt_number=event.attempt_count + 1,
            endpoint=effective_endpoint(session, owner_key=event.owner_key, api_key=api_key),
        )


def record(engine: Engine, claimed: Claimed, outcome: Outcome, *, delays: list[float]) -> str:
    """Store the attempt and move the event on: delivered, retry later, or failed."""
    with write_session(engine) as session:
        event = session.exec(
            select(WebhookEvent).where(WebhookEvent.seq == claimed.seq).with_for_update()
        ).first()
        if event is None:
            return "gone"  # the vendor reset its data during the attempt
        session.add(
            WebhookAttempt(
                event_seq=claimed.seq,
                at=outcome.at,
                url=outcome.url[:2000],
                status_code=outcome.status_code,
                duration_ms=outcome.duration_ms,
                error=outcome.error[:500] if outcome.error else None,
                response_body=outcome.response_body,
            )
        )
        if event.claim_token != claimed.token:
            return "superseded"  # redelivered meanwhile: the new cycle decides
        now = utcnow()
        event.attempt_count += 1
        if outcome.ok:
            event.status, event.next_attempt_at = EventStatus.DELIVERED, None
        elif event.attempt_count > len(delays):
            event.status, event.next_attempt_at = EventStatus.FAILED, None
        else:
            event.next_attempt_at = now + timedelta(seconds=delays[event.attempt_count - 1])
        event.claim_token, event.claimed_until, event.updated_at = None, None, now
        session.add(event)
        return str(event.status) if event.status != EventStatus.PENDING else "retry"


def release(engine: Engine, claimed: Claimed) -> None:
    """Give a claim back unrecorded (shutdown mid-attempt): due again at once."""
    with write_session(engine) as session:
        session.execute(
            update(WebhookEvent)
            .where(col(WebhookEvent.seq) == claimed.seq)
            .where(col(WebhookEvent.claim_token) == claimed.token)
            .values(claim_token=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
