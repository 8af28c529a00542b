"""The URL method's routes: the page, its JSON lint, its form, and the static files."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from app.db import read_session
from app.models import Draft
from app.pages import url_method as prefill
from tests.helpers import assert_problem
from tests.omnidoc_examples import FULL_EXAMPLE, PARTIAL_EXAMPLE, fragment

LINT = "/interop/drafts/new/lint"
SAME_ORIGIN = {"Origin": "http://testserver"}
OTHER_SITE = {"Origin": "https://attacker.example"}


def stored_drafts(client: TestClient) -> list[Draft]:
    engine = client.app.state.runtime.engine  # type: ignore[attr-defined]
    with read_session(engine) as session:
        return list(session.exec(select(Draft)).all())


def test_new_draft_page_serves_the_form(client: TestClient) -> None:
    response = client.get("/interop/drafts/new")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for name in prefill.PARAMETERS:
        assert f'name="{name}"' in response.text
    assert '<script src="/static/prefill.js"></script>' in response.text


def test_new_draft_page_says_what_leaves_the_history_and_what_does_not(
    client: TestClient,
) -> None:
    text = " ".join(client.get("/interop/drafts/new").text.split())
    assert "de l'historique du navigateur" not in text  # the old, wider promise
    assert "retirées de la barre d'adresse et de l'historique de cet onglet" in text
    assert "a déjà enregistré le lien complet dans son propre historique de navigation" in text
    assert "aucune page ne peut l'effacer" in text
    assert "fenêtre de navigation privée" in text and "préférez l'API" in text


def test_new_draft_page_has_no_inline_script_and_a_strict_csp(client: TestClient) -> None:
    response = client.get("/interop/drafts/new")
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", response.text) == []
    assert " style=" not in response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "default-src 'none'" in csp
    assert response.headers["cache-control"] == "no-store"


def test_new_draft_page_head(client: TestClient) -> None:
    response = client.head("/interop/drafts/new")
    assert response.status_code == 200
    assert response.content == b""


def test_lint_prefill_partial_example(client: TestClient) -> None:
    response = client.post(LINT, json={"fragment": fragment(PARTIAL_EXAMPLE)})
    assert response.status_code == 200
    result = response.json()
    assert result["ok"] is False
    assert result["errors"] == 1
    nir = next(p for p in result["parameters"] if p["name"] == "patient_nir")
    assert nir["verdict"] == "error"
    assert nir["field"] == "patient.nir"
    assert nir["issues"][0]["code"] == "nir_format"
    assert "14 reçus" in nir["issues"][0]["message_fr"]
    assert result["values"]["patient_first_name"] == "Pierre"


def test_lint_prefill_full_example_decodes_values(client: TestClient) -> None:
    result = client.post(LINT, json={"fragment": "#" + fragment(FULL_EXAMPLE)}).json()
    assert result["values"]["text"] == "Le patient présente des signes de"
    assert result["values"]["patient_address"].count("\n") == 4
    flagged = {p["name"] for p in result["parameters"] if p["verdict"] == "error"}
    assert flagged == {"patient_nir", "patient_nir_cert", "patient_phone"}


def test_lint_prefill_unknown_parameter_in_french(client: TestClient) -> None:
    result = client.post(LINT, json={"fragment": "patient_firstname=Pierre"}).json()
    (param,) = result["parameters"]
    assert param["verdict"] == "unknown"
    assert param["field"] is None
    assert param["issues"][0]["message_fr"].endswith("Vouliez-vous dire patient_first_name ?")


def test_lint_prefill_values_ignore_empty_fields(client: TestClient) -> None:
    values = dict.fromkeys(prefill.PARAMETERS, "") | {"patient_phone": "0612345678"}
    result = client.post(LINT, json={"values": values}).json()
    assert result["ok"] is True
    assert [p["name"] for p in result["parameters"]] == ["patient_phone"]


def test_lint_prefill_same_origin_is_accepted(client: TestClient) -> None:
    response = client.post(LINT, json={"fragment": ""}, headers=SAME_ORIGIN)
    assert response.status_code == 200
    assert response.json()["parameters"] == []


def test_lint_prefill_cross_origin_is_refused(client: TestClient) -> None:
    response = client.post(LINT, json={"fragment": ""}, headers=OTHER_SITE)
    assert_problem(response, 403, "cross_origin_request")


def test_lint_prefill_cross_site_fetch_without_origin_is_refused(client: TestClient) -> None:
    response = client.post(LINT, json={"fragment": ""}, headers={"Sec-Fetch-Site": "cross-site"})
    assert_problem(response, 403, "cross_origin_request")


@pytest.mark.parametrize("body", [{"fragment": 3}, {"values": {"a": 1}}, {"other": "x"}, []])
def test_lint_prefill_bad_body(client: TestClient, body: object) -> None:
    assert_problem(client.post(LINT, json=body), 422, "validation_failed")


def test_lint_prefill_malformed_json(client: TestClient) -> None:
    response = client.post(LINT, content=b"{", headers={"Content-Type": "application/json"})
    assert_problem(response, 400, "invalid_json")


def test_lint_prefill_is_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][LINT]["post"]
    assert operation["tags"] == ["Sandbox-defined"]
    assert "403" in operation["responses"]


def test_create_draft_from_form(client: TestClient) -> None:
    form = {"patient_first_name": "Pierre", "patient_birth_order": "1", "patient_nir": ""}
    response = client.post(
        "/interop/drafts/new", data=form, headers=SAME_ORIGIN, follow_redirects=False
    )
    assert response.status_code == 303
    (draft,) = stored_drafts(client)
    assert response.headers["location"] == f"/interop/drafts/{draft.id}?message=created"
    assert (draft.status, draft.owner_key, draft.context_json) == ("draft", None, None)
    assert draft.patient == {"first_name": "Pierre", "birth_order": 1}


def test_create_draft_from_form_with_errors_keeps_the_values(client: TestClient) -> None:
    form = {"patient_nir": "11111111111111", "patient_phone": "066666666", "text": "<b>x</b>"}
    response = client.post("/interop/drafts/new", data=form, headers=SAME_ORIGIN)
    assert response.status_code == 422
    assert 'value="11111111111111"' in response.text
    assert 'value="066666666"' in response.text
    assert "&lt;b&gt;x&lt;/b&gt;</textarea>" in response.text
    assert "2 champs à corriger" in response.text
    assert "Doit comporter 10 chiffres" in response.text
    assert stored_drafts(client) == []


def test_create_draft_from_form_cross_origin_is_refused(client: TestClient) -> None:
    response = client.post("/interop/drafts/new", data={"text": "x"}, headers=OTHER_SITE)
    assert response.status_code == 403
    assert "Requête refusée" in response.text
    assert stored_drafts(client) == []


def test_create_draft_from_form_too_large(client: TestClient) -> None:
    big = "x" * (client.app.state.runtime.settings.max_body_bytes + 1)  # type: ignore[attr-defined]
    response = client.post("/interop/drafts/new", data={"text": big}, headers=SAME_ORIGIN)
    assert response.status_code == 413
    assert "trop volumineux" in response.text


@pytest.mark.parametrize(
    ("path", "media_type"),
    [("/static/omnidoc.css", "text/css"), ("/static/prefill.js", "text/javascript")],
)
def test_static_files_are_served(client: TestClient, path: str, media_type: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)


def test_static_unknown_file_is_a_problem(client: TestClient) -> None:
    assert_problem(client.get("/static/nothing.js"), 404, "not_found")


@given(values=st.dictionaries(st.sampled_from(list(prefill.PARAMETERS)), st.text(max_size=40)))
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_create_draft_from_form_answers_every_form(
    client: TestClient, values: dict[str, str]
) -> None:
    response = client.post(
        "/interop/drafts/new", data=values, headers=SAME_ORIGIN, follow_redirects=False
    )
    assert response.status_code in (303, 422), response.text
