"""What changed, for the dashboard's long poll: one cursor over every table it shows,
computed once per change and shared by every waiter."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
import weakref

from sqlalchemy import Engine, func
from sqlmodel import col, select

from app import wakeups
from app.db import read_session
from app.models import (
    AutopilotMove,
    Draft,
    DraftStatus,
    InboxItem,
    JournalEntry,
    StoredFile,
    WebhookAttempt,
    WebhookEndpoint,
    WebhookEvent,
)


def change_cursor(engine: Engine) -> str:
    """A short fingerprint of everything the dashboard shows; it moves on every change.

    Drafts change in place, so no `?after=` cursor sees a draft being published; every
    status change moves the per-status counts, and every other write moves a count, a
    maximum or `updated_at`. One statement of aggregates, cheap enough to poll.
    """
    counts = [
        select(func.count()).where(Draft.status == status).scalar_subquery()
        for status in DraftStatus
    ]
    aggregates = [
        *counts,
        select(func.max(Draft.updated_at)).scalar_subquery(),
        select(func.count(col(StoredFile.id))).scalar_subquery(),
        select(func.count(col(JournalEntry.seq))).scalar_subquery(),
        select(func.max(JournalEntry.seq)).scalar_subquery(),
        select(func.max(WebhookEvent.seq)).scalar_subquery(),
        select(func.max(WebhookEvent.updated_at)).scalar_subquery(),
        select(func.count(col(WebhookAttempt.id))).scalar_subquery(),
        select(func.max(WebhookAttempt.id)).scalar_subquery(),
        select(func.count(col(InboxItem.seq))).scalar_subquery(),
        select(func.max(InboxItem.seq)).scalar_subquery(),
        select(func.max(WebhookEndpoint.updated_at)).scalar_subquery(),
        select(func.count(col(WebhookEndpoint.owner_key))).scalar_subquery(),
        select(func.count(col(AutopilotMove.draft_id))).scalar_subquery(),
    ]
    with read_session(engine) as session:
        row = session.exec(select(*aggregates)).one()
    text = "|".join(str(value) for value in row)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


# While someone waits, the cursor is computed again at least this often even with no write
# seen in this process: another server process on the same database may have written.
CURSOR_MAX_AGE_SECONDS = 1.0


class ChangeWatch:
    """The change cursor of one engine, computed once per change and shared by every
    dashboard waiting on it.

    A write committed by this process (app.wakeups.WRITES) marks the cursor stale; so
    does age (CURSOR_MAX_AGE_SECONDS), for writes by other processes. A fresh cursor is
    read from memory; a stale one is computed by one caller while the others wait for it.
    """

    def __init__(self, engine: Engine, *, max_age: float = CURSOR_MAX_AGE_SECONDS) -> None:
        # Weakly: the watch lives in a map keyed by its engine (change_watch).
        self._engine = weakref.ref(engine)
        self._max_age = max_age
        self._lock = threading.Lock()
        self._cursor = ""
        self._computed_at = -max_age
        self._stale = True
        wakeups.watch_writes(engine)
        this = weakref.ref(self)  # the engine's subscribers must not keep this watch alive

        def mark_stale() -> None:
            watch = this()
            if watch is not None:
                watch._stale = True

        # Never unsubscribed: the engine's list of subscribers goes with the engine.
        wakeups.WRITES.subscribe(engine, mark_stale)

    def fresh(self) -> str | None:
        """The cursor if no write was seen since it was computed and it is young enough."""
        if self._stale or time.monotonic() - self._computed_at >= self._max_age:
            return None
        return self._cursor

    def compute(self) -> str:
        """The cursor, computed now unless another caller just did (blocking: a thread)."""
        with self._lock:
            cursor = self.fresh()
            if cursor is not None:
                return cursor
            self._stale = False  # before the query: a write during it marks it stale again
            started = time.monotonic()
            engine = self._engine()
            if engine is None:
                raise RuntimeError("the engine of this change watch is gone")
            cursor = change_cursor(engine)
            self._cursor, self._computed_at = cursor, started
            return cursor

    async def current(self) -> str:
        """The cursor: from memory when fresh, else computed once for every caller."""
        cursor = self.fresh()
        return cursor if cursor is not None else await asyncio.to_thread(self.compute)


_watches: weakref.WeakKeyDictionary[Engine, ChangeWatch] = weakref.WeakKeyDictionary()
_watches_guard = threading.Lock()


def change_watch(engine: Engine) -> ChangeWatch:
    """This process's ChangeWatch of `engine`."""
    with _watches_guard:
        watch = _watches.get(engine)
        if watch is None:
            watch = _watches[engine] = ChangeWatch(engine)
        return watch
