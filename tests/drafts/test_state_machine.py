"""The state machine called directly: ALLOWED_MOVES and transition()."""

from __future__ import annotations

from itertools import product

import pytest
from sqlalchemy import Engine

from app.db import write_session
from app.drafts import service as drafts
from app.drafts import state_machine
from app.errors import InvalidTransition
from app.models import Draft, DraftStatus, WebhookEvent
from tests.drafts.test_service import BASE, _draft, _events, _nobody

S = DraftStatus


def test_allowed_moves_are_the_documented_ones() -> None:
    assert {
        (S.TEMPORARY, S.DRAFT),
        (S.DRAFT, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.COMPLETED),
        (S.TEMPORARY, S.CANCELLED),
        (S.DRAFT, S.CANCELLED),
        (S.IN_PROGRESS, S.CANCELLED),
    } == state_machine.ALLOWED_MOVES


@pytest.mark.parametrize(
    ("start", "to"), [m for m in product(S, S) if m not in state_machine.ALLOWED_MOVES]
)
def test_transition_refuses_impossible_moves(engine: Engine, start: S, to: S) -> None:
    draft_id = _draft(engine, start)
    with pytest.raises(InvalidTransition), write_session(engine) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        state_machine.transition(session, draft=draft, to=to, base_url=BASE)
    assert _events(engine, draft_id) == []


def test_transition_enqueues_in_the_same_unit_of_work(engine: Engine) -> None:
    draft_id = _draft(engine, S.DRAFT, context={"dossier": {"n": 1}})
    with write_session(engine) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        state_machine.transition(
            session, draft=draft, to=S.IN_PROGRESS, base_url=BASE, directory=_nobody
        )
        pending = [o for o in session.new if isinstance(o, WebhookEvent)]
        assert len(pending) == 1  # not committed yet: it lands with the status or not at all
    [event] = _events(engine, draft_id)
    assert event.status == "pending"
    assert event.webhook_id.startswith("msg_")


def test_transition_to_in_progress_needs_the_directory(engine: Engine) -> None:
    draft_id = _draft(engine, S.DRAFT)
    with pytest.raises(TypeError, match="directory"), write_session(engine) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        state_machine.transition(session, draft=draft, to=S.IN_PROGRESS, base_url=BASE)
    assert _events(engine, draft_id) == []


def test_transition_of_an_unowned_draft_emits_nothing(engine: Engine) -> None:
    draft = drafts.create_draft(engine, owner_key=None, body={})
    with write_session(engine) as session:
        row = session.get(Draft, draft.id)
        assert row is not None
        state_machine.transition(session, draft=row, to=S.CANCELLED, base_url=BASE)
    assert _events(engine, draft.id) == []
