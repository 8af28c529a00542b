"""POST/GET /api/interop/v1/drafts through the in-process app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.helpers import AUTHOR, KEY_B, assert_problem, auth, create_draft, wait_ready

DOC_CURL_BODY = {
    "author_rpps": "1111111111",
    "patient": {"first_name": "Jeanne", "last_name": "Dupuis"},
    "context": {"id": "1234"},
}
URL = "/api/interop/v1/drafts"


def test_create_draft_returns_exactly_id_and_redirect_url(client: TestClient) -> None:
    body = {**DOC_CURL_BODY, "author_rpps": AUTHOR}
    response = client.post(URL, json=body, headers=auth())
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"id", "redirect_url"}
    assert data["redirect_url"] == f"http://testserver/interop/drafts/{data['id']}"
    assert "Omnidoc-Sandbox-Warnings" not in response.headers


def test_create_draft_with_trailing_slash_does_not_redirect(client: TestClient) -> None:
    response = client.post(URL + "/", json={}, headers=auth(), follow_redirects=False)
    assert response.status_code == 200


def test_create_draft_empty_object_is_valid(client: TestClient) -> None:
    assert client.post(URL, json={}, headers=auth()).status_code == 200


def test_create_draft_document_example_as_printed_is_rejected(client: TestClient) -> None:
    response = client.post(URL, json=DOC_CURL_BODY, headers=auth())
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert problem["type"] == "/errors/validation_failed"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("author_rpps", "rpps_format")]


def test_create_draft_unknown_author(client: TestClient) -> None:
    response = client.post(URL, json={"author_rpps": "10000000008"}, headers=auth())
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "unknown_author_rpps"


def test_create_draft_unknown_author_names_rpps_of_the_directory(client: TestClient) -> None:
    response = client.post(URL, json={"author_rpps": "10000000008"}, headers=auth())
    [error] = assert_problem(response, 422, "validation_failed")["errors"]
    assert error["code"] == "unknown_author_rpps"
    assert "e.g. 10002170750, 10001234565, 10002345675." in error["message"]


def test_create_draft_reports_every_error_at_once(client: TestClient) -> None:
    body = {
        "author_rpps": "123",
        "recipient_rpps": "abc",
        "patient": {
            "nir": "11111111111111",
            "gender": "X",
            "birth_date": "1994-02-30",
            "birth_place": "7501",
            "regime": "1",
            "phone": "066666666",
            "email": "not-an-email",
        },
        "context": [1, 2],
    }
    response = client.post(URL, json=body, headers=auth())
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {
        "author_rpps",
        "recipient_rpps",
        "patient.nir",
        "patient.gender",
        "patient.birth_date",
        "patient.birth_place",
        "patient.regime",
        "patient.phone",
        "patient.email",
        "context",
    }


@pytest.mark.parametrize(
    ("patient", "field", "code"),
    [
        ({"nir": "190095916511288"}, "patient.nir", "nir_checksum"),
        ({"nir_cert": "2910975015114"}, "patient.nir_cert", "nir_format"),
        ({"gender": "f"}, "patient.gender", "gender_invalid"),
        ({"birth_date": "2999-01-01"}, "patient.birth_date", "birth_date_future"),
        ({"birth_order": 0}, "patient.birth_order", "birth_order_invalid"),
        ({"centre": "12a4"}, "patient.centre", "digits_format"),
        ({"first_name": "x" * 101}, "patient.first_name", "too_long"),
        ({"address": 12}, "patient.address", "not_a_string"),
    ],
)
def test_create_draft_field_errors(
    client: TestClient, patient: dict[str, object], field: str, code: str
) -> None:
    response = client.post(URL, json={"patient": patient}, headers=auth())
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]


def test_create_draft_valid_patient_from_the_document(client: TestClient) -> None:
    patient = {
        "first_name": "Pierre",
        "last_name": "Dupont",
        "birth_name": "Martin",
        "birth_place": "59158",
        "nir": "190095916511287",
        "nir_cert": "291097501511477",
        "gender": "F",
        "birth_date": "1990-03-12",
        "birth_order": 1,
        "regime": "01",
        "centre": "0000",
        "caisse": "751",
        "gestion": "10",
        "address": "Appartement 1\n72546 referinum sur sarthe",
        "phone": "0612345678",
        "email": "louis.dupont@example.org",
    }
    response = client.post(URL, json={"patient": patient, "recipient_rpps": AUTHOR}, headers=auth())
    assert response.status_code == 200, response.text
    view = client.get(f"{URL}/{response.json()['id']}", headers=auth()).json()
    assert view["patient"] == patient


def test_create_draft_warnings_travel_in_header(client: TestClient) -> None:
    body = {"recipient_rpps": "10000000000", "patient": {"firstname": "Jeanne"}, "extra": 1}
    response = client.post(URL, json=body, headers=auth())
    assert response.status_code == 200
    assert set(response.json()) == {"id", "redirect_url"}
    warnings = json.loads(response.headers["Omnidoc-Sandbox-Warnings"])
    pairs = {(w["field"], w["code"]) for w in warnings}
    assert ("recipient_rpps", "rpps_luhn") in pairs
    assert ("recipient_rpps", "unknown_recipient_rpps") in pairs
    assert ("patient.firstname", "unknown_field") in pairs
    assert ("extra", "unknown_field") in pairs


def test_create_draft_many_unknown_fields_cut_the_header_not_the_journal(
    client: TestClient,
) -> None:
    body = {f"unknown_{i:03d}": i for i in range(300)}
    response = client.post(URL, json=body, headers=auth())
    assert response.status_code == 200
    header = response.headers["Omnidoc-Sandbox-Warnings"]
    assert len(header) <= 4096
    warnings = json.loads(header)
    assert warnings[0] == {"field": "unknown_000", "code": "unknown_field"}
    assert warnings[-1] == {"code": "truncated"}
    assert all(w["field"] for w in warnings[:-1])  # each named, none folded
    entry = client.get("/_sandbox/requests", headers=auth()).json()["items"][0]
    assert [w["field"] for w in entry["warnings"]] == list(body)
    assert entry["warnings"][-1]["message"] == "unknown_299 is not an Omnidoc field."


def test_create_draft_strict_mode_turns_warnings_into_errors(
    tmp_path: Path, database_url: str | None
) -> None:
    settings = Settings(data_dir=tmp_path / "d", database_url=database_url, strict=True)
    with TestClient(create_app(settings)) as strict_client:
        wait_ready(strict_client)
        body = {"recipient_rpps": "10000000000", "extra": 1, "patient": {"birth_order": "1"}}
        response = strict_client.post(URL, json=body, headers=auth())
    assert response.status_code == 422
    codes = {(e["field"], e["code"]) for e in response.json()["errors"]}
    assert codes == {
        ("recipient_rpps", "rpps_luhn"),
        ("extra", "unknown_field"),
        ("patient.birth_order", "birth_order_string"),
    }


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer nope"}, {"Authorization": ""}],
)
def test_create_draft_requires_a_known_key(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post(URL, json={}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"] == "unauthorized"


def test_create_draft_malformed_json(client: TestClient) -> None:
    response = client.post(URL, content=b'{"patient": ', headers=auth())
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"text"', b"42", b"null"])
def test_create_draft_body_not_an_object(client: TestClient, raw: bytes) -> None:
    response = client.post(URL, content=raw, headers={**auth(), "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "",
        "code": "not_an_object",
        "message": response.json()["errors"][0]["message"],
    }


def test_create_draft_body_too_large(client: TestClient) -> None:
    raw = json.dumps({"text": "x" * (1024 * 1024)}).encode()
    response = client.post(URL, content=raw, headers=auth())
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


def test_create_draft_context_too_large(client: TestClient) -> None:
    response = client.post(URL, json={"context": {"blob": "x" * 17000}}, headers=auth())
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "context_too_large"


def test_create_draft_wrong_content_type(client: TestClient) -> None:
    response = client.post(URL, content=b"a=b", headers={**auth(), "Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_create_draft_nan_is_not_json(client: TestClient) -> None:
    response = client.post(URL, content=b'{"context": {"x": NaN}}', headers=auth())
    assert response.status_code == 400


def test_get_draft_shows_stored_fields_and_context_verbatim(client: TestClient) -> None:
    context = {"id": "1234", "nested": {"list": [1, 2.5, None, True], "é": "ü"}}
    draft_id = create_draft(client, {"author_rpps": AUTHOR, "text": "Bonjour", "context": context})
    view = client.get(f"{URL}/{draft_id}", headers=auth()).json()
    assert view["status"] == "temporary"
    assert view["context"] == context
    assert list(view["context"]["nested"]) == ["list", "é"]
    assert view["author_rpps"] == AUTHOR
    assert view["text"] == "Bonjour"
    assert view["created_at"].endswith("Z")
    assert view["visited_at"] is None


def test_get_draft_of_another_key_is_not_found(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = client.get(f"{URL}/{draft_id}", headers=auth(KEY_B))
    assert response.status_code == 404
    assert response.json()["code"] == "draft_not_found"


@pytest.mark.parametrize("draft_id", ["nope", "00000000-0000-4000-8000-000000000000", "1" * 500])
def test_get_draft_unknown_or_malformed_id(client: TestClient, draft_id: str) -> None:
    response = client.get(f"{URL}/{draft_id}", headers=auth())
    assert response.status_code == 404
    assert response.json()["code"] == "draft_not_found"


def test_get_draft_requires_auth(client: TestClient) -> None:
    assert client.get(f"{URL}/{create_draft(client)}").status_code == 401


@pytest.mark.parametrize("depth", [63, 65, 900])
def test_create_draft_nesting_depth_is_limited(client: TestClient, depth: int) -> None:
    raw = b'{"context": {"a": ' + b"[" * (depth - 2) + b"]" * (depth - 2) + b"}}"
    response = client.post(URL, content=raw, headers=auth())
    if depth <= 64:
        assert response.status_code == 200
        view = client.get(f"{URL}/{response.json()['id']}", headers=auth())
        assert view.status_code == 200
    else:
        assert response.status_code == 422
        assert response.json()["errors"][0]["code"] == "too_deep"


def test_create_draft_brackets_inside_strings_are_not_nesting(client: TestClient) -> None:
    # More brackets than the depth cap, all in a string: counted, then walked, and fine.
    raw = json.dumps({"context": {"a": "[{" * 100}}).encode()
    assert client.post(URL, content=raw, headers=auth()).status_code == 200


def test_create_draft_body_too_large_without_content_length(client: TestClient) -> None:
    """Chunked, so no early Content-Length check: the limit holds while reading."""
    raw = json.dumps({"text": "x" * (1024 * 1024)}).encode()
    chunks = (raw[i : i + 65536] for i in range(0, len(raw), 65536))
    response = client.post(URL, content=chunks, headers=auth())
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


def test_create_draft_rejected_still_reports_warnings(client: TestClient) -> None:
    body = {"author_rpps": "123", "recipient_rpps": "10000000000"}
    response = client.post(URL, json=body, headers=auth())
    assert response.status_code == 422
    warnings = json.loads(response.headers["Omnidoc-Sandbox-Warnings"])
    assert {"field": "recipient_rpps", "code": "rpps_luhn"} in warnings
