"""POST /_sandbox/reset: the calling key's data goes, other keys' and the webhook stay."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import select

from app.config import Settings
from app.db import read_session, write_session
from app.drafts import service as drafts
from app.fixtures import ApiKeyFixture, Fixtures
from app.models import WebhookAttempt, WebhookEvent
from app.notifications import outbox
from app.sandbox import resets
from tests.helpers import AUTHOR, KEY_B, RECIPIENT, auth, create_draft


def _stored_files(settings: Settings) -> list[Path]:
    files_dir = settings.files_dir
    return [p for p in files_dir.iterdir() if p.is_file()] if files_dir.is_dir() else []


def test_reset_vendor_deletes_only_the_keys_data(client: TestClient, settings: Settings) -> None:
    hook = client.put("/_sandbox/webhook", json={"url": "http://127.0.0.1:9/hook"}, headers=auth())
    mine = create_draft(client, {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT})
    upload = client.post(
        f"/api/interop/v1/drafts/{mine}/files/",
        files=[("file", ("a.png", b"\x89PNG\r\n\x1a\nsynthetic", "image/png"))],
        headers=auth(),
    )
    assert upload.status_code == 200
    for step in ("visit", "publish"):
        assert client.post(f"/_sandbox/drafts/{mine}/{step}", headers=auth()).status_code == 200
    theirs = create_draft(client, key=KEY_B)
    assert len(_stored_files(settings)) == 1

    response = client.post("/_sandbox/reset", headers=auth())

    assert response.status_code == 200
    assert response.json() == {
        "deleted": {"drafts": 1, "files": 1, "deliveries": 1, "journal": 4, "faults": 0}
    }
    gone = client.get(f"/api/interop/v1/drafts/{mine}", headers=auth())
    assert gone.json()["code"] == "draft_not_found"
    assert client.get("/_sandbox/webhooks/deliveries", headers=auth()).json() == {"items": []}
    assert client.get("/_sandbox/webhook", headers=auth()).json() == hook.json()
    assert client.get(f"/api/interop/v1/drafts/{theirs}", headers=auth(KEY_B)).status_code == 200
    assert _stored_files(settings) == []


def test_reset_vendor_needs_a_key(client: TestClient) -> None:
    response = client.post("/_sandbox/reset")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_reset_vendor_during_an_attempt_drops_its_record(
    engine: Engine, settings: Settings
) -> None:
    key = ApiKeyFixture(key="k", name="K", webhook_url="http://127.0.0.1:9/hook")
    draft = drafts.create_draft(
        engine, owner_key="k", body={"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT}
    )
    drafts.visit_draft(engine, draft_id=draft.id, base_url="http://s", owner_key="k")
    drafts.cancel_draft(engine, draft_id=draft.id, owner_key="k", base_url="http://s")
    [head] = outbox.due_heads(engine, limit=5)
    claimed = outbox.claim(engine, head.seq, fixtures=Fixtures(api_keys=(key,)))
    assert claimed is not None
    resets.reset_vendor(engine, settings=settings, owner_key="k")
    outcome = outbox.Outcome(datetime.now(UTC), "http://127.0.0.1:9/hook", 204, 1.0, None, "")
    assert outbox.record(engine, claimed, outcome, delays=[]) == "gone"


def _lock_waiters(engine: Engine) -> int:
    """PostgreSQL backends of this test's database waiting on a row lock."""
    with engine.connect() as connection:
        waiting = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND application_name = current_setting('application_name')"
            )
        ).scalar_one()
    return int(waiting)


def test_reset_vendor_while_an_attempt_is_recorded(engine: Engine, settings: Settings) -> None:
    """The attempt being recorded lands first and goes with the reset: no foreign-key error."""
    draft = drafts.create_draft(engine, owner_key="k", body={})
    drafts.cancel_draft(engine, draft_id=draft.id, owner_key="k", base_url="http://s")
    locked, go = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    deleted: dict[str, int] = {}

    def record_attempt() -> None:  # what outbox.record does: lock the event, add the attempt
        with write_session(engine) as session:
            event = session.exec(select(WebhookEvent).with_for_update()).one()
            locked.set()
            go.wait(15)
            session.add(WebhookAttempt(event_seq=event.seq or 0, url="http://127.0.0.1:9/hook"))

    def reset() -> None:
        try:
            deleted.update(resets.reset_vendor(engine, settings=settings, owner_key="k"))
        except BaseException as exc:
            errors.append(exc)

    recorder, resetter = threading.Thread(target=record_attempt), threading.Thread(target=reset)
    recorder.start()
    assert locked.wait(15)
    resetter.start()
    if engine.dialect.name == "postgresql":  # SQLite: the reset waits for the write lock
        deadline = time.monotonic() + 15
        while _lock_waiters(engine) == 0:
            assert time.monotonic() < deadline, "the reset never waited on the attempt"
            time.sleep(0.01)
    go.set()
    recorder.join(15)
    resetter.join(15)

    assert errors == []
    assert deleted["deliveries"] == 1
    with read_session(engine) as session:
        assert session.exec(select(WebhookAttempt)).all() == []
