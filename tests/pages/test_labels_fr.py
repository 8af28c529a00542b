"""The pages' French: labels of statuses and fields, each rule's issue in a French sentence."""

from __future__ import annotations

import re

from app import identifiers as ids
from app.drafts.validation import validate_draft
from app.errors import FieldIssue
from app.models import DraftStatus
from app.pages import errors_fr, labels_fr
from app.pages.url_method import PARAMETERS

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


def test_status_labels_name_every_draft_status() -> None:
    assert set(labels_fr.STATUS_LABELS) == {status.value for status in DraftStatus}
    assert labels_fr.STATUS_LABELS["completed"] == "Terminée"


def test_field_labels_name_every_url_method_parameter_once() -> None:
    names = [spec.name for _, specs in labels_fr.SECTIONS for spec in specs]
    assert sorted(names) == sorted(PARAMETERS)
    assert labels_fr.FIELD_LABELS["patient_birth_date"] == "Date de naissance"


def test_issue_message_of_a_fixed_code() -> None:
    issue = FieldIssue("patient.gender", "gender_invalid", "Must be M or F.")
    assert labels_fr.issue_message(issue) == "Doit être M ou F."


def test_issue_message_of_a_wrong_nir_key_gives_the_expected_key() -> None:
    body = "1850375056123"
    wrong = f"{(ids.nir_key(body) + 1) % 97:02d}"
    said = labels_fr.issue_message(FieldIssue("patient.nir", "nir_checksum", ""), body + wrong)
    assert said == f"La clé du NIR (positions 14–15) est fausse : {ids.nir_key(body):02d} attendu."


def test_issue_message_of_a_short_nir_counts_what_came() -> None:
    said = labels_fr.issue_message(FieldIssue("patient.nir", "nir_format", ""), "12345")
    assert said.endswith(", 5 reçus.")


def test_issue_message_of_a_long_text_gives_its_limit() -> None:
    said = labels_fr.issue_message(FieldIssue("patient.address", "too_long", ""))
    assert said == "Trop long : 500 caractères au plus."


def test_issue_message_of_digits_gives_their_count() -> None:
    said = labels_fr.issue_message(FieldIssue("patient_caisse", "digits_format", ""))
    assert said == "Doit comporter exactement 3 chiffres."


def test_issue_message_of_an_unknown_parameter_suggests_the_close_one() -> None:
    said = labels_fr.issue_message(FieldIssue("patient_firstname", "unknown_parameter", ""))
    assert said == "Paramètre inconnu de la méthode URL. Vouliez-vous dire patient_first_name ?"


def test_issue_message_of_an_unknown_parameter_far_from_any_suggests_nothing() -> None:
    said = labels_fr.issue_message(FieldIssue("zzz", "unknown_parameter", ""))
    assert said == "Paramètre inconnu de la méthode URL."


def test_issue_message_of_author_rpps_says_the_author_is_signed_in() -> None:
    said = labels_fr.issue_message(FieldIssue("author_rpps", "unknown_parameter", ""))
    assert "praticien connecté" in said


def test_issue_message_of_an_unlisted_code_is_the_general_sentence() -> None:
    said = labels_fr.issue_message(FieldIssue("x", "no_such_code", "English"))
    assert said == errors_fr.OTHER


def test_catalogue_holds_the_fixed_and_shared_sentences() -> None:
    catalogue = labels_fr.catalogue()
    assert "Doit être M ou F." in catalogue
    assert errors_fr.OTHER in catalogue
    assert set(errors_fr.PROBLEMS.values()) <= set(catalogue)
