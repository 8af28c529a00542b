"""The durable outbox: every write to the webhook_event and webhook_attempt tables.

Enqueue (in the caller's transaction), claim, record, release, redeliver and the
vendor reset all happen here, and a commit that added work wakes this process's
delivery worker itself; other processes find the rows by polling (README, "Receive
notifications"; docs/architecture.md, "One notification").

Several server processes may share one database: an attempt is made only by the process
whose conditional UPDATE claimed the row, and only the head (lowest `seq`) pending event
of each draft is ever due, so a draft's notifications keep their order. A claim is a
short lease that its worker renews while the attempt runs (`renew`): a process that
dies mid-attempt stops renewing, and its attempts are due again within LEASE. Every
function here is synchronous; the worker runs them in a thread.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, exists, func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app.db import read_session, write_session
from app.errors import DeliveryNotFound
from app.fixtures import Fixtures
from app.http import api_keys
from app.models import Draft, DraftStatus, EventStatus, WebhookAttempt, WebhookEvent, utcnow
from app.notifications import webhooks
from app.notifications.webhooks import Endpoint, effective_endpoint
from app.wakeups import Wakeup

# How long a claim holds without renewal: the worker renews it every second or so while
# the attempt runs, so after a crash the attempt is due again within this (not after the
# whole webhook timeout), and a live worker's attempt is never taken over.
LEASE = timedelta(seconds=5)
_ID_RE = re.compile(r"^[0-9a-f-]{36}$")

# Wakes this process's delivery worker after a commit that made an event due.
NEW_WORK = Wakeup("outbox")


# --- Writes -------------------------------------------------------------------------


def enqueue_status_event(
    session: Session, *, draft: Draft, previous: DraftStatus, base_url: str
) -> WebhookEvent:
    """Add the event to the outbox in the caller's transaction; sent once it commits."""
    assert draft.owner_key is not None
    payload = webhooks.status_event(draft=draft, previous=previous, base_url=base_url)
    row = WebhookEvent(
        webhook_id=f"msg_{uuid.uuid4().hex}",
        owner_key=draft.owner_key,
        draft_id=draft.id,
        event_type=payload.type,
        payload=payload.model_dump_json(),
        status=EventStatus.PENDING,
        next_attempt_at=utcnow(),
    )
    session.add(row)
    NEW_WORK.after_commit(session)
    return row


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
    # When this attempt was due, read as it was claimed (the clock's advance reports it).
    due_at: datetime | None = None


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


def _claimable(now: datetime, busy_keys: Collection[str] = ()) -> Any:
    """Pending, unclaimed (or its lease ran out), a draft's head; not of a busy key."""
    conditions = [
        WebhookEvent.status == EventStatus.PENDING,
        or_(col(WebhookEvent.claimed_until).is_(None), col(WebhookEvent.claimed_until) < now),
        _is_head(),
    ]
    if busy_keys:
        conditions.append(col(WebhookEvent.owner_key).not_in(list(busy_keys)))
    return tuple(conditions)


@dataclass(frozen=True)
class Due:
    """A head event whose attempt is due, and the key whose receiver it goes to."""

    seq: int
    owner_key: str


def due_heads(
    engine: Engine,
    *,
    limit: int,
    busy_keys: Collection[str] = (),
    due_by: datetime | None = None,
) -> list[Due]:
    """Head events due by `due_by` (now) that nobody holds, oldest due first, leaving out
    `busy_keys` (receivers the worker already keeps busy) so other keys are not starved."""
    now = utcnow()
    with read_session(engine) as session:
        rows = session.exec(
            select(WebhookEvent.seq, WebhookEvent.owner_key)
            .where(col(WebhookEvent.next_attempt_at) <= (due_by or now))
            .where(*_claimable(now, busy_keys))
            .order_by(col(WebhookEvent.next_attempt_at), col(WebhookEvent.seq))
            .limit(limit)
        ).all()
    return [Due(seq, key) for seq, key in rows if seq is not None]


def next_retry(
    engine: Engine, *, owner_key: str, due_by: datetime
) -> tuple[int, str, datetime] | None:
    """The key's earliest retry (an event attempted before) due by `due_by` that nobody
    holds: its seq, draft and due time (the clock's advance)."""
    now = utcnow()
    with read_session(engine) as session:
        row = session.exec(
            select(WebhookEvent.seq, WebhookEvent.draft_id, WebhookEvent.next_attempt_at)
            .where(col(WebhookEvent.owner_key) == owner_key)
            .where(col(WebhookEvent.attempt_count) >= 1)
            .where(col(WebhookEvent.next_attempt_at) <= due_by)
            .where(*_claimable(now))
            .order_by(col(WebhookEvent.next_attempt_at), col(WebhookEvent.seq))
            .limit(1)
        ).first()
    if row is None or row[0] is None or row[2] is None:
        return None
    return row[0], row[1], row[2]


