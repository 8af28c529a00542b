"""The clock's advance (SPEC §10, README "Time"): what a key has scheduled before now + N
seconds happens now, in due order, before the answer.

Two kinds of scheduled moves exist: a scenario practitioner's automatic answer
(app.drafts.autopilot) and a webhook retry (app.notifications.outbox). Each is performed
by the code that performs it when its time comes: `autopilot.perform` (the conditional
DELETE that claims the row, then `transition()`), and the outbox's conditional claim,
then the delivery worker's attempt and `outbox.record`. So several workers or processes,
and the background workers themselves, perform each move once; a move another process
claimed first is simply not ours (not listed).

Nothing is shifted: no offset is kept, the times recorded are the real times of the
moves. A retry performed now books the next one on the real clock (now + its delay);
the advance loops, always taking the earliest move due before the horizon, so one call
performs a whole day of retries. Bounded by MAX_MOVES per call. A first delivery attempt
is not a scheduled move: the delivery worker sends it as soon as the event exists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Literal

from fastapi.concurrency import run_in_threadpool

from app.drafts import autopilot
from app.models import utcnow
from app.notifications import outbox
from app.notifications.worker import DeliveryWorker
from app.runtime import Runtime

logger = logging.getLogger("omnidoc_sandbox.clock")

MAX_SECONDS = 30 * 24 * 3600  # 2,592,000: thirty days
# Moves one advance performs at most (a retry schedule is finite; this bounds the rest).
MAX_MOVES = 1000

Kind = Literal["autopilot", "webhook_retry"]


@dataclass(frozen=True)
class Performed:
    kind: Kind
    draft_id: str
    due_at: datetime


async def advance(runtime: Runtime, *, owner_key: str, seconds: int) -> list[Performed]:
    """Perform the key's moves due before now + `seconds`, earliest first; what was done."""
    engine = runtime.engine
    assert engine is not None
    horizon = utcnow() + timedelta(seconds=seconds)
    worker = DeliveryWorker(engine=engine, settings=runtime.settings, fixtures=runtime.fixtures)
    performed: list[Performed] = []
    # Claims lost to another worker do not count as moves but may repeat a candidate:
    # the attempts are bounded too.
    try:
        for _ in range(2 * MAX_MOVES):
            if len(performed) >= MAX_MOVES:
                break
            answer = await run_in_threadpool(
                partial(autopilot.next_due_of_key, engine, owner_key=owner_key, due_by=horizon)
            )
            retry = await run_in_threadpool(
                partial(outbox.next_retry, engine, owner_key=owner_key, due_by=horizon)
            )
            if answer is None and retry is None:
                break
            if retry is None or (answer is not None and answer[1] <= retry[2]):
                assert answer is not None
                draft_id, due_at = answer
                result = await run_in_threadpool(
                    partial(autopilot.perform, engine, draft_id=draft_id, due_by=horizon)
                )
                if result is not None and result != autopilot.LEFT_ALONE:
                    performed.append(Performed("autopilot", draft_id, due_at))
                    logger.info("clock advance: autopilot draft=%s outcome=%s", draft_id, result)
                continue
            seq, draft_id, due_at = retry
            claimed = await run_in_threadpool(
                partial(outbox.claim, engine, seq, fixtures=runtime.fixtures, due_by=horizon)
            )
            if claimed is None:
                continue  # another worker or process holds it: it performs it
            await worker.attempt_now(claimed)
            # The due time as claimed: another advance may have made the candidate's
            # attempt meanwhile, and this claim took the next one.
            performed.append(Performed("webhook_retry", draft_id, claimed.due_at or due_at))
    finally:
        await worker.aclose()
    return performed
