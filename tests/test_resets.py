"""POST /_sandbox/reset: the calling key's data goes, other keys' and the webhook stay."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app import drafts, outbox, resets
from app.config import Settings
from app.fixtures import ApiKeyFixture, Fixtures
from tests.conftest import AUTHOR, KEY_B, RECIPIENT, auth, create_draft


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
    [seq] = outbox.due_seqs(engine, limit=5)
    claimed = outbox.claim(engine, seq, fixtures=Fixtures(api_keys=(key,)), timeout=1)
    assert claimed is not None
    resets.reset_vendor(engine, settings=settings, owner_key="k")
    outcome = outbox.Outcome(datetime.now(UTC), "http://127.0.0.1:9/hook", 204, 1.0, None, "")
    assert outbox.record(engine, claimed, outcome, delays=[]) == "gone"
