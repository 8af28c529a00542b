"""`?wait=` long-polling for the listing calls tests wait on (deliveries, inbox, journal).

The loop asks the database, not process memory, so a row written by another server
process on the same database ends the wait too (README, "Waiting without sleeps").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request
from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from app.errors import FieldIssue, ValidationFailed

T = TypeVar("T")

MAX_WAIT_SECONDS = 30.0
POLL_INTERVAL = 0.1


class _Shutdown:
    """Set once the server shuts down: every held wait answers at once (SPEC §6)."""

    def __init__(self) -> None:
        self.started = False
        self.sleepers: set[asyncio.Future[None]] = set()

    def end_all(self) -> None:
        self.started = True
        for sleeper in list(self.sleepers):
            if not sleeper.done():
                sleeper.set_result(None)

    async def pause(self, seconds: float) -> None:
        """Sleep `seconds`, or less if the server starts shutting down meanwhile."""
        if self.started:
            return
        sleeper = asyncio.get_running_loop().create_future()
        self.sleepers.add(sleeper)
        try:
            await asyncio.wait([sleeper], timeout=seconds)
        finally:
            self.sleepers.discard(sleeper)


_shutdown = _Shutdown()


def end_all_waits() -> None:
    """Answer every held `?wait=` request now, as if its time were up, and every later one
    at once: called when the server starts shutting down (app.http.connections)."""
    _shutdown.end_all()


def shutting_down() -> bool:
    return _shutdown.started


async def pause(seconds: float) -> None:
    """A long-poll's sleep between two looks, cut short when the server shuts down."""
    await _shutdown.pause(seconds)


# The two query parameters every waited-on listing takes.
Wait = Annotated[
    float,
    Query(
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="Seconds (≤ 30, fractions allowed) to hold the request until an item "
        "newer than `after` exists; the answer may be empty.",
    ),
]
After = Annotated[
    str | None,
    Query(
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Only items newer than this item id.",
    ),
]


async def wait_for_items(
    fetch: Callable[[], Sequence[T]],
    *,
    wait: float,
    is_disconnected: Callable[[], Awaitable[bool]] | None = None,
    interval: float = POLL_INTERVAL,
) -> Sequence[T]:
    """Call `fetch` (in a thread) until it returns something or `wait` seconds have passed."""
    deadline = time.monotonic() + min(max(wait, 0.0), MAX_WAIT_SECONDS)
    while True:
        items = await asyncio.to_thread(fetch)
        remaining = deadline - time.monotonic()
        if items or remaining <= 0 or shutting_down():
            return items
        if is_disconnected is not None and await is_disconnected():
            return items  # nobody is listening any more
        await pause(min(interval, remaining))


@dataclass(frozen=True)
class Page:
    """A waited-on listing's `?after=` and `?wait=`, with the request they came on."""

    request: Request
    after: str | None
    wait: float

    async def items(self, fetch: Callable[[], Sequence[T]]) -> list[T]:
        """What `fetch` lists, the request held up to `wait` seconds for some to exist."""
        return await listing(self.request, fetch, wait=self.wait)


def _page(request: Request, after: After = None, wait: Wait = 0) -> Page:
    return Page(request, after, wait)


# The one dependency of every waited-on listing route: its two query parameters.
PageQuery = Annotated[Page, Depends(_page)]


async def listing(request: Request, fetch: Callable[[], Sequence[T]], *, wait: float) -> list[T]:
    """The items of a listing, the request held up to `wait` seconds for some to exist."""
    items = await wait_for_items(fetch, wait=wait, is_disconnected=request.is_disconnected)
    return list(items)


def newer_than(
    session: Session, model: Any, *, after: str, scope: Any, what: str
) -> ColumnElement[bool]:
    """The `?after=<id>` filter of a listing: rows of `scope` inserted after that row.

    Every listed table has a public `id` and an insertion-ordered `seq`; an id that is
    not (or no longer) in the caller's scope is a 422 the caller can act on.
    """
    seq = session.exec(select(model.seq).where(model.id == after, scope)).first()
    if seq is None:
        message = f"after must be the id of {what}."
        raise ValidationFailed(message, errors=[FieldIssue("after", "unknown_cursor", message)])
    condition: ColumnElement[bool] = col(model.seq) > seq
    return condition


def newest_page(
    session: Session, model: Any, *, scope: Any, after: str | None, what: str, limit: int
) -> Sequence[Any]:
    """One page of a listing: the rows of `scope`, newest first, only those inserted after
    `after` when given (a 422 naming `what` when that id is not in the scope)."""
    query = select(model).where(scope)
    if after is not None:
        query = query.where(newer_than(session, model, after=after, scope=scope, what=what))
    return session.exec(query.order_by(col(model.seq).desc()).limit(limit)).all()