def seconds_until_due(engine: Engine, *, cap: float, busy_keys: Collection[str] = ()) -> float:
    """How long the worker may sleep: until the next head attempt, at most `cap`."""
    now = utcnow()
    with read_session(engine) as session:
        earliest = session.exec(
            select(func.min(WebhookEvent.next_attempt_at)).where(*_claimable(now, busy_keys))
        ).first()
    if earliest is None:
        return cap
    return min(max((earliest - now).total_seconds(), 0.01), cap)


def claim(
    engine: Engine, seq: int, *, fixtures: Fixtures, due_by: datetime | None = None
) -> Claimed | None:
    """The conditional UPDATE is the lock: rowcount 1 means this process owns the attempt,
    for LEASE unless renewed. `due_by` (now by default) is later only for the clock's
    advance (app.sandbox.clock), which makes what falls due before then now.

    The endpoint is read here, so each attempt goes to the one current at that attempt.
    """
    now = utcnow()
    token = str(uuid.uuid4())
    lease = now + LEASE
    with write_session(engine) as session:
        result = session.execute(
            update(WebhookEvent)
            .where(
                col(WebhookEvent.seq) == seq,
                col(WebhookEvent.next_attempt_at) <= (due_by or now),
                *_claimable(now),
            )
            .values(claim_token=token, claimed_until=lease)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = session.exec(select(WebhookEvent).where(WebhookEvent.seq == seq)).one()
        api_key = api_keys.find_key_in(session, fixtures, row.owner_key)
        return Claimed(
            seq=seq,
            id=row.id,
            webhook_id=row.webhook_id,
            draft_id=row.draft_id,
            payload=row.payload,
            token=token,
            attempt_number=row.attempt_count + 1,
            endpoint=effective_endpoint(session, owner_key=row.owner_key, api_key=api_key),
            due_at=row.next_attempt_at,
        )


def record(engine: Engine, claimed: Claimed, outcome: Outcome, *, delays: list[float]) -> str:
    """Store the attempt and move the event on: delivered, retry later, or failed."""
    with write_session(engine) as session:
        row = session.exec(
            select(WebhookEvent).where(WebhookEvent.seq == claimed.seq).with_for_update()
        ).first()
        if row is None:
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
        if row.claim_token != claimed.token:
            return "superseded"  # redelivered meanwhile: the new cycle decides
        now = utcnow()
        row.attempt_count += 1
        if outcome.ok:
            row.status, row.next_attempt_at = EventStatus.DELIVERED, None
        elif row.attempt_count > len(delays):
            row.status, row.next_attempt_at = EventStatus.FAILED, None
        else:
            row.next_attempt_at = now + timedelta(seconds=delays[row.attempt_count - 1])
        row.claim_token, row.claimed_until, row.updated_at = None, None, now
        session.add(row)
        return str(row.status) if row.status != EventStatus.PENDING else "retry"


def renew(engine: Engine, tokens: Collection[str]) -> None:
    """Extend the leases of the claims still held (attempts in flight): the heartbeat."""
    if not tokens:
        return
    with write_session(engine) as session:
        session.execute(
            update(WebhookEvent)
            .where(col(WebhookEvent.claim_token).in_(list(tokens)))
            .values(claimed_until=utcnow() + LEASE)
            .execution_options(synchronize_session=False)
        )


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


def redeliver(engine: Engine, *, owner_key: str, delivery_id: str) -> WebhookEvent:
    """Send an event again, same `webhook-id`: back to pending, first attempt now."""
    missing = DeliveryNotFound(f"No delivery '{delivery_id[:64]}' belongs to your API key.")
    if not _ID_RE.match(delivery_id):
        raise missing
    with write_session(engine) as session:
        row = session.exec(
            select(WebhookEvent)
            .where(WebhookEvent.id == delivery_id, WebhookEvent.owner_key == owner_key)
            .with_for_update()
        ).first()
        if row is None:
            raise missing
        now = utcnow()
        row.status = EventStatus.PENDING
        row.attempt_count = 0  # a fresh retry schedule; earlier attempts stay listed
        row.next_attempt_at = now
        # An attempt in flight keeps its row but no longer decides the status.
        row.claim_token = None
        row.claimed_until = None
        row.updated_at = now
        session.add(row)
        NEW_WORK.after_commit(session)
        return row


def delete_for_key(session: Session, *, owner_key: str) -> int:
    """Delete the key's events and their attempts in the caller's transaction (reset)."""
    events_of_key = select(WebhookEvent.seq).where(WebhookEvent.owner_key == owner_key)
    # Lock the key's events first: an attempt being recorded (record() locks its event,
    # then adds the attempt) lands before our deletes see the table, or finds its event
    # gone; never an attempt left pointing at a deleted event (PostgreSQL).
    session.exec(events_of_key.with_for_update()).all()
    session.execute(delete(WebhookAttempt).where(col(WebhookAttempt.event_seq).in_(events_of_key)))
    result = session.execute(delete(WebhookEvent).where(col(WebhookEvent.owner_key) == owner_key))
    return int(result.rowcount)  # type: ignore[attr-defined]
