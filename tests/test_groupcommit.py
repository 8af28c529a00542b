"""The group commit under the create path: rows committed before their callers resume."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Engine, Table
from sqlmodel import select

from app import drafts
from app.db import loop_connection, read_session
from app.groupcommit import GroupCommit
from app.models import Draft

DRAFTS: Table = Draft.__table__  # type: ignore[attr-defined]


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
