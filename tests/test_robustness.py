"""Arbitrary JSON never crashes the drafts endpoint: 200 or a 4xx problem, never a 500."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.drafts.validation import PATIENT_FIELDS, validate_draft
from tests.helpers import auth

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_json: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
_patient = st.dictionaries(st.sampled_from(PATIENT_FIELDS) | st.text(max_size=8), _json)
_bodies = _json | st.fixed_dictionaries(
    {},
    optional={
        "patient": _patient | _json,
        "author_rpps": st.from_regex(r"[0-9]{11}", fullmatch=True) | _json,
        "recipient_rpps": st.from_regex(r"[0-9]{11}", fullmatch=True) | _json,
        "text": _json,
        "context": _json,
    },
)


@given(body=_bodies)
@settings(max_examples=300, deadline=None)
def test_validate_draft_never_raises(body: Any) -> None:
    report = validate_draft(body, strict=False, is_known_practitioner=lambda _: True)
    assert all(issue.code and issue.message for issue in report.errors + report.warnings)


@given(body=_bodies)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_create_draft_answers_every_body(client: TestClient, body: Any) -> None:
    response = client.post("/api/interop/v1/drafts", json=body, headers=auth())
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        view = client.get(f"/api/interop/v1/drafts/{response.json()['id']}", headers=auth())
        assert view.status_code == 200
    else:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"]
