"""The redirect_url page: GET visits (temporary → draft), HEAD does not, 404 is a page."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from tests.conftest import KEY_B, auth, create_draft

PATIENT = {"first_name": "Jeanne", "last_name": "<script>alert(1)</script>"}


def status_of(client: TestClient, draft_id: str, key: str = "sandbox-key-a") -> str:
    view = client.get(f"/api/interop/v1/drafts/{draft_id}", headers=auth(key)).json()
    status: str = view["status"]
    return status


def test_draft_page_visit_locks_the_draft(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = client.get(f"/interop/drafts/{draft_id}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-status="draft"' in response.text
    assert "Brouillon" in response.text
    view = client.get(f"/api/interop/v1/drafts/{draft_id}", headers=auth()).json()
    assert view["status"] == "draft"
    assert view["visited_at"] is not None


def test_draft_page_second_visit_changes_nothing(client: TestClient) -> None:
    draft_id = create_draft(client)
    client.get(f"/interop/drafts/{draft_id}")
    first = client.get(f"/api/interop/v1/drafts/{draft_id}", headers=auth()).json()
    assert client.get(f"/interop/drafts/{draft_id}").status_code == 200
    second = client.get(f"/api/interop/v1/drafts/{draft_id}", headers=auth()).json()
    assert second["visited_at"] == first["visited_at"]
    assert second["status"] == "draft"


def test_draft_page_head_does_not_lock(client: TestClient) -> None:
    draft_id = create_draft(client)
    response = client.head(f"/interop/drafts/{draft_id}")
    assert response.status_code == 200
    assert response.content == b""
    assert status_of(client, draft_id) == "temporary"


def test_draft_page_head_of_unknown_draft(client: TestClient) -> None:
    assert client.head(f"/interop/drafts/{uuid.uuid4()}").status_code == 404


def test_draft_page_of_any_key(client: TestClient) -> None:
    draft_id = create_draft(client, key=KEY_B)
    assert client.get(f"/interop/drafts/{draft_id}").status_code == 200
    assert status_of(client, draft_id, key=KEY_B) == "draft"


@pytest.mark.parametrize("draft_id", [str(uuid.uuid4()), "not-a-uuid", "%3Cscript%3E"])
def test_draft_page_unknown_or_malformed_is_a_404_page(client: TestClient, draft_id: str) -> None:
    response = client.get(f"/interop/drafts/{draft_id}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Demande introuvable" in response.text
    assert response.headers["cache-control"] == "no-store"


def test_api_paths_keep_problem_json(client: TestClient) -> None:
    response = client.get("/api/interop/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_draft_page_escapes_user_data_and_sets_headers(client: TestClient) -> None:
    draft_id = create_draft(client, {"patient": PATIENT, "text": "<img src=x onerror=1>"})
    client.post(
        f"/api/interop/v1/drafts/{draft_id}/files/",
        files={"file": ("<i>scan<i>.png", b"\x89PNG\r\n\x1a\n", "image/png")},
        headers=auth(),
    )
    response = client.get(f"/interop/drafts/{draft_id}")
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<img src=x" not in response.text
    assert "&lt;i&gt;scan&lt;i&gt;.png" in response.text
    assert "Jeanne" in response.text
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_draft_page_lists_files(client: TestClient) -> None:
    draft_id = create_draft(client)
    client.post(
        f"/api/interop/v1/drafts/{draft_id}/files/",
        files=[("file", ("a.png", b"abc", "image/png")), ("file", ("b.pdf", b"%PDF", "x/y"))],
        headers=auth(),
    )
    text = client.get(f"/interop/drafts/{draft_id}").text
    assert "a.png" in text
    assert "b.pdf" in text
    assert "3 octets" in text
