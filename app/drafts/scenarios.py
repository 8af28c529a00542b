"""Scenario practitioners' answers, booked (sandbox-defined; README, "Scenario
practitioners").

A practitioner of the fixtures may carry an `autopilot`. When a draft whose recipient it
is enters `in_progress`, `schedule()` books the answer as an `autopilot_move` row in that
same transaction; app/drafts/autopilot.py performs it once due. These two modules are the
only writers of the table.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col

from app.fixtures import Directory
from app.models import AutopilotMove, Draft, DraftStatus, utcnow
from app.wakeups import Wakeup

# Wakes this process's worker after a commit that booked an answer.
BOOKED = Wakeup("autopilot")


def schedule(session: Session, draft: Draft, base_url: str, directory: Directory | None) -> None:
    """On entering `in_progress`: book the recipient's automatic answer, if it has one."""
    if directory is None:  # a caller that cannot see the fixtures would silently skip it
        raise TypeError("entering in_progress needs the practitioner directory (autopilot)")
    practitioner = directory(draft.recipient_rpps) if draft.recipient_rpps else None
    plan = practitioner.autopilot if practitioner is not None else None
    if plan is None:
        return
    published_at = draft.published_at or utcnow()
    session.add(
        AutopilotMove(
            draft_id=draft.id,
            outcome=plan.outcome,
            report_text=plan.report_text,
            base_url=base_url,
            due_at=published_at + timedelta(seconds=plan.after_seconds),
        )
    )
    BOOKED.after_commit(session)


def due_at(session: Session, *, draft: Draft) -> datetime | None:
    """When the draft's automatic answer is due; None when none is pending."""
    if draft.status != DraftStatus.IN_PROGRESS:
        return None  # answered by hand: the row only waits for the worker to drop it
    move = session.get(AutopilotMove, draft.id)
    return move.due_at if move is not None else None


def forget(session: Session, *, draft_ids: Any) -> int:
    """Drop the booked answers of these drafts (a select of ids), in the caller's transaction."""
    result = session.execute(
        delete(AutopilotMove)
        .where(col(AutopilotMove.draft_id).in_(draft_ids))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
