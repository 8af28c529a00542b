"""Helpers for the page tests: a browser's same-origin posts and the mock sign-in."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response

from app.pages.url_method import PARAMETERS
from tests.helpers import AUTHOR

SAME_ORIGIN = {"Origin": "http://testserver"}
OTHER_SITE = {"Origin": "https://attacker.example"}


def post_page(client: TestClient, path: str, data: dict[str, str] | None = None) -> Response:
    """A form post as the page's own form sends it; redirects not followed."""
    response: Response = client.post(
        path, data=data or {}, headers=SAME_ORIGIN, follow_redirects=False
    )
    return response


def sign_in(client: TestClient, draft_id: str, rpps: str = AUTHOR) -> None:
    response = post_page(client, f"/interop/drafts/{draft_id}/sign-in", {"rpps": rpps})
    assert response.status_code == 303, response.text


def form_of(view: dict[str, object], **changes: str) -> dict[str, str]:
    """The review form's fields as the page shows them for a pull view, with changes."""
    patient = view.get("patient") or {}
    assert isinstance(patient, dict)
    values = {}
    for name in PARAMETERS:
        if name.startswith("patient_"):
            value = patient.get(name.removeprefix("patient_"))
        else:
            value = view.get(name)
        values[name] = "" if value is None else str(value)
    return values | changes
