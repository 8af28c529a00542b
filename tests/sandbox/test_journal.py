"""GET /_sandbox/requests: the key's journal of calls (README, "Request journal")."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.sandbox import faults, journal
from tests.helpers import (
    AUTHOR,
    KEY_B,
    RECIPIENT,
    assert_problem,
    auth,
    create_draft,
    wait_ready,
)

URL = "/_sandbox/requests"
DRAFTS = "/api/interop/v1/drafts"
PNG = b"\x89PNG\r\n\x1a\nsynthetic"


def _journal(client: TestClient, key: str = "sandbox-key-a", query: str = "") -> list[Any]:
    response = client.get(f"{URL}{query}", headers=auth(key))
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


def test_list_requests_create_with_warnings_shows_messages(client: TestClient) -> None:
    body = {"recipient_rpps": "10000000000", "extra": 1}
    response = client.post(DRAFTS, json=body, headers=auth())
    assert response.status_code == 200
    [entry] = _journal(client)
    assert set(entry) == {
        "id", "time", "method", "path", "status", "draft_id", "duration_ms", "errors", "warnings"
    }  # fmt: skip
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", DRAFTS, 200)
    assert entry["draft_id"] == response.json()["id"]
    assert entry["errors"] == []
    by_code = {w["code"]: w for w in entry["warnings"]}
    assert by_code["unknown_field"]["field"] == "extra"
    assert by_code["rpps_luhn"]["field"] == "recipient_rpps"
    assert all(w["message"] for w in entry["warnings"])
    assert entry["time"].endswith("Z") and entry["duration_ms"] >= 0


def test_list_requests_validation_failure_shows_field_errors(client: TestClient) -> None:
    body = {"patient": {"nir": "123"}, "author_rpps": "1", "extra": 1}
    response = client.post(DRAFTS, json=body, headers=auth())
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    [entry] = _journal(client)
    assert entry["status"] == 422 and entry["draft_id"] is None
    assert entry["errors"] == response.json()["errors"]
    assert {e["field"] for e in entry["errors"]} == {"patient.nir", "author_rpps"}
    assert [w["field"] for w in entry["warnings"]] == ["extra"]


def test_list_requests_problem_without_fields(client: TestClient) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    response = client.get(f"{DRAFTS}/{missing}", headers=auth())
    assert response.status_code == 404
    assert response.json()["code"] == "draft_not_found"
    [entry] = _journal(client)
    assert (entry["method"], entry["status"], entry["draft_id"]) == ("GET", 404, missing)
    assert entry["errors"] == [
        {"field": "", "code": "draft_not_found", "message": response.json()["detail"]}
    ]


def test_list_requests_path_with_a_nul_is_journaled(client: TestClient) -> None:
    # PostgreSQL text cannot hold NUL: the call was answered but missing from the journal.
    response = client.get(f"{DRAFTS}/%00", headers=auth())
    assert_problem(response, 404, "draft_not_found")
    [entry] = _journal(client)
    assert (entry["method"], entry["status"]) == ("GET", 404)
    assert entry["path"] == f"{DRAFTS}/\ufffd"
    assert entry["draft_id"] == "\ufffd"
    assert entry["errors"][0]["code"] == "draft_not_found"


def test_list_requests_unknown_field_with_a_nul_is_journaled(client: TestClient) -> None:
    raw = b'{"a\\u0000b": 1}'
    response = client.post(
        DRAFTS, content=raw, headers={**auth(), "Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    [entry] = _journal(client)
    assert entry["status"] == 200
    assert [w["field"] for w in entry["warnings"]] == ["a\x00b"]


def test_list_requests_is_per_key(client: TestClient) -> None:
    create_draft(client)
    assert len(_journal(client)) == 1
    assert _journal(client, KEY_B) == []
    create_draft(client, key=KEY_B)
    assert len(_journal(client)) == 1


def test_list_requests_calls_without_a_valid_key_are_not_journaled(client: TestClient) -> None:
    for headers in ({}, auth("not-a-key"), {"Authorization": "Basic abc"}):
        response = client.post(DRAFTS, json={}, headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"
    assert _journal(client) == []


def test_list_requests_helpers_journaled_other_sandbox_calls_not(client: TestClient) -> None:
    draft_id = create_draft(client, {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT})
    assert client.post(f"/_sandbox/drafts/{draft_id}/visit", headers=auth()).status_code == 200
    assert client.post(f"/_sandbox/drafts/{draft_id}/complete", headers=auth()).status_code == 409
    client.get("/_sandbox/webhook", headers=auth())
    client.get("/_sandbox/webhooks/deliveries", headers=auth())
    client.get(URL, headers=auth())
    entries = _journal(client)
    assert [(e["path"].rsplit("/", 1)[-1], e["status"]) for e in entries] == [
        ("complete", 409),
        ("visit", 200),
        ("drafts", 200),
    ]
    assert {e["draft_id"] for e in entries} == {draft_id}
    assert entries[0]["errors"][0]["code"] == "invalid_transition"


def test_list_requests_upload_has_the_draft_id(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = client.post(
        f"{DRAFTS}/{draft_id}/files/",
        files=[("file", ("a.png", PNG, "image/png"))],
        headers=auth(),
    )
    assert response.status_code == 200
    entry = _journal(client)[0]
    assert entry["path"] == f"{DRAFTS}/{draft_id}/files/"
    assert (entry["status"], entry["draft_id"]) == (200, draft_id)


@pytest.fixture
def small_journal_client(tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, journal_size=3)
    with TestClient(create_app(settings)) as test_client:
        wait_ready(test_client)
        yield test_client


def test_list_requests_keeps_the_last_journal_size_entries(
    small_journal_client: TestClient,
) -> None:
    ids = [create_draft(small_journal_client) for _ in range(5)]
    create_draft(small_journal_client, key=KEY_B)
    entries = _journal(small_journal_client)
    assert [e["draft_id"] for e in entries] == ids[:1:-1]
    assert len(_journal(small_journal_client, KEY_B)) == 1


def test_reset_vendor_clears_the_journal(client: TestClient) -> None:
    create_draft(client)
    create_draft(client, key=KEY_B)
    response = client.post("/_sandbox/reset", headers=auth())
    assert response.json()["deleted"]["journal"] == 1
    assert _journal(client) == []
    assert len(_journal(client, KEY_B)) == 1


def test_list_requests_never_logged(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"patient": {"last_name": "Synthetique-Zorglub", "nir": "bad-nir-42"}}
    assert client.post(DRAFTS, json=body, headers=auth()).status_code == 422
    assert _journal(client)[0]["errors"][0]["field"] == "patient.nir"
    assert "Zorglub" not in caplog.text
    assert "bad-nir-42" not in caplog.text
    assert DRAFTS in caplog.text  # the access log did run


def test_journal_middleware_write_failure_does_not_fail_the_call(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("Synthetique-Zorglub")

    monkeypatch.setattr(journal, "record", broken)
    create_draft(client)
    assert _journal(client) == []
    assert "journal write failed (RuntimeError)" in caplog.text
    assert "Zorglub" not in caplog.text


def test_journal_middleware_fault_lookup_failure_does_not_fail_the_call(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("Synthetique-Zorglub")

    monkeypatch.setattr(faults, "take_fault_for_call", broken)
    create_draft(client)
    assert "fault lookup failed (RuntimeError)" in caplog.text
    assert "Zorglub" not in caplog.text
