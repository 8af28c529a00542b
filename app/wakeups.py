"""Wake a worker of this process once a commit has given it work: a hint, not a queue.

The module that owns a table (notifications.outbox, drafts.autopilot) marks a session
when it adds work; the worker subscribes for its engine. Workers also poll the database, so rows
written by other processes are found too, and nothing shared lives in memory.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

from sqlalchemy import Engine, event
from sqlmodel import Session


class Wakeup:
    """One kind of work: callbacks per engine, run after a commit that added some."""

    def __init__(self, name: str) -> None:
        self._pending = f"wakeup_pending_{name}"
        self._callbacks: weakref.WeakKeyDictionary[Engine, list[Callable[[], None]]] = (
            weakref.WeakKeyDictionary()
        )
        self._guard = threading.Lock()

    def subscribe(self, engine: Engine, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` after each such commit on `engine`; returns the unsubscriber."""
        with self._guard:
            self._callbacks.setdefault(engine, []).append(callback)

        def unsubscribe() -> None:
            with self._guard:
                callbacks = self._callbacks.get(engine, [])
                if callback in callbacks:
                    callbacks.remove(callback)

        return unsubscribe

    def after_commit(self, session: Session) -> None:
        """Wake the subscribers once this session's transaction commits (not on rollback)."""
        if session.info.get(self._pending):
            return
        session.info[self._pending] = True
        engine = session.get_bind()

        def wake(_: Session) -> None:
            session.info.pop(self._pending, None)
            with self._guard:
                callbacks = (
                    list(self._callbacks.get(engine, [])) if isinstance(engine, Engine) else []
                )
            for callback in callbacks:
                callback()

        event.listen(session, "after_commit", wake, once=True)
