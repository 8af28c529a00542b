"""The drafts service called directly: create and the downstream moves (publish, complete,
cancel); the state machine itself is in test_state_machine.py."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from app.db import read_session, write_session
from app.drafts import service as drafts
from app.errors import DraftIncomplete, InvalidTransition, ReportNotReady
from app.fixtures import Practitioner
from app.models import Draft, DraftStatus, WebhookEvent
from app.schemas import BillingAct, DraftView
from tests.helpers import AUTHOR, KEY_A, RECIPIENT

S = DraftStatus
BASE = "http://sandbox.test"


def _nobody(rpps: str) -> Practitioner | None:
    """A directory without scenario practitioners: nothing answers by itself."""
    return None


def _draft(engine: Engine, status: DraftStatus = S.TEMPORARY, **fields: object) -> str:
    body = {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT, **fields}
    draft = drafts.create_draft(engine, owner_key=KEY_A, body=body)
    with write_session(engine) as session:
        row = session.get(Draft, draft.id)
        assert row is not None
        row.status = status
    return draft.id


def _events(engine: Engine, draft_id: str) -> list[WebhookEvent]:
    with read_session(engine) as session:
        query = select(WebhookEvent).where(WebhookEvent.draft_id == draft_id)
        return list(session.exec(query.order_by(WebhookEvent.seq)).all())  # type: ignore[arg-type]


def _publish(engine: Engine, draft_id: str, **rpps: str) -> DraftView:
    return drafts.publish_draft(
        engine, draft_id=draft_id, owner_key=KEY_A, base_url=BASE, directory=_nobody, **rpps
    )


def test_publish_draft_moves_to_in_progress(engine: Engine) -> None:
    view = _publish(engine, _draft(engine, S.DRAFT))
    assert view.status == "in_progress"
    assert view.published_at is not None


def test_publish_draft_without_recipient(engine: Engine) -> None:
    draft_id = _draft(engine, S.DRAFT, recipient_rpps=None)
    with pytest.raises(DraftIncomplete) as caught:
        _publish(engine, draft_id)
    assert caught.value.extra == {"missing": ["recipient_rpps"]}
    assert _events(engine, draft_id) == []


def test_publish_draft_without_author_nor_recipient(engine: Engine) -> None:
    draft_id = _draft(engine, S.DRAFT, author_rpps=None, recipient_rpps=None)
    with pytest.raises(DraftIncomplete) as caught:
        _publish(engine, draft_id)
    assert caught.value.extra == {"missing": ["author_rpps", "recipient_rpps"]}


def test_publish_draft_takes_the_author_from_the_body(engine: Engine) -> None:
    draft_id = _draft(engine, S.DRAFT, author_rpps=None)
    assert _publish(engine, draft_id, author_rpps=AUTHOR).author_rpps == AUTHOR


def test_publish_draft_takes_the_recipient_from_the_body(engine: Engine) -> None:
    draft_id = _draft(engine, S.DRAFT, recipient_rpps=None)
    assert _publish(engine, draft_id, recipient_rpps=RECIPIENT).recipient_rpps == RECIPIENT


def test_publish_draft_keeps_the_drafts_own_author(engine: Engine) -> None:
    draft_id = _draft(engine, S.DRAFT, author_rpps=RECIPIENT)
    assert _publish(engine, draft_id, author_rpps=AUTHOR).author_rpps == RECIPIENT


def test_publish_draft_keeps_the_drafts_own_recipient(engine: Engine) -> None:
    draft_id = _draft(engine, S.DRAFT, recipient_rpps=AUTHOR)
    assert _publish(engine, draft_id, recipient_rpps=RECIPIENT).recipient_rpps == AUTHOR


def test_publish_draft_before_the_visit_is_an_invalid_transition(engine: Engine) -> None:
    draft_id = _draft(engine, S.TEMPORARY, recipient_rpps=None)
    with pytest.raises(InvalidTransition):
        _publish(engine, draft_id)


def test_complete_draft_stores_the_report_text(engine: Engine) -> None:
    draft_id = _draft(engine, S.IN_PROGRESS)
    view = drafts.complete_draft(
        engine, draft_id=draft_id, owner_key=KEY_A, base_url=BASE, report_text="Bénin."
    )
    assert view.status == "completed"
    assert view.report_url == f"{BASE}/api/interop/v1/drafts/{draft_id}/report"
    assert view.billing is not None
    assert view.billing.acts[0] == BillingAct(
        code="TE2", role="requis", rpps=RECIPIENT, amount="20.00"
    )
    with read_session(engine) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        assert draft.report_text == "Bénin."


def test_complete_draft_without_text_uses_a_default(engine: Engine) -> None:
    draft_id = _draft(engine, S.IN_PROGRESS)
    drafts.complete_draft(engine, draft_id=draft_id, owner_key=KEY_A, base_url=BASE)
    with read_session(engine) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        assert draft.report_text == drafts.DEFAULT_REPORT_TEXT


@pytest.mark.parametrize("start", [S.TEMPORARY, S.DRAFT, S.IN_PROGRESS])
def test_cancel_draft(engine: Engine, start: S) -> None:
    draft_id = _draft(engine, start)
    view = drafts.cancel_draft(engine, draft_id=draft_id, owner_key=KEY_A, base_url=BASE)
    assert view.status == "cancelled"
    [event] = _events(engine, draft_id)
    assert '"previous_status":"' + start + '"' in event.payload


def test_read_report_before_completed(engine: Engine) -> None:
    draft_id = _draft(engine, S.IN_PROGRESS)
    with pytest.raises(ReportNotReady):
        drafts.read_report(engine, draft_id=draft_id, owner_key=KEY_A, directory=lambda _: None)


def test_pages_act_on_any_owners_draft_and_notify_that_owner(engine: Engine) -> None:
    draft_id = _draft(engine, S.DRAFT)
    drafts.publish_draft(
        engine, draft_id=draft_id, owner_key=None, base_url=BASE, directory=_nobody
    )
    [event] = _events(engine, draft_id)
    assert event.owner_key == KEY_A
