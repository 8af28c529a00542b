"""Scenario answers booked: on entering in_progress, in the same unit of work; their due
time; forgotten on demand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from app.db import read_session, write_session
from app.drafts import scenarios, state_machine
from app.drafts import service as drafts
from app.models import AutopilotMove, Draft
from tests.drafts.scenario_helpers import (
    ANSWERS,
    BASE,
    DECLINES,
    REPORT,
    SILENT,
    S,
    _directory,
    _draft,
    _move,
    _published,
)
from tests.helpers import KEY_A


def test_schedule_books_the_answer_with_the_publication(engine: Engine) -> None:
    draft_id = _published(engine, ANSWERS)
    move = _move(engine, draft_id)
    published_at = _draft(engine, draft_id).published_at
    assert move is not None and published_at is not None
    assert move.due_at == published_at + timedelta(seconds=60)
    assert (move.outcome, move.report_text, move.base_url) == ("completed", REPORT, BASE)


def test_schedule_joins_the_publishing_unit_of_work(engine: Engine) -> None:
    other = drafts.create_draft(engine, owner_key=KEY_A, body={"recipient_rpps": ANSWERS})
    with pytest.raises(RuntimeError), write_session(engine) as session:
        row = session.get(Draft, other.id)
        assert row is not None
        row.status = S.DRAFT
        state_machine.transition(
            session, draft=row, to=S.IN_PROGRESS, base_url=BASE, directory=_directory
        )
        assert [o for o in session.new if isinstance(o, AutopilotMove)]
        raise RuntimeError("the publication fails after the booking")
    assert _move(engine, other.id) is None  # rolled back with it


def test_schedule_skips_a_recipient_without_autopilot(engine: Engine) -> None:
    assert _move(engine, _published(engine, SILENT)) is None


def test_schedule_skips_a_recipient_outside_the_directory(engine: Engine) -> None:
    assert _move(engine, _published(engine, "10000000000")) is None


def test_schedule_without_a_directory_refuses(engine: Engine) -> None:
    draft = drafts.create_draft(engine, owner_key=KEY_A, body={"recipient_rpps": ANSWERS})
    with read_session(engine) as session, pytest.raises(TypeError):
        scenarios.schedule(session, draft, BASE, None)


def test_schedule_wakes_the_worker_after_the_commit(engine: Engine) -> None:
    woken: list[int] = []
    unsubscribe = scenarios.BOOKED.subscribe(engine, lambda: woken.append(1))
    try:
        _published(engine, SILENT)
        assert woken == []  # nothing booked, nobody woken
        _published(engine, ANSWERS)
        assert woken == [1]
    finally:
        unsubscribe()


def test_due_at_of_a_booked_answer(engine: Engine) -> None:
    draft_id = _published(engine, DECLINES)
    move = _move(engine, draft_id)
    assert move is not None
    with read_session(engine) as session:
        assert scenarios.due_at(session, draft=_draft(engine, draft_id)) == move.due_at


def test_due_at_without_a_booked_answer_is_none(engine: Engine) -> None:
    draft_id = _published(engine, SILENT)
    with read_session(engine) as session:
        assert scenarios.due_at(session, draft=_draft(engine, draft_id)) is None


def test_due_at_once_out_of_in_progress_is_none(engine: Engine) -> None:
    draft_id = _published(engine, ANSWERS)
    drafts.cancel_draft(engine, draft_id=draft_id, owner_key=KEY_A, base_url=BASE)
    assert _move(engine, draft_id) is not None  # the row waits for the worker to drop it
    with read_session(engine) as session:
        assert scenarios.due_at(session, draft=_draft(engine, draft_id)) is None


def test_forget_drops_only_the_selected_drafts_answers(engine: Engine) -> None:
    gone, kept = _published(engine, ANSWERS), _published(engine, DECLINES)
    with write_session(engine) as session:
        ids = select(Draft.id).where(Draft.id == gone)
        assert scenarios.forget(session, draft_ids=ids) == 1
    assert _move(engine, gone) is None
    assert _move(engine, kept) is not None
    with write_session(engine) as session:
        assert scenarios.forget(session, draft_ids=select(AutopilotMove.draft_id)) == 1
