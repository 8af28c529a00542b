"""The error classes: each carries its code, status, title and explanation; the catalogue,
the /errors/<code> pages and every problem body come from them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.errors import CATALOG, ApiError, FieldIssue, InjectedFault
from app.http.problems import problem_body
from app.schemas import Problem


def test_catalogue_is_every_error_class() -> None:
    classes = [cls for cls in CATALOG.values()]
    assert len({cls.code for cls in classes}) == len(classes) == len(CATALOG)
    assert {"validation_failed", "draft_locked", "injected_fault", "not_found"} <= set(CATALOG)
    for code, cls in CATALOG.items():
        assert issubclass(cls, ApiError) and cls.code == code
        assert 400 <= cls.status <= 599 and cls.title and cls.explanation


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_error_page_for_every_code(client: TestClient, code: str) -> None:
    page = client.get(f"/errors/{code}")
    assert page.status_code == 200
    assert CATALOG[code].title in page.text


def test_error_page_for_an_unknown_code(client: TestClient) -> None:
    assert client.get("/errors/nope").json()["code"] == "not_found"


@pytest.mark.parametrize("code", sorted(set(CATALOG) - {"injected_fault"}))
def test_problem_body_is_a_problem(code: str) -> None:
    error = CATALOG[code]()
    error.errors = (FieldIssue("patient.nir", "nir_checksum", "…"),)
    body = problem_body(error)
    assert Problem.model_validate(body).model_dump(exclude_none=True) == body
    assert body["type"] == f"/errors/{code}"


def test_injected_fault_takes_the_rules_status() -> None:
    error = InjectedFault(429)
    assert (error.status, error.headers) == (429, {"Retry-After": "1"})
    assert InjectedFault(500).headers == {}
