"""The durable outbox: exclusive claims, renewed leases, work woken after commit only."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from app.db import write_session
from app.drafts import service as drafts
from app.drafts import state_machine
from app.models import Draft, DraftStatus
from app.notifications import outbox
from tests.notifications.notification_helpers import (
    FIXTURES,
    KEY,
    OTHER,
    _events,
    _published,
)


def test_claim_is_exclusive(engine: Engine) -> None:
    _published(engine)
    [head] = outbox.due_heads(engine, limit=10)
    assert outbox.claim(engine, head.seq, fixtures=FIXTURES) is not None
    assert outbox.claim(engine, head.seq, fixtures=FIXTURES) is None
    assert outbox.due_heads(engine, limit=10) == []


def test_renew_extends_only_the_claims_held(engine: Engine) -> None:
    _published(engine)
    _published(engine, key=OTHER.key)
    first, second = (
        outbox.claim(engine, head.seq, fixtures=FIXTURES)
        for head in outbox.due_heads(engine, limit=10)
    )
    assert first is not None and second is not None
    before = {e.seq: e.claimed_until for e in _events(engine)}
    outbox.renew(engine, [first.token])
    after = {e.seq: e.claimed_until for e in _events(engine)}
    renewed, was = after[first.seq], before[first.seq]
    assert renewed is not None and was is not None and renewed > was
    assert after[second.seq] == before[second.seq]


def test_enqueue_wakes_the_worker_after_commit_only(engine: Engine) -> None:
    woken: list[str] = []
    unsubscribe = outbox.NEW_WORK.subscribe(engine, lambda: woken.append("woken"))
    draft = drafts.create_draft(engine, owner_key=KEY.key, body={})
    with pytest.raises(RuntimeError), write_session(engine) as session:
        row = session.get(Draft, draft.id)
        assert row is not None
        state_machine.transition(session, draft=row, to=DraftStatus.CANCELLED, base_url="http://s")
        assert woken == []  # not before the commit
        raise RuntimeError("rolled back")
    assert woken == []  # nor after a rollback
    drafts.cancel_draft(engine, draft_id=draft.id, owner_key=KEY.key, base_url="http://s")
    assert woken == ["woken"]
    unsubscribe()
    drafts.visit_draft(engine, draft_id=_published(engine), base_url="http://s", owner_key=KEY.key)
    assert woken == ["woken"]
