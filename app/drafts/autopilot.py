"""Scenario practitioners' worker: performs the automatic answers booked by
app/drafts/scenarios.py once they are due (sandbox-defined; README, "Scenario
practitioners").

One worker per process, started by the lifespan and woken by the commit that booked an
answer; it performs each answer through `state_machine.transition()`, so the notification (the
outbox wakes the delivery worker in turn), report and billing follow as for an answer by
hand. Performing is one write transaction that deletes the row with a conditional DELETE
whose rowcount decides, then locks and moves the draft: several workers or processes
perform each answer exactly once, and a draft answered or cancelled by hand meanwhile is
left alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial

from sqlalchemy import Engine, delete, func
from sqlmodel import col, select

from app.db import read_session, write_session
from app.drafts import service as drafts
from app.drafts import state_machine
from app.drafts.scenarios import BOOKED
from app.models import AutopilotMove, Draft, DraftStatus, utcnow
from app.workers import PollingWorker, in_thread

logger = logging.getLogger("omnidoc_sandbox.autopilot")
LEFT_ALONE = "left_alone"  # answered or cancelled by hand before the time


def due_draft_ids(engine: Engine, *, limit: int) -> list[str]:
    """Drafts whose automatic answer is due, the oldest due first."""
    with read_session(engine) as session:
        rows = session.exec(
            select(AutopilotMove.draft_id)
            .where(col(AutopilotMove.due_at) <= utcnow())
            .order_by(col(AutopilotMove.due_at))
            .limit(limit)
        ).all()
    return list(rows)


def next_due_of_key(
    engine: Engine, *, owner_key: str, due_by: datetime
) -> tuple[str, datetime] | None:
    """The key's earliest booked answer due by `due_by`: its draft and due time (the
    clock's advance)."""
    with read_session(engine) as session:
        row = session.exec(
            select(AutopilotMove.draft_id, AutopilotMove.due_at)
            .join(Draft, col(Draft.id) == col(AutopilotMove.draft_id))
            .where(col(Draft.owner_key) == owner_key, col(AutopilotMove.due_at) <= due_by)
            .order_by(col(AutopilotMove.due_at), col(AutopilotMove.draft_id))
            .limit(1)
        ).first()
    return (row[0], row[1]) if row is not None else None


def seconds_until_due(engine: Engine, *, cap: float) -> float:
    """How long the worker may sleep: until the next answer falls due, at most `cap`."""
    with read_session(engine) as session:
        earliest = session.exec(select(func.min(AutopilotMove.due_at))).first()
    if earliest is None:
        return cap
    return min(max((earliest - utcnow()).total_seconds(), 0.01), cap)


def perform(engine: Engine, *, draft_id: str, due_by: datetime | None = None) -> str | None:
    """Perform one due answer; the draft's new status, LEFT_ALONE, or None if not ours.

    `due_by` (now by default) is later than now only for the clock's advance
    (app.sandbox.clock), which performs what falls due before then, now.

    The conditional DELETE is the claim: on PostgreSQL a racing worker's DELETE waits
    for ours and then finds nothing. The row is locked before the draft, as the vendor
    reset does, and answers by hand lock the draft only, so none of them deadlock.
    """
    due_by = due_by or utcnow()
    with write_session(engine) as session:
        move = session.get(AutopilotMove, draft_id)  # never changed once written
        if move is None or move.due_at > due_by:
            return None
        claimed = session.execute(
            delete(AutopilotMove)
            .where(col(AutopilotMove.draft_id) == draft_id, col(AutopilotMove.due_at) <= due_by)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None  # another worker or process performed it first
        draft = session.exec(select(Draft).where(Draft.id == draft_id).with_for_update()).first()
        if draft is None or draft.status != DraftStatus.IN_PROGRESS:
            return LEFT_ALONE
        outcome = DraftStatus(move.outcome)
        if outcome == DraftStatus.COMPLETED:
            draft.report_text = move.report_text or drafts.DEFAULT_REPORT_TEXT
        state_machine.transition(session, draft=draft, to=outcome, base_url=move.base_url)
        return str(outcome)


class AutopilotWorker(PollingWorker):
    """One per process; `run()` loops until cancelled, `run_once()` is what tests drive."""

    name = "autopilot worker"
    logger = logger

    def __init__(
        self,
        *,
        engine: Engine,
        on_moved: Callable[[], None] = lambda: None,
        poll_interval: float = 0.5,
        batch: int = 20,
    ) -> None:
        super().__init__(poll_interval=poll_interval)
        self.engine = engine
        self.on_moved = on_moved
        self.batch = batch

    async def run(self) -> None:
        """Perform answers until cancelled: when the next falls due, polling for others'."""
        self._loop = asyncio.get_running_loop()
        unsubscribe = BOOKED.subscribe(self.engine, self.wake)
        try:
            await self._loop_forever()
        finally:
            unsubscribe()

    async def _step(self) -> float | None:
        """Perform what is due; None when there was some, else how long to sleep."""
        if await self.run_once():
            return None
        return await in_thread(lambda: seconds_until_due(self.engine, cap=self.poll_interval))

    async def run_once(self) -> int:
        """Perform every due answer once; the count this worker performed or dropped."""
        done = 0
        for draft_id in await in_thread(partial(due_draft_ids, self.engine, limit=self.batch)):
            result = await in_thread(partial(perform, self.engine, draft_id=draft_id))
            if result is None:
                continue
            done += 1
            logger.info("autopilot draft=%s outcome=%s", draft_id, result)
            if result != LEFT_ALONE:
                self.on_moved()  # its notification is in the outbox, which wakes its worker
        return done


async def run_worker(engine: Engine) -> None:
    """Build the worker for the lifespan; runs until cancelled."""
    await AutopilotWorker(engine=engine).run()
