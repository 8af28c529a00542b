"""Scenario practitioners: booking, performing and forgetting automatic answers.

Against the `engine` fixture: SQLite, and PostgreSQL when OMNIDOC_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import col, select

from app.config import Settings
from app.db import create_db_engine, read_session, wipe_data, write_session
from app.drafts import autopilot, state_machine
from app.drafts import service as drafts
from app.fixtures import Autopilot, Practitioner
from app.models import AutopilotMove, Draft, DraftStatus, WebhookEvent
from app.sandbox import resets
from tests.helpers import (
    AUTHOR,
    KEY_A,
    KEY_B,
    SCENARIO_PRACTITIONERS,
    auth,
    cancel_as_woken,
    create_draft,
)

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


def test_draft_view_shows_autopilot_due_at(engine: Engine) -> None:
    draft_id = _published(engine, ANSWERS)
    view = drafts.read_owned_view(engine, draft_id=draft_id, owner_key=KEY_A, base_url=BASE)
    move = _move(engine, draft_id)
    assert move is not None
    assert view.autopilot_due_at == move.due_at
    assert view.model_dump(mode="json")["autopilot_due_at"].endswith("Z")


def test_draft_view_autopilot_due_at_null_without_autopilot(engine: Engine) -> None:
    draft_id = _published(engine, SILENT)
    view = drafts.read_owned_view(engine, draft_id=draft_id, owner_key=KEY_A, base_url=BASE)
    assert view.autopilot_due_at is None


def test_draft_view_autopilot_due_at_null_once_answered_by_hand(engine: Engine) -> None:
    draft_id = _published(engine, ANSWERS)
    view = drafts.cancel_draft(engine, draft_id=draft_id, owner_key=KEY_A, base_url=BASE)
    assert view.autopilot_due_at is None


def test_perform_before_the_due_time(engine: Engine) -> None:
    draft_id = _published(engine, ANSWERS)
    assert autopilot.perform(engine, draft_id=draft_id) is None
    assert _move(engine, draft_id) is not None
    assert _draft(engine, draft_id).status == S.IN_PROGRESS


def test_perform_completes_with_the_report_text(engine: Engine) -> None:
    draft_id = _published(engine, ANSWERS)
    _make_due(engine, draft_id)
    assert autopilot.perform(engine, draft_id=draft_id) == "completed"
    draft = _draft(engine, draft_id)
    assert (draft.status, draft.report_text) == (S.COMPLETED, REPORT)
    assert _move(engine, draft_id) is None
    assert _statuses(engine, draft_id) == ["in_progress", "completed"]
    with read_session(engine) as session:
        last = session.exec(
            select(WebhookEvent).order_by(col(WebhookEvent.seq).desc()).limit(1)
        ).one()
    data = json.loads(last.payload)["data"]
    assert data["report_url"] == f"{BASE}/api/interop/v1/drafts/{draft_id}/report"
    assert data["billing"]["acts"][0]["rpps"] == ANSWERS
    assert data["context"] == {"n": 1}


def test_perform_cancels(engine: Engine) -> None:
    draft_id = _published(engine, DECLINES)
    _make_due(engine, draft_id)
    assert autopilot.perform(engine, draft_id=draft_id) == "cancelled"
    assert _draft(engine, draft_id).status == S.CANCELLED
    assert _statuses(engine, draft_id) == ["in_progress", "cancelled"]


def test_perform_twice_moves_once(engine: Engine) -> None:
    draft_id = _published(engine, ANSWERS)
    _make_due(engine, draft_id)
    assert autopilot.perform(engine, draft_id=draft_id) == "completed"
    assert autopilot.perform(engine, draft_id=draft_id) is None
    assert _statuses(engine, draft_id) == ["in_progress", "completed"]


def test_perform_from_racing_processes_moves_once(engine: Engine, settings: Settings) -> None:
    """Engines of their own, as separate processes have; threads released together."""
    draft_ids = [_published(engine, ANSWERS) for _ in range(3)]
    for draft_id in draft_ids:
        _make_due(engine, draft_id)
    engines = [create_db_engine(settings) for _ in range(4)]
    start = threading.Barrier(len(engines))
    results: list[str | None] = []

    def race(own: Engine) -> None:
        start.wait()
        for draft_id in draft_ids:
            results.append(autopilot.perform(own, draft_id=draft_id))

    threads = [threading.Thread(target=race, args=(own,)) for own in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for own in engines:
        own.dispose()
    assert (results.count("completed"), results.count(None)) == (3, 9)
    for draft_id in draft_ids:
        assert _statuses(engine, draft_id) == ["in_progress", "completed"]


def test_perform_after_a_manual_cancel_leaves_the_draft_alone(engine: Engine) -> None:
    draft_id = _published(engine, ANSWERS)
    drafts.cancel_draft(engine, draft_id=draft_id, owner_key=KEY_A, base_url=BASE)
    _make_due(engine, draft_id)
    assert autopilot.perform(engine, draft_id=draft_id) == autopilot.LEFT_ALONE
    assert _move(engine, draft_id) is None
    assert _draft(engine, draft_id).status == S.CANCELLED
    assert _statuses(engine, draft_id) == ["in_progress", "cancelled"]


def test_perform_after_a_manual_answer_keeps_its_report(engine: Engine) -> None:
    draft_id = _published(engine, ANSWERS)
    drafts.complete_draft(
        engine, draft_id=draft_id, owner_key=KEY_A, base_url=BASE, report_text="Avis du médecin."
    )
    _make_due(engine, draft_id)
    assert autopilot.perform(engine, draft_id=draft_id) == autopilot.LEFT_ALONE
    assert _draft(engine, draft_id).report_text == "Avis du médecin."
    assert _statuses(engine, draft_id) == ["in_progress", "completed"]


def test_due_draft_ids_lists_only_due_answers(engine: Engine) -> None:
    due = _published(engine, ANSWERS)
    _published(engine, DECLINES)
    _make_due(engine, due)
    assert autopilot.due_draft_ids(engine, limit=10) == [due]


def test_seconds_until_due_is_capped(engine: Engine) -> None:
    assert autopilot.seconds_until_due(engine, cap=0.5) == 0.5
    _published(engine, ANSWERS)  # due in 60 s
    assert autopilot.seconds_until_due(engine, cap=0.5) == 0.5
    assert 55 < autopilot.seconds_until_due(engine, cap=120) <= 60


def test_seconds_until_due_when_one_is_due(engine: Engine) -> None:
    _make_due(engine, _published(engine, ANSWERS))
    assert autopilot.seconds_until_due(engine, cap=0.5) == 0.01


def test_reset_vendor_forgets_the_keys_answers(engine: Engine, settings: Settings) -> None:
    mine = _published(engine, ANSWERS)
    theirs = _published(engine, ANSWERS, key=KEY_B)
    resets.reset_vendor(engine, settings=settings, owner_key=KEY_A)
    assert _move(engine, mine) is None
    assert _move(engine, theirs) is not None


def test_wipe_data_forgets_every_answer(engine: Engine) -> None:
    draft_id = _published(engine, ANSWERS)
    wipe_data(engine)
    assert _move(engine, draft_id) is None


def test_worker_run_once_performs_due_answers(engine: Engine) -> None:
    due, later = _published(engine, ANSWERS), _published(engine, DECLINES)
    _make_due(engine, due)
    moved: list[str] = []
    worker = autopilot.AutopilotWorker(engine=engine, on_moved=lambda: moved.append("x"))
    assert asyncio.run(worker.run_once()) == 1
    assert moved == ["x"]
    assert _draft(engine, due).status == S.COMPLETED
    assert _draft(engine, later).status == S.IN_PROGRESS


def test_worker_run_once_drops_a_moot_answer_without_waking(engine: Engine) -> None:
    draft_id = _published(engine, DECLINES)
    drafts.cancel_draft(engine, draft_id=draft_id, owner_key=KEY_A, base_url=BASE)
    _make_due(engine, draft_id)
    moved: list[str] = []
    worker = autopilot.AutopilotWorker(engine=engine, on_moved=lambda: moved.append("x"))
    assert asyncio.run(worker.run_once()) == 1
    assert moved == []
    assert _move(engine, draft_id) is None


def test_worker_run_stops_when_cancelled_as_it_is_woken(engine: Engine) -> None:
    worker = autopilot.AutopilotWorker(engine=engine)
    assert asyncio.run(cancel_as_woken(worker))


def test_worker_run_performs_an_answer_when_it_falls_due(engine: Engine) -> None:
    draft_id = _published(engine, ANSWERS)
    with write_session(engine) as session:  # due in a moment, not at once
        session.execute(
            update(AutopilotMove)
            .where(col(AutopilotMove.draft_id) == draft_id)
            .values(due_at=datetime.now(UTC) + timedelta(seconds=0.3))
        )

    async def scenario() -> DraftStatus:
        moved = asyncio.Event()
        worker = autopilot.AutopilotWorker(engine=engine, on_moved=moved.set, poll_interval=60)
        task = asyncio.create_task(worker.run())
        try:
            await asyncio.wait_for(moved.wait(), timeout=15)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return DraftStatus(_draft(engine, draft_id).status)

    # poll_interval=60: within the 15 s deadline, only the due time read from the table
    # can have woken it.
    assert asyncio.run(scenario()) == S.COMPLETED


# --- Through the API, with the default fixtures ---------------------------------------


def _publish_through_helpers(client: TestClient, recipient: str) -> dict[str, Any]:
    draft_id = create_draft(client, {"author_rpps": AUTHOR, "recipient_rpps": recipient})
    assert client.post(f"/_sandbox/drafts/{draft_id}/visit", headers=auth()).status_code == 200
    published = client.post(f"/_sandbox/drafts/{draft_id}/publish", headers=auth())
    assert published.status_code == 200, published.text
    view: dict[str, Any] = published.json()
    return view


def _instant(value: str) -> datetime:
    assert value.endswith("Z")
    return datetime.fromisoformat(value)


@pytest.mark.parametrize("recipient", SCENARIO_PRACTITIONERS)
def test_publish_draft_to_a_scenario_practitioner_shows_when(
    client: TestClient, recipient: str
) -> None:
    view = _publish_through_helpers(client, recipient)
    due = _instant(view["autopilot_due_at"])
    assert due - _instant(view["published_at"]) == timedelta(seconds=3)
    pulled = client.get(f"/api/interop/v1/drafts/{view['id']}", headers=auth())
    assert pulled.json()["autopilot_due_at"] == view["autopilot_due_at"]


def test_get_draft_autopilot_due_at_null_for_other_practitioners(client: TestClient) -> None:
    view = _publish_through_helpers(client, SILENT)
    assert view["autopilot_due_at"] is None
    pulled = client.get(f"/api/interop/v1/drafts/{view['id']}", headers=auth())
    assert pulled.json()["autopilot_due_at"] is None


def test_openapi_documents_autopilot_due_at(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    pull_view = schema["components"]["schemas"]["DraftView"]["properties"]
    assert "autopilot" in pull_view["autopilot_due_at"]["description"]
    assert "10006789019" in schema["info"]["description"]
