"""The French the pages and the dashboard show: every code has a sentence, in correct French."""

from __future__ import annotations

import re

import pytest

from app import identifiers as ids
from app.drafts.validation import validate_draft
from app.errors import CATALOG, FieldIssue
from app.pages import errors_fr, labels_fr

# Contractions and elisions French never leaves undone ("à le" is "au", "que il" is "qu'il").
FORBIDDEN = re.compile(
    r"\b(?:à le|à les|de le|de les|que il|que elle|que on|si il|si ils|de un|de une"
    r"|(?:le|la|de|ne|que|je|me|se|ce) [aeiouéèêâîôû])\b",
    re.IGNORECASE,
)


def _mismatch_issues() -> list[FieldIssue]:
    """The coherence warnings the rules really raise for a NIR unlike its patient."""
    nir = "1850375056123"  # a man born in March 1985 in 75056...
    nir += f"{ids.nir_key(nir):02d}"
    patient = {
        "nir": nir,
        "nir_cert": nir,
        # ...for a woman born in October 1990 in 59158.
        "gender": "F",
        "birth_date": "1990-10-10",
        "birth_place": "59158",
    }
    report = validate_draft(
        {"patient": patient}, strict=False, is_known_practitioner=lambda _: True
    )
    return [i for i in report.warnings if i.code.endswith("_mismatch")]


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


def test_mismatch_sentences_are_whole_french_sentences() -> None:
    issues = _mismatch_issues()
    assert {i.code for i in issues} == {
        f"{kind}_{what}_mismatch"
        for kind in ("nir", "nir_cert")
        for what in ("gender", "birth_date", "birth_place")
    }
    said = {i.code: labels_fr.issue_message(i) for i in issues}
    assert said["nir_gender_mismatch"].startswith(
        "Le NIR de l'assuré ne correspond pas au sexe du patient"
    )
    assert said["nir_birth_place_mismatch"].startswith(
        "Le NIR de l'assuré ne correspond pas au lieu de naissance du patient"
    )
    assert said["nir_cert_birth_date_mismatch"] == (
        "Le NIR du patient ne correspond pas à sa date de naissance."
    )


def test_no_undone_contraction_in_any_french_message() -> None:
    dynamic = [labels_fr.issue_message(i) for i in _mismatch_issues()]
    dynamic += [
        labels_fr.issue_message(FieldIssue("patient_nir", "nir_format", ""), "12345"),
        labels_fr.issue_message(FieldIssue("patient_nir", "nir_checksum", ""), "185037505612300"),
        labels_fr.issue_message(FieldIssue("text", "too_long", "")),
        labels_fr.issue_message(FieldIssue("patient_regime", "digits_format", "")),
        labels_fr.issue_message(FieldIssue("patient_firstname", "unknown_parameter", "")),
        labels_fr.issue_message(FieldIssue("author_rpps", "unknown_parameter", "")),
        labels_fr.issue_message(
            FieldIssue("patient.nri", "unknown_field", "is not a field. Did you mean patient.nir?")
        ),
        labels_fr.issue_message(FieldIssue("x", "greater_than_equal", "English")),
    ]
    messages = labels_fr.catalogue() + dynamic
    assert len(messages) > 60
    bad = [m for m in messages if FORBIDDEN.search(m)]
    assert not bad, bad
    assert FORBIDDEN.search("ne correspond pas à le sexe"), "the check itself must catch it"


def test_unknown_field_keeps_its_hint_in_french() -> None:
    issue = FieldIssue("patient.nri", "unknown_field", "is not a field. Did you mean patient.nir?")
    assert labels_fr.issue_message(issue).endswith("Vouliez-vous dire patient.nir ?")
