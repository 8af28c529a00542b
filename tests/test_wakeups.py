"""Wake-ups after commits: subscribers of one engine, once per commit, never on rollback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session

from app import wakeups
from app.wakeups import Wakeup


@pytest.fixture
def other_engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    yield engine
    engine.dispose()


def _counter(kind: Wakeup, engine: Engine) -> list[int]:
    calls: list[int] = []
    kind.subscribe(engine, lambda: calls.append(1))
    return calls


def test_after_commit_wakes_the_subscribers_once(engine: Engine) -> None:
    kind = Wakeup("test")
    calls = _counter(kind, engine)
    with Session(engine) as session:
        kind.after_commit(session)
        kind.after_commit(session)  # marked twice, woken once
        assert calls == []  # not before the commit
        session.commit()
    assert calls == [1]


def test_after_commit_wakes_again_at_the_next_commit(engine: Engine) -> None:
    kind = Wakeup("test")
    calls = _counter(kind, engine)
    with Session(engine) as session:
        kind.after_commit(session)
        session.commit()
        session.commit()  # nothing marked: no wake-up
        kind.after_commit(session)
        session.commit()
    assert calls == [1, 1]


def test_after_commit_does_not_wake_on_rollback(engine: Engine) -> None:
    kind = Wakeup("test")
    calls = _counter(kind, engine)
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        kind.after_commit(session)
        session.rollback()
    assert calls == []


def test_unsubscribe_stops_the_wake_ups(engine: Engine) -> None:
    kind = Wakeup("test")
    calls: list[int] = []
    unsubscribe = kind.subscribe(engine, lambda: calls.append(1))
    unsubscribe()
    unsubscribe()  # twice is harmless
    kind.wake(engine)
    assert calls == []


def test_wake_calls_only_the_subscribers_of_that_engine(
    engine: Engine, other_engine: Engine
) -> None:
    kind = Wakeup("test")
    mine, theirs = _counter(kind, engine), _counter(kind, other_engine)
    kind.wake(engine)
    assert (mine, theirs) == ([1], [])


def test_two_kinds_are_apart(engine: Engine) -> None:
    one, two = Wakeup("one"), Wakeup("two")
    calls = _counter(two, engine)
    with Session(engine) as session:
        one.after_commit(session)
        session.commit()
    assert calls == []


def test_watch_writes_wakes_after_a_committed_write(other_engine: Engine) -> None:
    wakeups.watch_writes(other_engine)
    calls = _counter(wakeups.WRITES, other_engine)
    with other_engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
    assert calls


def test_watch_writes_ignores_reads(other_engine: Engine) -> None:
    wakeups.watch_writes(other_engine)
    calls = _counter(wakeups.WRITES, other_engine)
    with other_engine.begin() as connection:
        connection.execute(text("SELECT 1"))
        connection.execute(text("  pragma user_version"))
    assert calls == []


def test_watch_writes_twice_listens_once(other_engine: Engine) -> None:
    wakeups.watch_writes(other_engine)
    calls = _counter(wakeups.WRITES, other_engine)
    with other_engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    once = len(calls)
    wakeups.watch_writes(other_engine)
    with other_engine.begin() as connection:
        connection.execute(text("CREATE TABLE u (x INTEGER)"))
    assert len(calls) == 2 * once
