"""What the scenario tests share: a directory with an answering, a declining and a silent
practitioner, and drafts published to them through the drafts service."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, update
from sqlmodel import col, select

from app.db import read_session, write_session
from app.drafts import service as drafts
from app.fixtures import Autopilot, Practitioner
from app.models import AutopilotMove, Draft, DraftStatus, WebhookEvent
from tests.helpers import AUTHOR, KEY_A

S = DraftStatus
BASE = "http://sandbox.test"
ANSWERS = "10006789019"
DECLINES = "10007890121"
SILENT = "10001234565"
REPORT = "Avis : lésion d'aspect bénin, surveillance simple."

_PRACTITIONERS = {
    ANSWERS: Practitioner(
        rpps=ANSWERS,
        first_name="Élise",
        last_name="Marchand",
        specialty="Rhumatologie",
        autopilot=Autopilot(outcome="completed", after_seconds=60, report_text=REPORT),
    ),
    DECLINES: Practitioner(
        rpps=DECLINES,
        first_name="Nicolas",
        last_name="Perrin",
        specialty="Ophtalmologie",
        autopilot=Autopilot(outcome="cancelled", after_seconds=60),
    ),
    SILENT: Practitioner(rpps=SILENT, first_name="J", last_name="M", specialty="Dermatologie"),
}


def _directory(rpps: str) -> Practitioner | None:
    return _PRACTITIONERS.get(rpps)


def _published(engine: Engine, recipient: str, key: str = KEY_A) -> str:
    """A draft of `key` to `recipient`, visited and published."""
    body = {"author_rpps": AUTHOR, "recipient_rpps": recipient, "context": {"n": 1}}
    draft_id = drafts.create_draft(engine, owner_key=key, body=body).id
    drafts.visit_draft(engine, draft_id=draft_id, base_url=BASE, owner_key=key)
    drafts.publish_draft(
        engine, draft_id=draft_id, owner_key=key, base_url=BASE, directory=_directory
    )
    return draft_id


def _make_due(engine: Engine, draft_id: str) -> None:
    """Move the booked answer's due time into the past (no waiting in unit tests)."""
    with write_session(engine) as session:
        session.execute(
            update(AutopilotMove)
            .where(col(AutopilotMove.draft_id) == draft_id)
            .values(due_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def _move(engine: Engine, draft_id: str) -> AutopilotMove | None:
    with read_session(engine) as session:
        return session.get(AutopilotMove, draft_id)


def _draft(engine: Engine, draft_id: str) -> Draft:
    with read_session(engine) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        return draft


def _statuses(engine: Engine, draft_id: str) -> list[str]:
    """The statuses notified for the draft, in order."""
    with read_session(engine) as session:
        events = session.exec(
            select(WebhookEvent)
            .where(WebhookEvent.draft_id == draft_id)
            .order_by(col(WebhookEvent.seq))
        ).all()
    return [json.loads(e.payload)["data"]["status"] for e in events]
