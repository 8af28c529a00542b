"""The review form forgives what a doctor types; the API's rules stay strict."""

from __future__ import annotations

import pytest

from app.drafts.validation import validate_draft
from app.pages import review


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("06 12 34 56 78", "0612345678"),
        ("06.12.34.56.78", "0612345678"),
        ("06-12-34-56-78", "0612345678"),
        ("+33 6 12 34 56 78", "0612345678"),
        ("0612345678", "0612345678"),
        ("06 12 34", "06 12 34"),  # not a phone number: left for the rules to judge
    ],
)
def test_phone_as_typed(typed: str, stored: str) -> None:
    assert review.normalise_typed({"patient_phone": typed})["patient_phone"] == stored


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("10/09/1990", "1990-09-10"),
        ("1/9/1990", "1990-09-01"),
        ("10.09.1990", "1990-09-10"),
        (" 10/09/1990 ", "1990-09-10"),
        ("1990-09-10", "1990-09-10"),
        ("31/02/1990", "1990-02-31"),  # normalised, then refused by the rules
        ("septembre 1990", "septembre 1990"),
    ],
)
def test_birth_date_as_typed(typed: str, stored: str) -> None:
    assert review.normalise_typed({"patient_birth_date": typed})["patient_birth_date"] == stored


def test_lint_form_judges_the_normalised_values() -> None:
    values, lint = review.lint_form(
        {"patient_phone": "06 12 34 56 78", "patient_birth_date": "10/09/1990"},
        is_known_practitioner=lambda _: True,
    )
    assert values["patient_phone"] == "0612345678"
    assert values["patient_birth_date"] == "1990-09-10"
    assert lint.ok
    _, impossible = review.lint_form(
        {"patient_birth_date": "31/02/1990"}, is_known_practitioner=lambda _: True
    )
    assert not impossible.ok


def test_the_api_stays_strict() -> None:
    report = validate_draft(
        {"patient": {"phone": "06 12 34 56 78", "birth_date": "10/09/1990"}},
        strict=False,
        is_known_practitioner=lambda _: True,
    )
    assert {i.code for i in report.errors} == {"phone_format", "birth_date_format"}
