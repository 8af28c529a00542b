"""Bodies that parse but cannot be stored or echoed as sent: lone surrogates anywhere (keys
and strings, known fields or not) and numbers beyond a double are refused with the place
named; what was stored before that check (or by another path) never fails a read."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app import runtime
from app.db import write_session
from app.models import Draft, JournalEntry
from tests.helpers import AUTHOR, KEY_A, RECIPIENT, assert_problem, auth, create_draft

DRAFTS = "/api/interop/v1/drafts"
JSON = {"Content-Type": "application/json"}


def _engine(client: TestClient) -> Engine:
    state = runtime.of_app(client.app)
    assert state is not None and state.engine is not None
    return state.engine


def _post(client: TestClient, path: str, raw: str, method: str = "POST") -> Any:
    # Raw text: json= would refuse to encode a lone surrogate on the client side.
    return client.request(method, path, content=raw.encode(), headers={**auth(), **JSON})


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"\\ud800": 1}', "\\ud800"),
        ('{"patient": {"nickname": "\\ud800"}}', "patient.nickname"),
        ('{"patient": {"last_name": "Dupont\\udfff"}}', "patient.last_name"),
        ('{"patient": {"\\udc00": "x"}}', "patient.\\udc00"),
        ('{"context": {"list": ["ok", "\\udbff"]}}', "context.list.1"),
        ('{"context": {"deep": {"\\ud800key": 1}}}', "context.deep.\\ud800key"),
        ('"\\ud800"', ""),
    ],
)
def test_create_draft_lone_surrogate_is_refused(client: TestClient, raw: str, field: str) -> None:
    body = assert_problem(_post(client, DRAFTS, raw), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, "invalid_character")]
    journal = client.get("/_sandbox/requests", headers=auth())
    assert journal.status_code == 200
    assert journal.json()["items"][0]["errors"][0]["field"] == field


def test_create_draft_names_every_unstorable_place(client: TestClient) -> None:
    raw = '{"context": {"a": "\\ud800", "b": 1e400}, "patient": {"x": "\\udc00"}}'
    body = assert_problem(_post(client, DRAFTS, raw), 422, "validation_failed")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("context.a", "invalid_character"),
        ("context.b", "invalid_number"),
        ("patient.x", "invalid_character"),
    }


def test_create_draft_keeps_surrogate_pairs(client: TestClient) -> None:
    raw = '{"context": {"emoji": "\\ud83d\\ude00"}, "patient": {"first_name": "\\ud83d\\ude00"}}'
    response = _post(client, DRAFTS, raw)
    assert response.status_code == 200, response.text
    view = client.get(f"{DRAFTS}/{response.json()['id']}", headers=auth()).json()
    assert view["context"] == {"emoji": "\U0001f600"}
    assert view["patient"] == {"first_name": "\U0001f600"}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"context": {"a": 1e400}}', "context.a"),
        ('{"context": {"a": -1E999}}', "context.a"),
        ('{"context": {"list": [1, 2, 1e309]}}', "context.list.2"),
        ('{"patient": {"birth_order": 1e400}}', "patient.birth_order"),
        ('{"unknown": 9e99999}', "unknown"),
    ],
)
def test_create_draft_non_finite_number_is_refused(
    client: TestClient, raw: str, field: str
) -> None:
    body = assert_problem(_post(client, DRAFTS, raw), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, "invalid_number")]


def test_create_draft_context_numbers_echo_as_sent(client: TestClient) -> None:
    context = {"big": 1.7976931348623157e308, "small": -2.5e-300, "int": 10**30}
    response = _post(client, DRAFTS, json.dumps({"context": context}))
    assert response.status_code == 200, response.text
    view = client.get(f"{DRAFTS}/{response.json()['id']}", headers=auth())
    assert view.json()["context"] == context


def _ready_draft(client: TestClient) -> str:
    draft_id = create_draft(client, {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT})
    assert client.post(f"/_sandbox/drafts/{draft_id}/visit", headers=auth()).status_code == 200
    return draft_id


@pytest.mark.parametrize(
    ("method", "path", "raw", "field", "code"),
    [
        ("POST", "/_sandbox/drafts/{id}/publish", '{"author_rpps": "\\ud800"}', "author_rpps", 0),
        ("POST", "/_sandbox/drafts/{id}/publish", '{"\\ud800": 1}', "\\ud800", 0),
        ("POST", "/_sandbox/drafts/{id}/complete", '{"report_text": "\\udc00"}', "report_text", 0),
        ("PUT", "/_sandbox/webhook", '{"url": "http://127.0.0.1/\\ud800"}', "url", 0),
        ("POST", "/_sandbox/faults", '{"path": "/api/interop/v1/\\ud800"}', "path", 0),
        ("POST", "/_sandbox/faults", '{"status": 1e400}', "status", 1),
        ("POST", "/interop/drafts/new/lint", '{"fragment": "a=\\ud800"}', "fragment", 0),
        ("POST", "/interop/drafts/new/lint", '{"values": {"\\ud800": "x"}}', "values.\\ud800", 0),
    ],
)
def test_json_bodies_refuse_what_cannot_be_stored(
    client: TestClient, method: str, path: str, raw: str, field: str, code: int
) -> None:
    path = path.replace("{id}", _ready_draft(client)) if "{id}" in path else path
    body = assert_problem(_post(client, path, raw, method), 422, "validation_failed")
    expected = ("invalid_character", "invalid_number")[code]
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, expected)]


def _stored_with_surrogates(client: TestClient) -> str:
    """A draft and a journal entry as an older version stored them: lone surrogates kept
    escaped in the JSON columns and in the context's JSON text."""
    draft = Draft(
        owner_key=KEY_A,
        author_rpps=AUTHOR,
        recipient_rpps=RECIPIENT,
        patient={"first_name": "Jeanne\ud800", "nickname": "\udc00"},
        context_json='{"id": "\\ud800", "\\udfff": 1}',
    )
    entry = JournalEntry(
        owner_key=KEY_A,
        method="POST",
        path=DRAFTS,
        status=200,
        warnings=[{"field": "\ud800", "code": "unknown_field", "message": "\ud800 is unknown"}],
    )
    with write_session(_engine(client)) as session:
        session.add(draft)
        session.add(entry)
    return draft.id


