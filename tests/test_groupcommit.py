"""The group commit under the create path: rows committed before their callers resume."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Table
from sqlmodel import select

from app.config import Settings
from app.db import create_db_engine, create_schema, loop_connection, read_session
from app.drafts import service as drafts
from app.errors import FieldIssue
from app.groupcommit import GroupCommit, Tidy, _Row, _write, _write_through_driver
from app.models import Draft, JournalEntry, new_id
from app.sandbox.journal import entry_row
from tests.helpers import AUTHOR

DRAFTS: Table = Draft.__table__  # type: ignore[attr-defined]
JOURNAL: Table = JournalEntry.__table__  # type: ignore[attr-defined]


async def _with_writer(engine: Engine, calls: Any) -> list[Any]:
    """Run `calls(writer)` (coroutines) against a running GroupCommit; their results."""
    with loop_connection(engine) as loop_db:
        writer = GroupCommit(engine, inline=loop_db)
        runner = asyncio.create_task(writer.run())
        try:
            return await asyncio.gather(*calls(writer), return_exceptions=True)
        finally:
            runner.cancel()
            with pytest.raises(asyncio.CancelledError):
                await runner


def _stored_ids(engine: Engine) -> set[str]:
    with read_session(engine) as session:
        return set(session.exec(select(Draft.id)).all())


def test_store_draft_is_committed_when_it_returns(engine: Engine) -> None:
    async def scenario() -> set[str]:
        with loop_connection(engine) as loop_db:
            writer = GroupCommit(engine, inline=loop_db)
            runner = asyncio.create_task(writer.run())
            draft_id = await drafts.store_draft(writer, owner_key="k", body={"text": "x"})
            seen = _stored_ids(engine)  # another connection, before anything else runs
            assert draft_id in seen
            runner.cancel()
            with pytest.raises(asyncio.CancelledError):
                await runner
            return seen

    assert len(asyncio.run(scenario())) == 1


def test_store_draft_concurrent_calls_all_committed(engine: Engine) -> None:
    results = asyncio.run(
        _with_writer(
            engine,
            lambda writer: [
                drafts.store_draft(writer, owner_key="k", body={"text": str(n)}) for n in range(50)
            ],
        )
    )
    assert len(set(results)) == 50
    assert _stored_ids(engine) == set(results)


def test_group_commit_bad_row_fails_only_its_caller(engine: Engine) -> None:
    good = [drafts.new_draft_row(owner_key="k", body={}) for _ in range(3)]
    duplicate = {**good[0], "id": good[0]["id"]}  # the same primary key twice

    def calls(writer: GroupCommit) -> list[Any]:
        return [writer.insert(DRAFTS, row) for row in (*good, duplicate)]

    results = asyncio.run(_with_writer(engine, calls))
    assert results[:3] == [None, None, None]
    assert isinstance(results[3], Exception)
    assert _stored_ids(engine) == {row["id"] for row in good}


def _raw_rows(engine: Engine, table: str) -> dict[str, tuple[Any, ...]]:
    """Each row as SQLite stores it (no type processing on the way back), by id."""
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        cursor = raw.execute(f"SELECT * FROM {table}")
        names = [column[0] for column in cursor.description]
        return {row[names.index("id")]: row for row in cursor.fetchall()}


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """SQLite whatever the suite's database: what is tested here exists only on SQLite
    (the PostgreSQL pass runs it too, on SQLite, rather than skipping it)."""
    engine = create_db_engine(Settings(data_dir=tmp_path / "sqlite", database_url=None))
    create_schema(engine)
    yield engine
    engine.dispose()


def test_driver_path_stores_what_sqlalchemy_stores(sqlite_engine: Engine) -> None:
    """The loop's inserts through the driver (`_write_through_driver`) and SQLAlchemy's
    (`_write`, the threads' path) leave the same bytes in every column."""
    engine = sqlite_engine
    paris = timezone(timedelta(hours=2))
    body = {
        "author_rpps": AUTHOR,
        "patient": {"first_name": "Élodie", "nir": "190095916511287", "note": None},
        "text": "Compte rendu…",
        "context": {"id": "c-1", "n": [1, 2.5, True]},
    }
    pairs = []
    for owner, tidy in ((None, None), ("k", Tidy(("t", "k"), "SELECT :x", {"x": 1}))):
        first = {**drafts.new_draft_row(owner_key=owner, body=body), "patient": None}
        if owner is not None:
            first = {**first, "patient": body["patient"], "created_at": datetime.now(paris)}
        second = {**first, "id": new_id()}
        pairs.append(("draft", first, second))
        journal_first = entry_row(
            owner_key="k",
            at=datetime.now(paris),
            method="POST",
            path="/api/interop/v1/drafts",
            status=422,
            draft_id=None,
            duration_ms=1.25,
            errors=[FieldIssue("patient.nir", "nir_format", "must be 15 digits")],
            warnings=[],
        )
        journal_second = {**journal_first, "id": new_id()}
        pairs.append(("journal_entry", journal_first, journal_second))
        loop = asyncio.new_event_loop()
        futures = [loop.create_future() for _ in range(2)]
        group_a = [
            _Row(DRAFTS, first, tidy, futures[0]),
            _Row(JOURNAL, journal_first, tidy, futures[1]),
        ]
        group_b = [
            _Row(DRAFTS, second, tidy, futures[0]),
            _Row(JOURNAL, journal_second, tidy, futures[1]),
        ]
        with loop_connection(engine) as raw:
            assert raw is not None
            raw.execute("BEGIN IMMEDIATE")
            _write_through_driver(raw, group_a, engine.dialect)
            raw.execute("COMMIT")
        with engine.begin() as connection:
            _write(connection, group_b)
        loop.close()
    stored = {table: _raw_rows(engine, table) for table in ("draft", "journal_entry")}
    for table, first, second in pairs:
        by_driver, by_sqlalchemy = stored[table][first["id"]], stored[table][second["id"]]
        differing = [
            i for i, (a, b) in enumerate(zip(by_driver, by_sqlalchemy, strict=True)) if a != b
        ]
        # Only the id (and the journal's own sequence number) may differ.
        assert len(differing) == (1 if table == "draft" else 2), (by_driver, by_sqlalchemy)


def test_group_waits_in_a_thread_while_another_connection_writes(sqlite_engine: Engine) -> None:
    """A group finding SQLite's write lock taken by another connection is committed once
    it is free, without the loop waiting on the lock."""
    engine = sqlite_engine

    async def scenario() -> tuple[str, bool, float]:
        other = engine.connect()
        raw = other.connection.dbapi_connection
        assert raw is not None
        raw.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        with loop_connection(engine) as loop_db:
            writer = GroupCommit(engine, inline=loop_db)
            runner = asyncio.create_task(writer.run())
            store = asyncio.create_task(drafts.store_draft(writer, owner_key="k", body={}))
            ticks = 0
            for _ in range(20):  # the loop keeps turning while the group waits
                await asyncio.sleep(0.01)
                ticks += 1
            waiting = not store.done()
            raw.execute("COMMIT")
            other.close()
            draft_id = await asyncio.wait_for(store, 30)
            runner.cancel()
            with pytest.raises(asyncio.CancelledError):
                await runner
            return draft_id, waiting, ticks

    draft_id, waiting, ticks = asyncio.run(scenario())
    assert waiting and ticks == 20
    assert draft_id in _stored_ids(engine)
