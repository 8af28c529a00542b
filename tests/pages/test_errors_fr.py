"""The French the pages and the dashboard show: every code has a sentence, in correct French."""

from __future__ import annotations

import pytest

from app.errors import CATALOG, FieldIssue
from app.pages import errors_fr, labels_fr


def test_every_problem_code_has_french() -> None:
    missing = sorted(set(CATALOG) - set(errors_fr.PROBLEMS))
    assert not missing, f"codes with no French explanation: {missing}"
    assert not set(errors_fr.PROBLEMS) - set(CATALOG), "French for a code that does not exist"


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_dashboard_issue_of_a_problem_is_french(code: str) -> None:
    # What the journal keeps of a problem with no field errors: its code and English detail.
    english = CATALOG[code]().detail if code != "injected_fault" else "Injected: status 503."
    said = labels_fr.issue_message(FieldIssue("", code, english))
    assert said == errors_fr.PROBLEMS[code]
    assert said != english