def test_stored_surrogates_never_fail_a_read(client: TestClient) -> None:
    draft_id = _stored_with_surrogates(client)
    view = client.get(f"{DRAFTS}/{draft_id}", headers=auth())
    assert view.status_code == 200, view.text
    assert view.json()["patient"] == {"first_name": "Jeanne\ufffd", "nickname": "\ufffd"}
    assert view.json()["context"] == {"id": "\ufffd", "\ufffd": 1}
    journal = client.get("/_sandbox/requests", headers=auth())
    assert journal.status_code == 200
    assert journal.json()["items"][-1]["warnings"][0]["field"] == "\ufffd"
    page = client.get(f"/interop/drafts/{draft_id}")
    assert page.status_code == 200


def test_stored_surrogates_never_fail_a_move_or_a_notification(client: TestClient) -> None:
    draft_id = _stored_with_surrogates(client)
    for move in ("visit", "publish", "complete"):
        moved = client.post(f"/_sandbox/drafts/{draft_id}/{move}", headers=auth())
        assert moved.status_code == 200, moved.text
    deliveries = client.get("/_sandbox/webhooks/deliveries", headers=auth())
    assert deliveries.status_code == 200
    payloads = [item["payload"]["data"] for item in deliveries.json()["items"]]
    assert [p["context"] for p in payloads] == [{"id": "\ufffd", "\ufffd": 1}] * 2
    report = client.get(f"{DRAFTS}/{draft_id}/report", headers=auth())
    assert report.status_code == 200
