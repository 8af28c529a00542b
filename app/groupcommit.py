"""Group commit: the hot path's inserts (drafts, journal rows), committed together.

A create adds one draft row and every journaled call one journal row. Rather than one
transaction per row, each taking the write lock, rows are queued here and one writer
task commits whatever is queued as one transaction, a "group", then resumes each caller.
A caller resumes only once its row is committed, so nothing is promised earlier than
before: a create's 200 leaves after its draft is durable (SQLite's WAL survives a killed
process), a call's journal row is visible before its answer leaves.

Groups form by themselves: while one commits, the next calls queue up; on an idle server
a group is one row, committed at once. On SQLite a group commits on the event loop itself
when the write lock is free (well under a millisecond: no thread to hand over to, no
lock to wait on), and in a thread when another writer holds it (a visit or an upload of
this process, another process), so the loop never sleeps on a lock. On PostgreSQL
(network round trips) every group commits in a thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert

from app import db

logger = logging.getLogger("omnidoc_sandbox")

# Work that runs once per group, after its inserts and in its transaction (the journal's
# trim to OMNIDOC_JOURNAL_SIZE): keyed, so that a group of ten rows of one vendor key
# trims that key's journal once.
Tidy = tuple[Hashable, Callable[[Connection], None]]


@dataclass
class _Row:
    table: Table
    values: dict[str, Any]
    tidy: Tidy | None
    committed: asyncio.Future[None]


class GroupCommit:
    """One per process and engine: `insert()` from requests, `run()` as the lifespan's task."""

    def __init__(self, engine: Engine, *, inline: Connection | None) -> None:
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
                transaction = self._inline.begin()  # BEGIN IMMEDIATE; fails at once if busy
            except Exception as exc:
                if db.is_busy(exc):  # another process is writing
                    return False
                raise
            with transaction:
                _write(self._inline, group)
            return True
        finally:
            lock.release()

    def _commit_blocking(self, group: list[_Row]) -> None:
        """Commit in this (worker) thread, waiting for the write lock like any writer."""
        with db.write_connection(self._engine) as connection:
            _write(connection, group)


def _write(connection: Connection, group: list[_Row]) -> None:
    """The group's inserts, one statement per table (rows keep their queue order, so
    insertion-ordered keys like the journal's `seq` follow the calls), then its tidy-ups."""
    by_table: dict[Table, list[dict[str, Any]]] = {}
    tidies: dict[Hashable, Callable[[Connection], None]] = {}
    for row in group:
        by_table.setdefault(row.table, []).append(row.values)
        if row.tidy is not None:
            tidies.setdefault(*row.tidy)
    for table, values in by_table.items():
        connection.execute(insert(table), values)
    for tidy in tidies.values():
        tidy(connection)


def _succeed(row: _Row) -> None:
    if not row.committed.done():  # its caller may have gone (cancelled)
        row.committed.set_result(None)


def _fail(row: _Row, exc: Exception) -> None:
    if not row.committed.done():
        row.committed.set_exception(exc)
