"""The console line of a call: method, path, status, timing, and for a call with errors or
warnings each field with its code and a safe hint, never a value sent."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from app.callnotes import CallNotes
from app.errors import FieldIssue
from app.http.accesslog import HIDDEN_FIELD, MAX_LISTED, summary
from tests.helpers import AUTHOR, auth

URL = "/api/interop/v1/drafts"
# Distinctive synthetic values: none of them may reach the log, whatever the rule says.
NIR = "190095916511287"
BAD_NIR = "290017512345600"
LAST_NAME = "Zorglubovitch"
EMAIL = "quetzal.7731@example.test"
CONTEXT_REF = "DOSSIER-XQ-4471"


def _lines(caplog: pytest.LogCaptureFixture, start: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(start)]


def test_access_log_names_a_typo_with_its_hint(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="omnidoc_sandbox.access")
    body = {"patient_nir": NIR, "patient": {"last_name": LAST_NAME}, "context": {"r": CONTEXT_REF}}
    assert client.post(URL, json=body, headers=auth()).status_code == 200
    [line] = _lines(caplog, f"POST {URL} 200 ")
    assert line.endswith("| warnings: patient_nir unknown_field (did you mean patient.nir?)")
    assert [r.levelname for r in caplog.records if r.getMessage() == line] == ["WARNING"]


def test_access_log_is_free_of_the_values_sent(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = {
        "author_rpps": AUTHOR,
        "recipient_rpps": "10000000000",  # fails its Luhn check digit: a warning
        "patient": {
            "nir": BAD_NIR,  # its message quotes the key the NIR should have
            "last_name": LAST_NAME,
            "email": EMAIL.replace("@", "@@"),  # its message quotes the parser's complaint
            "birth_order": "3",  # its message quotes the value
            NIR: LAST_NAME,  # an unknown field named like a value
        },
        "context": {"ref": CONTEXT_REF},
    }
    response = client.post(URL, json=body, headers=auth())
    assert response.status_code == 422
    [line] = _lines(caplog, f"POST {URL} 422 ")
    assert "errors: patient.nir nir_checksum, patient.email email_invalid" in line
    assert f"patient.{HIDDEN_FIELD} unknown_field" in line
    assert "recipient_rpps rpps_luhn" in line and "patient.birth_order birth_order_string" in line
    for value in (NIR, BAD_NIR, BAD_NIR[:13], LAST_NAME, "quetzal", CONTEXT_REF):
        assert value not in caplog.text, value
    assert "should be" not in caplog.text  # no message, only codes


def test_access_log_names_a_problem_without_fields_by_its_code(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="omnidoc_sandbox.access")
    draft_id = "00000000-0000-4000-8000-000000000000"
    client.get(f"{URL}/{draft_id}", headers=auth())
    [line] = _lines(caplog, f"GET {URL}/{draft_id} 404 ")
    assert line.endswith("| errors: draft_not_found")


def test_access_log_line_of_a_clean_call_is_plain(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="omnidoc_sandbox.access")
    assert client.post(URL, json={"author_rpps": AUTHOR}, headers=auth()).status_code == 200
    [line] = _lines(caplog, f"POST {URL} 200 ")
    assert "|" not in line
    assert [r.levelname for r in caplog.records if r.getMessage() == line] == ["INFO"]


def test_summary_lists_at_most_max_listed_issues() -> None:
    notes = CallNotes(warnings=[FieldIssue(f"f{i}", "unknown_field", "m") for i in range(25)])
    said = summary(notes, 200, known={f"f{i}" for i in range(25)})
    assert said.count("unknown_field") == MAX_LISTED
    assert said.endswith(f", +{25 - MAX_LISTED} more")


def test_summary_leaves_out_the_errors_of_a_success() -> None:
    notes = CallNotes(errors=[FieldIssue("", "x", "m")], warnings=[FieldIssue("a", "w", "m")])
    assert summary(notes, 200, known={"a"}) == "warnings: a w"
    assert summary(notes, 409, known={"a"}) == "errors: x; warnings: a w"


@pytest.mark.parametrize(
    ("field", "shown"),
    [
        ("patient.nir", "patient.nir"),
        ("items.0.id", "items.0.id"),
        ("patient.0612345678", f"patient.{HIDDEN_FIELD}"),
        ("patient.Plixouille", f"patient.{HIDDEN_FIELD}"),
        ("notes_Dupont2dba", HIDDEN_FIELD),
        ("values.Dupont_Jeanne", f"values.{HIDDEN_FIELD}"),
        ("context.Dupont.nir", f"context.{HIDDEN_FIELD}"),
        ("x2024", HIDDEN_FIELD),
        ("Jeanne Dupuis", HIDDEN_FIELD),
        ("jeanne@example.test", HIDDEN_FIELD),
        ("a" * 200, HIDDEN_FIELD),
    ],
)
def test_summary_hides_field_names_that_could_be_values(field: str, shown: str) -> None:
    notes = CallNotes(warnings=[FieldIssue(field, "unknown_field", "m")])
    known = {"patient", "nir", "items", "id", "values", "context"}
    assert summary(notes, 200, known=known) == f"warnings: {shown} unknown_field"


def test_summary_never_prints_a_hint_of_another_field() -> None:
    notes = CallNotes(
        warnings=[FieldIssue("a", "unknown_field", "m")], hints={"b": "did you mean c?"}
    )
    assert summary(notes, 200, known={"a"}) == "warnings: a unknown_field"


@pytest.mark.parametrize(
    ("sent", "shown"),
    [("%0A200%20fake", "\\n200 fake"), ("%00", "\\x00"), ("%E2%80%A8", "\\u2028")],
)
def test_access_log_line_escapes_what_a_console_cannot_show(
    client: TestClient, caplog: pytest.LogCaptureFixture, sent: str, shown: str
) -> None:
    caplog.set_level(logging.INFO, logger="omnidoc_sandbox.access")
    response = client.get(f"{URL}/{sent}", headers=auth())
    assert response.status_code == 404
    [line] = _lines(caplog, f"GET {URL}/")
    assert line.startswith(f"GET {URL}/{shown} 404 ")
    assert "\n" not in line and "\x00" not in line and "\u2028" not in line


# Keys a client chose, shaped like identifiers (a dict keyed by patients' names or ids).
CLIENT_KEYS = ("notes_Dupont2dba", "Plixouille", "Dupont_Jeanne")


@pytest.mark.parametrize(
    ("method", "path", "body", "shown"),
    [
        ("POST", URL, {"notes_Dupont2dba": 1}, f"{HIDDEN_FIELD} unknown_field"),
        ("POST", URL, {"patient": {"Plixouille": 1}}, f"patient.{HIDDEN_FIELD} unknown_field"),
        (
            "POST",
            URL,
            {"patient": {"first_nme_Plixouille": 1}},
            f"patient.{HIDDEN_FIELD} unknown_field",
        ),
        (
            "POST",
            "/interop/drafts/new/lint",
            {"values": {"Dupont_Jeanne": 1}},
            f"values.{HIDDEN_FIELD}",
        ),
        ("POST", "/_sandbox/faults", {"Dupont_Jeanne": 1, "status": 503}, HIDDEN_FIELD),
        (
            "POST",
            "/_sandbox/drafts/00000000-0000-4000-8000-000000000000/publish",
            {"author_rpps": AUTHOR, "notes_Dupont2dba": 1},
            HIDDEN_FIELD,
        ),
        ("PUT", "/_sandbox/webhook", {"url": "http://127.0.0.1:9/", "Plixouille": 1}, HIDDEN_FIELD),
    ],
)
def test_access_log_never_names_a_key_the_client_chose(
    client: TestClient,
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    body: object,
    shown: str,
) -> None:
    caplog.set_level(logging.INFO, logger="omnidoc_sandbox.access")
    client.request(method, path, json=body, headers=auth())
    [line] = _lines(caplog, f"{method} {path} ")
    assert shown in line
    for key in CLIENT_KEYS:
        assert key not in caplog.text


def test_access_log_keeps_the_hint_of_an_unknown_key(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="omnidoc_sandbox.access")
    body = {"patient": {"first_nam": "Jeanne"}}
    assert client.post(URL, json=body, headers=auth()).status_code == 200
    [line] = _lines(caplog, f"POST {URL} 200 ")
    assert line.endswith(
        f"| warnings: patient.{HIDDEN_FIELD} unknown_field (did you mean patient.first_name?)"
    )
