"""Group commit: the hot path's inserts (drafts, journal rows), committed together.

Rows are queued and one writer task commits whatever is queued as one transaction (a
group forms while the previous one commits), then resumes each caller once its row is
committed: a create's 200 still leaves after its draft is durable, a call's journal row
is visible before its answer leaves. On SQLite a group commits on the event loop when the
write lock is free, in a thread otherwise, so the loop never sleeps on a lock; on
PostgreSQL always in a thread. Measurements: docs/performance.md.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, Table, insert, text

from app import db, wakeups

logger = logging.getLogger("omnidoc_sandbox")


@dataclass(frozen=True)
class Tidy:
    """SQL run once per group, after its inserts and in its transaction (the journal's
    trim to OMNIDOC_JOURNAL_SIZE), with `:name` parameters: keyed, so that a group of
    ten rows of one vendor key trims that key's journal once."""

    key: Hashable
    sql: str
    parameters: dict[str, Any]


@dataclass
class _Row:
    table: Table
    values: dict[str, Any]
    tidy: Tidy | None
    committed: asyncio.Future[None]


class GroupCommit:
    """One per process and engine: `insert()` from requests, `run()` as the lifespan's task."""

    def __init__(self, engine: Engine, *, inline: sqlite3.Connection | None) -> None:
        self._engine = engine
        self._inline = inline  # db.loop_connection: SQLite only
        self._queue: list[_Row] = []
        self._queued = asyncio.Event()

    async def insert(
        self, table: Table, values: dict[str, Any], *, tidy: Tidy | None = None
    ) -> None:
        """Queue one row; return once it is committed, or raise what its commit raised."""
        committed = asyncio.get_running_loop().create_future()
        self._queue.append(_Row(table, values, tidy, committed))
        self._queued.set()
        await committed

    async def run(self) -> None:
        """Commit what is queued, one group at a time, until cancelled."""
        try:
            while True:
                await self._queued.wait()
                self._queued.clear()
                group, self._queue = self._queue, []
                await self._commit(group)
        finally:
            # Shutdown: uvicorn has let the calls in flight finish, so this is rare; those
            # rows still get their commit (blocking the loop is fine at this point).
            group, self._queue = self._queue, []
            for row in group:
                try:
                    self._commit_blocking([row])
                except Exception as exc:
                    _fail(row, exc)
                else:
                    _succeed(row)

    async def _commit(self, group: list[_Row]) -> None:
        try:
            if not self._commit_inline(group):
                await asyncio.to_thread(self._commit_blocking, group)
        except Exception:
            # One bad row must not fail the calls that share its group: each again, alone.
            for row in group:
                try:
                    await asyncio.to_thread(self._commit_blocking, [row])
                except Exception as exc:
                    _fail(row, exc)
                else:
                    _succeed(row)
            return
        for row in group:
            _succeed(row)

    def _commit_inline(self, group: list[_Row]) -> bool:
        """Commit on the event loop if the write lock is free right now, else return False."""
        if self._inline is None:
            return False
        lock = db.sqlite_writer_lock(self._engine)  # this process's other writers
        if not lock.acquire(blocking=False):
            return False
        try:
            try:
                self._inline.execute("BEGIN IMMEDIATE")  # fails at once if busy
            except sqlite3.OperationalError as exc:
                if db.is_busy(exc):  # another process is writing
                    return False
                raise
            try:
                _write_through_driver(self._inline, group, self._engine.dialect)
                self._inline.execute("COMMIT")
            except BaseException:
                self._inline.execute("ROLLBACK")
                raise
            wakeups.WRITES.wake(self._engine)  # past SQLAlchemy: its events did not see it
            return True
        finally:
            lock.release()

    def _commit_blocking(self, group: list[_Row]) -> None:
        """Commit in this (worker) thread, waiting for the write lock like any writer."""
        with db.write_connection(self._engine) as connection:
            _write(connection, group)


def _write(connection: Connection, group: list[_Row]) -> None:
    """The group's inserts through SQLAlchemy, one statement per table (rows keep their
    queue order, so insertion-ordered keys like the journal's `seq` follow the calls),
    then its tidy-ups."""
    for table, values in _by_table(group).items():
        connection.execute(insert(table), values)
    for tidy in _tidies(group):
        connection.execute(_text(tidy.sql), tidy.parameters)


def _write_through_driver(raw: sqlite3.Connection, group: list[_Row], dialect: Dialect) -> None:
    """`_write` on the event loop's sqlite3 connection: the same statements and stored
    values, without SQLAlchemy's per-execution work (docs/performance.md)."""
    for table, values in _by_table(group).items():
        statement = _driver_insert(table, tuple(values[0]), dialect)
        raw.executemany(statement.sql, [statement.parameters(row) for row in values])
    for tidy in _tidies(group):
        raw.execute(tidy.sql, tidy.parameters)


def _by_table(group: list[_Row]) -> dict[Table, list[dict[str, Any]]]:
    by_table: dict[Table, list[dict[str, Any]]] = {}
    for row in group:
        by_table.setdefault(row.table, []).append(row.values)
    return by_table


def _tidies(group: list[_Row]) -> Iterable[Tidy]:
    tidies: dict[Hashable, Tidy] = {}
    for row in group:
        if row.tidy is not None:
            tidies.setdefault(row.tidy.key, row.tidy)
    return tidies.values()


@cache
def _text(sql: str) -> Any:
    return text(sql)


@dataclass(frozen=True)
class _DriverInsert:
    """A table's INSERT as SQLAlchemy compiles it for the dialect (qmark SQL), with each
    column's bind processor (UTC datetimes, JSON): what SQLAlchemy itself runs, computed
    once per table and column set instead of on every execution."""

    sql: str
    columns: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]

    def parameters(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value)
            for value, process in zip(
                (values[column] for column in self.columns), self.processors, strict=True
            )
        )


@cache
def _driver_insert(table: Table, columns: tuple[str, ...], dialect: Dialect) -> _DriverInsert:
    compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
    order = tuple(compiled.positiontup or ())
    if dialect.paramstyle != "qmark" or set(order) != set(columns):
        raise ValueError(f"cannot run {table.name}'s insert through the driver")
    processors = tuple(
        table.c[column].type.dialect_impl(dialect).bind_processor(dialect) for column in order
    )
    return _DriverInsert(str(compiled), order, processors)


def _succeed(row: _Row) -> None:
    if not row.committed.done():  # its caller may have gone (cancelled)
        row.committed.set_result(None)


def _fail(row: _Row, exc: Exception) -> None:
    if not row.committed.done():
        row.committed.set_exception(exc)
