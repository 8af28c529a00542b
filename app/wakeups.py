"""Wake a worker of this process once a commit has given it work: a hint, not a queue.

The module that owns a table (notifications.outbox, drafts.autopilot) marks a session
when it adds work; the worker subscribes for its engine. Workers also poll the database, so rows
written by other processes are found too, and nothing shared lives in memory.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

from sqlalchemy import Connection, Engine, event
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

    def wake(self, engine: Engine) -> None:
        """Call the subscribers now (a commit that did not go through a Session)."""
        with self._guard:
            callbacks = list(self._callbacks.get(engine, []))
        for callback in callbacks:
            callback()


# Any write committed on an engine by this process, whichever way it went: SQLAlchemy
# (Session or Core, caught by watch_writes) or the group commit's driver path (which says
# so itself). The dashboard's change cursor is recomputed only after one (app.admin).
WRITES = Wakeup("writes")
_WROTE = "wakeups_wrote"
# Statements that change no row (the rest count as writes: a spare look costs little).
_NOT_WRITES = frozenset(
    {"SELECT", "PRAGMA", "BEGIN", "ROLLBACK", "SAVEPOINT", "RELEASE", "EXPLAIN", "SHOW", "SET"}
)
_watched: weakref.WeakSet[Engine] = weakref.WeakSet()
_watched_guard = threading.Lock()


def _after_execute(connection: Connection, statement: str) -> None:
    words = statement[:16].split(None, 1)  # the first keyword only: no copy of the rest
    if words and words[0].upper() not in _NOT_WRITES:
        connection.info[_WROTE] = True
        WRITES.wake(connection.engine)  # seen before its commit too: autocommit connections


def _after_commit(connection: Connection) -> None:
    if connection.info.pop(_WROTE, False):
        WRITES.wake(connection.engine)


def watch_writes(engine: Engine) -> None:
    """Wake WRITES' subscribers after each write committed through `engine` (idempotent)."""
    with _watched_guard:
        if engine in _watched:
            return
        _watched.add(engine)
    event.listen(
        engine,
        "after_cursor_execute",
        lambda conn, _cursor, statement, *_: _after_execute(conn, statement),
    )
    event.listen(engine, "commit", _after_commit)
