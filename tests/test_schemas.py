"""Wire models: the create body's documentation cannot drift from the rules, one datetime
format on the wire, the sandbox bodies refuse what the server refuses."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from app import identifiers as ids
from app.drafts.validation import PATIENT_FIELDS, TOP_LEVEL_FIELDS
from app.schemas import (
    INSEE_PATTERN,
    NIR_PATTERN,
    PHONE_PATTERN,
    RPPS_PATTERN,
    DraftCreate,
    Patient,
    wire_time,
)
from tests.helpers import AUTHOR, RECIPIENT, auth, create_draft

WIRE_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$")
# Strings near the identifiers' shapes, so both verdicts come up often.
NEARLY = st.text(alphabet="0123456789ABab2 -", min_size=0, max_size=17)


def test_draft_create_documents_exactly_the_validated_fields() -> None:
    assert tuple(DraftCreate.model_fields) == TOP_LEVEL_FIELDS
    assert tuple(Patient.model_fields) == PATIENT_FIELDS


@given(NEARLY)
def test_nir_pattern_is_the_nir_format_rule(value: str) -> None:
    assert bool(re.fullmatch(NIR_PATTERN, value)) is (ids.nir_format_problem(value) is None)


@given(NEARLY)
def test_insee_pattern_is_the_insee_rule(value: str) -> None:
    assert bool(re.fullmatch(INSEE_PATTERN, value)) is ids.is_insee_code(value)


@given(NEARLY)
def test_phone_pattern_is_the_phone_format_rule(value: str) -> None:
    assert bool(re.fullmatch(PHONE_PATTERN, value)) is ids.is_french_phone_format(value)


@given(NEARLY)
def test_rpps_pattern_is_the_rpps_format_rule(value: str) -> None:
    assert bool(re.fullmatch(RPPS_PATTERN, value)) is ids.is_rpps(value)


def test_wire_time_is_utc_with_milliseconds() -> None:
    paris = timezone(timedelta(hours=1))
    assert wire_time(datetime(2026, 11, 26, 11, 0, 0, 123456, tzinfo=paris)) == (
        "2026-11-26T10:00:00.123Z"
    )
    assert wire_time(datetime(2026, 11, 26, 10, 0, tzinfo=UTC)) == "2026-11-26T10:00:00.000Z"


def test_every_timestamp_on_the_wire_has_one_format(client: TestClient) -> None:
    client.put("/_sandbox/webhook", json={"url": "http://127.0.0.1:9/hook"}, headers=auth())
    client.post("/_sandbox/faults", json={"delay_ms": 1}, headers=auth())
    client.post("/_sandbox/inbox/demo", content=b"{}")
    draft_id = create_draft(client, {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT})
    for step in ("visit", "publish", "complete"):
        client.post(f"/_sandbox/drafts/{draft_id}/{step}", headers=auth()).raise_for_status()
    view = client.get(f"/api/interop/v1/drafts/{draft_id}", headers=auth()).json()
    [delivery, *_] = client.get("/_sandbox/webhooks/deliveries", headers=auth()).json()["items"]
    stamps = [
        *(view[name] for name in ("created_at", "visited_at", "published_at", "completed_at")),
        delivery["created_at"],
        delivery["payload"]["timestamp"],
        client.get("/_sandbox/requests", headers=auth()).json()["items"][0]["time"],
        client.get("/_sandbox/faults", headers=auth()).json()["items"][0]["created_at"],
        client.get("/_sandbox/inbox/demo").json()["items"][0]["received_at"],
    ]
    assert all(WIRE_TIME.match(stamp) for stamp in stamps), stamps


def test_pull_view_echoes_the_patient_as_sent(client: TestClient) -> None:
    patient = {"first_name": "Jeanne", "birth_order": "2", "dossier_interne": {"n": 1}}
    draft_id = create_draft(client, {"patient": patient})
    view = client.get(f"/api/interop/v1/drafts/{draft_id}", headers=auth()).json()
    assert view["patient"] == patient
