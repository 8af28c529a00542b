"""The state machine as data (README, "States"): the moves allowed, what each status
stamps and notifies, and transition(), the only writer of a draft's `status`."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from app.drafts import scenarios
from app.errors import InvalidTransition
from app.fixtures import Directory
from app.models import Draft, DraftStatus, utcnow
from app.notifications import outbox

# The only moves transition() accepts: (from, to).
ALLOWED_MOVES: frozenset[tuple[DraftStatus, DraftStatus]] = frozenset(
    {
        (DraftStatus.TEMPORARY, DraftStatus.DRAFT),
        (DraftStatus.DRAFT, DraftStatus.IN_PROGRESS),
        (DraftStatus.IN_PROGRESS, DraftStatus.COMPLETED),
        (DraftStatus.TEMPORARY, DraftStatus.CANCELLED),
        (DraftStatus.DRAFT, DraftStatus.CANCELLED),
        (DraftStatus.IN_PROGRESS, DraftStatus.CANCELLED),
    }
)

# Which timestamp each status stamps when it is entered.
STAMPED_AT: dict[DraftStatus, str] = {
    DraftStatus.DRAFT: "visited_at",
    DraftStatus.IN_PROGRESS: "published_at",
    DraftStatus.COMPLETED: "completed_at",
    DraftStatus.CANCELLED: "cancelled_at",
}

# Entering these statuses notifies the owning key (README, "Receive notifications").
NOTIFIED: frozenset[DraftStatus] = frozenset(
    {DraftStatus.IN_PROGRESS, DraftStatus.COMPLETED, DraftStatus.CANCELLED}
)

# Other side effects of entering a status, in the same unit of work: a scenario
# recipient's automatic answer is booked on publication (README, "Scenario practitioners").
ON_ENTER: dict[DraftStatus, Callable[[Session, Draft, str, Directory | None], None]] = {
    DraftStatus.IN_PROGRESS: scenarios.schedule,
}


# How a caller makes a draft enter each status, for the advice of an impossible move.
HOW_TO_ENTER: dict[DraftStatus, str] = {
    DraftStatus.DRAFT: (
        "visit its redirect_url (a browser's GET, or POST /_sandbox/drafts/{id}/visit)"
    ),
    DraftStatus.IN_PROGRESS: "publish it (POST /_sandbox/drafts/{id}/publish, or the page)",
    DraftStatus.COMPLETED: "complete it (POST /_sandbox/drafts/{id}/complete, or the page)",
}


def _advice(draft: Draft, previous: DraftStatus, to: DraftStatus) -> str:
    """The moves that would make `to` possible, when it lies ahead on the forward path."""
    if not any(start == previous for start, _ in ALLOWED_MOVES):
        return f" '{previous}' is final."
    ahead = {start: end for start, end in ALLOWED_MOVES if end != DraftStatus.CANCELLED}
    steps, current = [], previous
    while (current, to) not in ALLOWED_MOVES and current in ahead:
        current = ahead[current]
        steps.append(HOW_TO_ENTER[current].replace("{id}", draft.id))
    if not steps or (current, to) not in ALLOWED_MOVES:
        return ""
    return f" First {', then '.join(steps)}."


def check_move(draft: Draft, to: DraftStatus) -> None:
    """Refuse a move ALLOWED_MOVES does not list; callers check it before anything else."""
    previous = DraftStatus(draft.status)
    if (previous, to) not in ALLOWED_MOVES:
        raise InvalidTransition(
            f"A draft in status '{previous}' cannot become '{to}'." + _advice(draft, previous, to),
            extra={"current_status": str(previous), "requested_status": str(to)},
        )


def transition(
    session: Session,
    *,
    draft: Draft,
    to: DraftStatus,
    base_url: str,
    directory: Directory | None = None,
) -> None:
    """Move a draft to `to`, the only writer of `status`; the event joins the same unit of work.

    `directory` (the fixtures' practitioners) is needed to enter `in_progress`.
    """
    check_move(draft, to)
    previous = DraftStatus(draft.status)
    now = utcnow()
    draft.status = to
    draft.updated_at = now
    setattr(draft, STAMPED_AT[to], now)
    session.add(draft)
    if to in NOTIFIED and draft.owner_key is not None:
        outbox.enqueue_status_event(session, draft=draft, previous=previous, base_url=base_url)
    if (on_enter := ON_ENTER.get(to)) is not None:
        on_enter(session, draft, base_url, directory)
