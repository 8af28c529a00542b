"""The redirect_url page: the visit, the mock sign-in, the review and its corrections."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from app import formats
from tests.helpers import AUTHOR, KEY_B, RECIPIENT, assert_problem, auth, create_draft
from tests.page_client import OTHER_SITE, form_of, post_page, sign_in

PATIENT = {"first_name": "Jeanne", "last_name": "<script>alert(1)</script>"}


def view_of(client: TestClient, draft_id: str, key: str = "sandbox-key-a") -> dict[str, object]:
    response = client.get(f"/api/interop/v1/drafts/{draft_id}", headers=auth(key))
    assert response.status_code == 200, response.text
    view: dict[str, object] = response.json()
    return view


def test_draft_page_visit_locks_the_draft(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = client.get(f"/interop/drafts/{draft_id}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-status="draft"' in response.text
    assert "Brouillon" in response.text
    view = view_of(client, draft_id)
    assert view["status"] == "draft"
    assert view["visited_at"] is not None


def test_draft_page_second_visit_changes_nothing(client: TestClient) -> None:
    draft_id = create_draft(client)
    client.get(f"/interop/drafts/{draft_id}")
    first = view_of(client, draft_id)
    assert client.get(f"/interop/drafts/{draft_id}").status_code == 200
    second = view_of(client, draft_id)
    assert second["visited_at"] == first["visited_at"]
    assert second["status"] == "draft"


def test_draft_page_head_does_not_lock(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = client.head(f"/interop/drafts/{draft_id}")
    assert response.status_code == 200
    assert response.content == b""
    assert view_of(client, draft_id)["status"] == "temporary"


def test_draft_page_head_of_unknown_draft(client: TestClient) -> None:
    assert client.head(f"/interop/drafts/{uuid.uuid4()}").status_code == 404


def test_draft_page_of_any_key(client: TestClient) -> None:
    draft_id = create_draft(client, key=KEY_B)
    assert client.get(f"/interop/drafts/{draft_id}").status_code == 200
    assert view_of(client, draft_id, key=KEY_B)["status"] == "draft"


@pytest.mark.parametrize(
    "draft_id", ["3f1c5f0e-8d2a-4b7e-9c41-6a0d2e7b9f13", "not-a-uuid", "%3Cscript%3E"]
)
def test_draft_page_unknown_or_malformed_is_a_404_page(client: TestClient, draft_id: str) -> None:
    response = client.get(f"/interop/drafts/{draft_id}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Demande introuvable" in response.text
    assert response.headers["cache-control"] == "no-store"


def test_api_paths_keep_problem_json(client: TestClient) -> None:
    assert_problem(client.get("/api/interop/v1/nothing-here"), 404, "not_found")


def test_draft_page_asks_for_sign_in_first(client: TestClient) -> None:
    draft_id = create_draft(client, {"patient": PATIENT})
    text = client.get(f"/interop/drafts/{draft_id}").text
    assert "Se connecter" in text
    assert f'value="{AUTHOR}"' in text
    assert "Jeanne" not in text


def test_sign_in_sets_a_strict_httponly_cookie(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = post_page(client, f"/interop/drafts/{draft_id}/sign-in", {"rpps": AUTHOR})
    assert response.status_code == 303
    assert response.headers["location"] == f"/interop/drafts/{draft_id}?message=signed_in"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"omnidoc_sandbox_rpps={AUTHOR};")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/" in cookie


def test_sign_in_outside_the_directory_is_refused(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = post_page(client, f"/interop/drafts/{draft_id}/sign-in", {"rpps": "10000000000"})
    assert response.status_code == 422
    assert "Choisissez un praticien de l&#39;annuaire" in response.text
    assert "set-cookie" not in response.headers


def test_sign_in_from_another_site_is_refused(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = client.post(
        f"/interop/drafts/{draft_id}/sign-in", data={"rpps": AUTHOR}, headers=OTHER_SITE
    )
    assert response.status_code == 403
    assert "Requête refusée" in response.text
    assert "set-cookie" not in response.headers


def test_sign_out_forgets_the_practitioner(client: TestClient) -> None:
    draft_id = create_draft(client)
    sign_in(client, draft_id)
    path = f"/interop/drafts/{draft_id}"
    response = post_page(client, "/interop/sign-out", {"next": path})
    assert response.status_code == 303
    assert response.headers["location"] == path
    assert "Se connecter" in client.get(path).text


def test_sign_out_goes_back_only_to_a_sandbox_page(client: TestClient) -> None:
    response = post_page(client, "/interop/sign-out", {"next": "https://attacker.example/"})
    assert response.headers["location"] == "/interop/drafts/new"


def test_draft_page_review_escapes_user_data_and_sets_headers(client: TestClient) -> None:
    draft_id = create_draft(client, {"patient": PATIENT, "text": "<img src=x onerror=1>"})
    sign_in(client, draft_id)
    response = client.get(f"/interop/drafts/{draft_id}")
    assert "Jeanne" in response.text
    assert "<script>alert" not in response.text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in response.text
    assert "<img src=x" not in response.text
    assert "&lt;img src=x onerror=1&gt;</textarea>" in response.text
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_draft_page_review_shows_participants(client: TestClient) -> None:
    draft_id = create_draft(client, {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT})
    sign_in(client, draft_id, RECIPIENT)
    text = client.get(f"/interop/drafts/{draft_id}").text
    assert "Dr Camille Durand" in text
    assert "Dr Julien Morel (vous)" in text


def test_draft_page_review_shows_the_rules_warnings(client: TestClient) -> None:
    draft_id = create_draft(client, {"recipient_rpps": "10000000000"})
    sign_in(client, draft_id)
    text = client.get(f"/interop/drafts/{draft_id}").text
    assert "RPPS 10000000000 (hors annuaire)" in text
    assert "La clé de contrôle (11e chiffre) du RPPS est fausse." in text


def test_save_draft_updates_the_fields(client: TestClient) -> None:
    draft_id = create_draft(client, {"patient": {"first_name": "Jeanne", "birth_order": 1}})
    client.get(f"/interop/drafts/{draft_id}")
    sign_in(client, draft_id)
    form = form_of(view_of(client, draft_id), patient_last_name="Dupuis", text="a\r\nb")
    response = post_page(client, f"/interop/drafts/{draft_id}/save", form)
    assert response.status_code == 303
    assert response.headers["location"].endswith("?message=saved")
    view = view_of(client, draft_id)
    assert view["patient"] == {"first_name": "Jeanne", "last_name": "Dupuis", "birth_order": 1}
    assert view["text"] == "a\nb"
    assert view["status"] == "draft"


def test_save_draft_with_errors_saves_nothing(client: TestClient) -> None:
    draft_id = create_draft(client, {"patient": {"first_name": "Jeanne"}})
    client.get(f"/interop/drafts/{draft_id}")
    sign_in(client, draft_id)
    form = form_of(view_of(client, draft_id), patient_nir="11111111111111", patient_gender="X")
    response = post_page(client, f"/interop/drafts/{draft_id}/save", form)
    assert response.status_code == 422
    assert 'value="11111111111111"' in response.text
    assert "14 reçus" in response.text
    assert "Doit être M ou F." in response.text
    assert view_of(client, draft_id)["patient"] == {"first_name": "Jeanne"}


def test_save_draft_needs_a_sign_in(client: TestClient) -> None:
    draft_id = create_draft(client)
    client.get(f"/interop/drafts/{draft_id}")
    response = post_page(client, f"/interop/drafts/{draft_id}/save", {"text": "x"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/interop/drafts/{draft_id}"
    assert view_of(client, draft_id)["text"] is None


def test_save_draft_from_another_site_is_refused(client: TestClient) -> None:
    draft_id = create_draft(client)
    client.get(f"/interop/drafts/{draft_id}")
    sign_in(client, draft_id)
    response = client.post(
        f"/interop/drafts/{draft_id}/save", data={"text": "x"}, headers=OTHER_SITE
    )
    assert response.status_code == 403
    assert view_of(client, draft_id)["text"] is None


def test_save_unknown_draft_is_a_404_page(client: TestClient) -> None:
    response = post_page(client, f"/interop/drafts/{uuid.uuid4()}/save", {"text": "x"})
    assert response.status_code == 404
    assert "Demande introuvable" in response.text


# --- The landing follows the story (SPEC §4) ---------------------------------------------


def test_draft_page_status_answers_the_status(client: TestClient) -> None:
    draft_id = create_draft(client)
    client.get(f"/interop/drafts/{draft_id}")
    response = client.get(f"/interop/drafts/{draft_id}/status")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {"id": draft_id, "status": "draft"}
    # Already another status than `since`: answered at once, whatever the wait.
    moved = client.get(f"/interop/drafts/{draft_id}/status?since=temporary&wait=25")
    assert moved.json()["status"] == "draft"
    same = client.get(f"/interop/drafts/{draft_id}/status?since=draft&wait=0")
    assert same.json()["status"] == "draft"


def test_draft_page_status_never_visits(client: TestClient) -> None:
    draft_id = create_draft(client)
    assert client.get(f"/interop/drafts/{draft_id}/status").json()["status"] == "temporary"
    assert view_of(client, draft_id)["status"] == "temporary"


def test_draft_page_status_of_an_unknown_draft(client: TestClient) -> None:
    response = client.get(f"/interop/drafts/{uuid.uuid4()}/status")
    assert_problem(response, 404, "draft_not_found")
    response = client.get(f"/interop/drafts/{uuid.uuid4()}/status?wait=99")
    assert_problem(response, 422, "validation_failed")


def test_draft_pages_load_the_live_script(client: TestClient) -> None:
    draft_id = create_draft(client)
    text = client.get(f"/interop/drafts/{draft_id}").text
    assert '<script src="/static/draft-live.js" defer></script>' in text
    assert f'data-live="/interop/drafts/{draft_id}/status"' in text


def test_published_banner_never_above_a_finished_badge(client: TestClient) -> None:
    body = {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT}
    draft_id = create_draft(client, body)
    client.get(f"/interop/drafts/{draft_id}")
    sign_in(client, draft_id)
    for step in ("publish", "complete"):
        client.post(f"/_sandbox/drafts/{draft_id}/{step}", headers=auth(), json={})
    assert view_of(client, draft_id)["status"] == "completed"
    text = client.get(f"/interop/drafts/{draft_id}?message=published").text
    assert "Demande publiée" not in text
    assert "Terminée" in text
    fitting = client.get(f"/interop/drafts/{draft_id}?message=completed").text
    assert "Avis envoyé : la téléexpertise est terminée." in fitting


@pytest.mark.parametrize(
    ("step", "lead"),
    [
        (None, "Une demande de téléexpertise vous attend."),
        ("cancel", "Cette demande de téléexpertise a été annulée."),
        ("complete", "Cette téléexpertise est terminée"),
    ],
)
def test_sign_in_page_says_where_the_draft_is(
    client: TestClient, step: str | None, lead: str
) -> None:
    draft_id = create_draft(client, {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT})
    client.get(f"/interop/drafts/{draft_id}")
    if step == "complete":
        client.post(f"/_sandbox/drafts/{draft_id}/publish", headers=auth(), json={})
    if step:
        moved = client.post(f"/_sandbox/drafts/{draft_id}/{step}", headers=auth(), json={})
        assert moved.is_success, moved.text
    text = client.get(f"/interop/drafts/{draft_id}").text
    assert lead in text
    if step:
        assert "vous attend" not in text


def test_review_form_forgives_typed_phone_and_date(client: TestClient) -> None:
    draft_id = create_draft(client, {"patient": {"first_name": "Jeanne"}})
    client.get(f"/interop/drafts/{draft_id}")
    sign_in(client, draft_id)
    form = form_of(
        view_of(client, draft_id),
        patient_phone="06 12 34 56 78",
        patient_birth_date="10/09/1990",
    )
    response = post_page(client, f"/interop/drafts/{draft_id}/save", form)
    assert response.status_code == 303, response.text
    patient = view_of(client, draft_id)["patient"]
    assert patient == {"first_name": "Jeanne", "phone": "0612345678", "birth_date": "1990-09-10"}


def test_draft_page_shows_paris_time_and_names_the_zone_once(client: TestClient) -> None:
    draft_id = create_draft(client, {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT})
    client.get(f"/interop/drafts/{draft_id}")
    sign_in(client, draft_id)
    client.post(f"/_sandbox/drafts/{draft_id}/publish", headers=auth(), json={})
    view = view_of(client, draft_id)
    text = client.get(f"/interop/drafts/{draft_id}").text
    for at in (view["created_at"], view["published_at"]):
        assert isinstance(at, str)
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
        assert formats.fr_datetime(when) in text  # Paris's clock, not UTC's
    assert text.count("heure de Paris") == 1
    assert "UTC" not in text
