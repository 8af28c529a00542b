"""The field rules (README, "Validation"): each passes and fails, all at once, strict or not."""

from __future__ import annotations

import json
from datetime import date

import pytest

from app import identifiers as ids
from app.drafts.field_rules import CONTEXT_MAX_BYTES
from app.drafts.validation import (
    PATIENT_FIELDS,
    TOP_LEVEL_FIELDS,
    ValidationReport,
    validate_draft,
)
from app.errors import FieldIssue

TODAY = date(2024, 6, 1)
KNOWN_RPPS = frozenset({"10002170750", "10001234565", "10000000000"})
STRICT_CODES = {"unknown_field", "rpps_luhn", "birth_order_string"}


def check(
    body: object, *, strict: bool = False, birth_order_from_url: bool = False
) -> ValidationReport:
    return validate_draft(
        body,
        strict=strict,
        is_known_practitioner=KNOWN_RPPS.__contains__,
        today=TODAY,
        birth_order_from_url=birth_order_from_url,
    )


def pairs(issues: tuple[FieldIssue, ...]) -> set[tuple[str, str]]:
    return {(issue.field, issue.code) for issue in issues}


def make_nir(sex: str, born: str, place: str, order: str = "123") -> str:
    """A synthetic NIR with a correct key; born is YYMM, place is positions 6–10."""
    first13 = sex + born + place + order
    return first13 + f"{ids.nir_key(first13):02d}"


def full_patient() -> dict[str, object]:
    return {
        "first_name": "Pierre",
        "last_name": "Dupont",
        "birth_name": "Martin",
        "birth_place": "59165",
        "nir": "190095916511287",
        "nir_cert": "190095916511287",
        "gender": "M",
        "birth_date": "1990-09-12",
        "birth_order": 1,
        "regime": "01",
        "centre": "0000",
        "caisse": "751",
        "gestion": "10",
        "address": "Appartement 1\nrésidence des Duchmolles\n72546 Referinum sur Sarthe",
        "phone": "0666666666",
        "email": "louis.dupont@gmail.com",
    }


def test_validate_draft_constants() -> None:
    assert len(PATIENT_FIELDS) == 16
    assert PATIENT_FIELDS[:3] == ("first_name", "last_name", "birth_name")
    assert TOP_LEVEL_FIELDS == ("patient", "author_rpps", "recipient_rpps", "text", "context")
    assert CONTEXT_MAX_BYTES == 16384


def test_validate_draft_empty_body_is_valid() -> None:
    report = check({})
    assert report.ok and report.errors == () and report.warnings == ()


def test_validate_draft_full_body_is_clean() -> None:
    body = {
        "patient": full_patient(),
        "author_rpps": "10002170750",
        "recipient_rpps": "10001234565",
        "text": "Le patient présente des signes de …",
        "context": {"id": "1234"},
    }
    report = check(body, strict=True)
    assert report.errors == () and report.warnings == ()


@pytest.mark.parametrize("body", [[], "x", 1, None, True, [{"patient": {}}]])
def test_validate_draft_body_not_an_object(body: object) -> None:
    report = check(body)
    assert not report.ok
    assert report.errors == (FieldIssue("", "not_an_object", "The body must be a JSON object."),)


@pytest.mark.parametrize("patient", [[], "Jeanne", 3, False])
def test_validate_draft_patient_not_an_object(patient: object) -> None:
    assert pairs(check({"patient": patient}).errors) == {("patient", "not_an_object")}


def test_validate_draft_document_curl_example() -> None:
    body = {
        "author_rpps": "1111111111",
        "patient": {"first_name": "Jeanne", "last_name": "Dupuis"},
        "context": {"id": "1234"},
    }
    report = check(body)
    assert pairs(report.errors) == {("author_rpps", "rpps_format")}
    assert report.warnings == ()


def test_validate_draft_null_means_absent() -> None:
    body: dict[str, object] = {name: None for name in TOP_LEVEL_FIELDS}
    body["patient"] = {name: None for name in PATIENT_FIELDS}
    report = check(body, strict=True)
    assert report.errors == () and report.warnings == ()
    assert check({"patient": None, "context": None}).ok


def test_validate_draft_reports_every_error_at_once() -> None:
    body = {
        "patient": {
            "nir": "11111111111111",
            "gender": "X",
            "birth_date": "1990-02-30",
            "birth_place": "2C004",
            "regime": "1",
            "phone": "066666666",
            "email": "not-an-address",
            "first_name": 42,
        },
        "author_rpps": "1111111111",
        "recipient_rpps": 10002170750,
        "text": "x" * 20_001,
        "context": ["id", "1234"],
    }
    assert pairs(check(body).errors) == {
        ("patient.nir", "nir_format"),
        ("patient.gender", "gender_invalid"),
        ("patient.birth_date", "birth_date_format"),
        ("patient.birth_place", "insee_format"),
        ("patient.regime", "digits_format"),
        ("patient.phone", "phone_format"),
        ("patient.email", "email_invalid"),
        ("patient.first_name", "not_a_string"),
        ("author_rpps", "rpps_format"),
        ("recipient_rpps", "rpps_format"),
        ("text", "too_long"),
        ("context", "context_not_object"),
    }


def test_validate_draft_errors_follow_document_order() -> None:
    body = {"context": 1, "patient": {"email": "x", "first_name": 1}, "author_rpps": "1"}
    fields = [issue.field for issue in check(body).errors]
    assert fields == ["patient.first_name", "patient.email", "author_rpps", "context"]


@pytest.mark.parametrize("nir", ["190095916511287", "291097501511477"])
@pytest.mark.parametrize("name", ["nir", "nir_cert"])
def test_validate_draft_nir_document_examples(name: str, nir: str) -> None:
    report = check({"patient": {name: nir}})
    assert report.errors == () and report.warnings == ()


@pytest.mark.parametrize(
    "nir", ["11111111111111", "1 90 09 59 165 112 87", "19009591651128X", "", 190095916511287]
)
@pytest.mark.parametrize("name", ["nir", "nir_cert"])
def test_validate_draft_nir_format(name: str, nir: object) -> None:
    report = check({"patient": {name: nir}})
    assert pairs(report.errors) == {(f"patient.{name}", "nir_format")}
    assert report.warnings == ()


def test_validate_draft_nir_checksum_says_expected_key_without_echoing() -> None:
    report = check({"patient": {"nir": "190095916511288"}})
    assert pairs(report.errors) == {("patient.nir", "nir_checksum")}
    message = report.errors[0].message
    assert "should be 87" in message
    assert "190095916511288" not in message and "1900959165112" not in message


def test_validate_draft_nir_lowercase_corsica_warns_and_validates() -> None:
    nir = make_nir("1", "8502", "2A004")
    lower = nir.replace("2A", "2a")
    report = check({"patient": {"nir": lower}})
    assert report.errors == ()
    assert pairs(report.warnings) == {("patient.nir", "nir_lowercase_corsica")}
    bad_key = lower[:13] + f"{(int(lower[13:]) % 97) + 1:02d}"
    assert pairs(check({"patient": {"nir": bad_key}}).errors) == {("patient.nir", "nir_checksum")}


@pytest.mark.parametrize(
    ("nir", "code"),
    [
        (make_nir("5", "9009", "59165"), "nir_sex_digit"),
        (make_nir("0", "9009", "59165"), "nir_sex_digit"),
        (make_nir("1", "9000", "59165"), "nir_month"),
        (make_nir("1", "9015", "59165"), "nir_month"),
        (make_nir("1", "9045", "59165"), "nir_month"),
    ],
)
def test_validate_draft_nir_plausibility_warnings(nir: str, code: str) -> None:
    report = check({"patient": {"nir_cert": nir}}, strict=True)
    assert report.errors == ()
    assert pairs(report.warnings) == {("patient.nir_cert", code)}


@pytest.mark.parametrize("born", ["9020", "9042", "9050", "9099"])
def test_validate_draft_nir_unknown_month_codes_are_fine(born: str) -> None:
    report = check({"patient": {"nir": make_nir("1", born, "59165")}})
    assert report.errors == () and report.warnings == ()


@pytest.mark.parametrize("gender", ["M", "F"])
def test_validate_draft_gender_ok(gender: str) -> None:
    assert check({"patient": {"gender": gender}}).errors == ()


@pytest.mark.parametrize("gender", ["m", "f", "H", "X", "", 1, True])
def test_validate_draft_gender_invalid(gender: object) -> None:
    assert pairs(check({"patient": {"gender": gender}}).errors) == {
        ("patient.gender", "gender_invalid")
    }


@pytest.mark.parametrize("value", ["1990-03-12", "2024-02-29", "2024-06-01", "1900-01-01"])
def test_validate_draft_birth_date_ok(value: str) -> None:
    assert check({"patient": {"birth_date": value}}).errors == ()


@pytest.mark.parametrize(
    "value", ["1990-3-12", "12/03/1990", "19900312", "2023-02-29", "1990-13-01", "", 19900312]
)
def test_validate_draft_birth_date_format(value: object) -> None:
    assert pairs(check({"patient": {"birth_date": value}}).errors) == {
        ("patient.birth_date", "birth_date_format")
    }


def test_validate_draft_birth_date_future() -> None:
    assert pairs(check({"patient": {"birth_date": "2024-06-02"}}).errors) == {
        ("patient.birth_date", "birth_date_future")
    }


def test_validate_draft_birth_date_default_today() -> None:
    report = validate_draft(
        {"patient": {"birth_date": "2999-01-01"}}, strict=False, is_known_practitioner=bool
    )
    assert pairs(report.errors) == {("patient.birth_date", "birth_date_future")}


@pytest.mark.parametrize("value", ["59158", "2A004", "2B033", "97411"])
def test_validate_draft_birth_place_ok(value: str) -> None:
    assert check({"patient": {"birth_place": value}}).errors == ()


@pytest.mark.parametrize("value", ["5915", "2C004", "2a004", "59 158", 59158])
def test_validate_draft_birth_place_insee_format(value: object) -> None:
    assert pairs(check({"patient": {"birth_place": value}}).errors) == {
        ("patient.birth_place", "insee_format")
    }


@pytest.mark.parametrize("value", [1, 5, 9])
def test_validate_draft_birth_order_int_ok(value: int) -> None:
    report = check({"patient": {"birth_order": value}}, strict=True)
    assert report.errors == () and report.warnings == ()


@pytest.mark.parametrize("value", [True, False, 0, 10, -1, 1.0, "01", "10", "a", "", [1]])
def test_validate_draft_birth_order_invalid(value: object) -> None:
    report = check({"patient": {"birth_order": value}}, birth_order_from_url=True)
    assert pairs(report.errors) == {("patient.birth_order", "birth_order_invalid")}


def test_validate_draft_birth_order_string_warns() -> None:
    report = check({"patient": {"birth_order": "1"}})
    assert report.ok
    assert pairs(report.warnings) == {("patient.birth_order", "birth_order_string")}


def test_validate_draft_birth_order_string_strict() -> None:
    report = check({"patient": {"birth_order": "9"}}, strict=True)
    assert pairs(report.errors) == {("patient.birth_order", "birth_order_string")}
    assert "strict" in report.errors[0].message and report.warnings == ()


@pytest.mark.parametrize("strict", [False, True])
def test_validate_draft_birth_order_string_from_url(strict: bool) -> None:
    report = check({"patient": {"birth_order": "1"}}, strict=strict, birth_order_from_url=True)
    assert report.errors == () and report.warnings == ()


@pytest.mark.parametrize(("name", "length"), [("regime", 2), ("centre", 4), ("caisse", 3)])
def test_validate_draft_digits_format(name: str, length: int) -> None:
    assert check({"patient": {name: "1" * length}}).errors == ()
    for bad in ("1" * (length - 1), "1" * (length + 1), "A" * length, "１" * length, 1):
        assert pairs(check({"patient": {name: bad}}).errors) == {
            (f"patient.{name}", "digits_format")
        }


def test_validate_draft_gestion_digits_format() -> None:
    assert check({"patient": {"gestion": "10"}}).errors == ()
    assert pairs(check({"patient": {"gestion": 10}}).errors) == {
        ("patient.gestion", "digits_format")
    }


@pytest.mark.parametrize("phone", ["0666666666", "0262161234", "0639012345", "0590201234"])
def test_validate_draft_phone_ok_including_overseas(phone: str) -> None:
    report = check({"patient": {"phone": phone}})
    assert report.errors == () and report.warnings == ()


@pytest.mark.parametrize("phone", ["066666666", "06 66 66 66 66", "+33666666666", 666666666])
def test_validate_draft_phone_format(phone: object) -> None:
    assert pairs(check({"patient": {"phone": phone}}).errors) == {("patient.phone", "phone_format")}


def test_validate_draft_phone_not_valid_only_warns() -> None:
    report = check({"patient": {"phone": "0700000000"}}, strict=True)
    assert report.errors == ()
    assert pairs(report.warnings) == {("patient.phone", "phone_not_valid")}


@pytest.mark.parametrize("email", ["louis.dupont@gmail.com", "jeanne+te@example.fr"])
def test_validate_draft_email_ok(email: str) -> None:
    assert check({"patient": {"email": email}}).errors == ()


@pytest.mark.parametrize(
    "email",
    ["louis.dupont", "a@b", "a b@example.fr", "", 3, "a" * 64 + "@" + ("b" * 60 + ".") * 4 + "fr"],
)
def test_validate_draft_email_invalid(email: object) -> None:
    assert pairs(check({"patient": {"email": email}}).errors) == {
        ("patient.email", "email_invalid")
    }


def test_validate_draft_author_rpps_known() -> None:
    report = check({"author_rpps": "10002170750"}, strict=True)
    assert report.errors == () and report.warnings == ()


@pytest.mark.parametrize("rpps", ["1111111111", "100021707500", "8100021707", 10002170750, ""])
def test_validate_draft_author_rpps_format(rpps: object) -> None:
    assert pairs(check({"author_rpps": rpps}).errors) == {("author_rpps", "rpps_format")}


def test_validate_draft_author_rpps_unknown() -> None:
    report = check({"author_rpps": "10003456786"})
    assert pairs(report.errors) == {("author_rpps", "unknown_author_rpps")}


def test_validate_draft_author_rpps_unknown_names_directory_examples() -> None:
    report = validate_draft(
        {"author_rpps": "10003456786", "recipient_rpps": "10003456786"},
        strict=False,
        is_known_practitioner=lambda rpps: False,
        directory_examples=("10002170750", "10001234565"),
    )
    [error] = report.errors
    assert error.message.endswith("(OMNIDOC_FIXTURES), e.g. 10002170750, 10001234565.")
    assert {w.code: w.message for w in report.warnings}["unknown_recipient_rpps"].endswith(
        "e.g. 10002170750, 10001234565."
    )


def test_validate_draft_recipient_rpps_unknown_warns() -> None:
    report = check({"recipient_rpps": "10003456786"}, strict=True)
    assert report.errors == ()
    assert pairs(report.warnings) == {("recipient_rpps", "unknown_recipient_rpps")}


def test_validate_draft_recipient_rpps_format() -> None:
    report = check({"recipient_rpps": "1000000000A"})
    assert pairs(report.errors) == {("recipient_rpps", "rpps_format")}


@pytest.mark.parametrize("name", ["author_rpps", "recipient_rpps"])
def test_validate_draft_rpps_luhn_warns(name: str) -> None:
    report = check({name: "10000000000"})
    assert report.ok
    assert pairs(report.warnings) == {(name, "rpps_luhn")}


@pytest.mark.parametrize("name", ["author_rpps", "recipient_rpps"])
def test_validate_draft_rpps_luhn_strict(name: str) -> None:
    report = check({name: "10000000000"}, strict=True)
    assert pairs(report.errors) == {(name, "rpps_luhn")}
    assert report.warnings == ()


def test_validate_draft_unknown_author_with_bad_luhn_reports_both() -> None:
    report = check({"author_rpps": "10000000001"})
    assert pairs(report.errors) == {("author_rpps", "unknown_author_rpps")}
    assert pairs(report.warnings) == {("author_rpps", "rpps_luhn")}


@pytest.mark.parametrize(("name", "limit"), [("first_name", 100), ("birth_name", 100)])
def test_validate_draft_name_length(name: str, limit: int) -> None:
    assert check({"patient": {name: "é" * limit}}).errors == ()
    assert pairs(check({"patient": {name: "é" * (limit + 1)}}).errors) == {
        (f"patient.{name}", "too_long")
    }


def test_validate_draft_address_allows_newlines_up_to_500() -> None:
    assert check({"patient": {"address": "ligne\n" * 83 + "xx"}}).errors == ()
    assert pairs(check({"patient": {"address": "x" * 501}}).errors) == {
        ("patient.address", "too_long")
    }


def test_validate_draft_text_length() -> None:
    assert check({"text": "x" * 20_000}).errors == ()
    assert pairs(check({"text": "x" * 20_001}).errors) == {("text", "too_long")}


@pytest.mark.parametrize("value", [1, ["Dupont"], {"v": "Dupont"}, True])
def test_validate_draft_not_a_string(value: object) -> None:
    report = check({"patient": {"last_name": value}, "text": value})
    assert pairs(report.errors) == {("patient.last_name", "not_a_string"), ("text", "not_a_string")}


@pytest.mark.parametrize("value", ["Du\x00pont", "Du\ud800pont"])
def test_validate_draft_unstorable_characters(value: str) -> None:
    report = check({"patient": {"last_name": value}})
    assert pairs(report.errors) == {("patient.last_name", "invalid_character")}


@pytest.mark.parametrize("context", [[], "1234", 1234, True])
def test_validate_draft_context_not_object(context: object) -> None:
    assert pairs(check({"context": context}).errors) == {("context", "context_not_object")}


def test_validate_draft_context_size_limit_is_compact_utf8() -> None:
    overhead = len(json.dumps({"k": ""}, separators=(",", ":")))
    at_limit = {"k": "x" * (CONTEXT_MAX_BYTES - overhead)}
    assert check({"context": at_limit}).errors == ()
    two_byte = {"k": "é" * ((CONTEXT_MAX_BYTES - overhead) // 2 + 1)}
    assert pairs(check({"context": two_byte}).errors) == {("context", "context_too_large")}


def test_validate_draft_context_too_large() -> None:
    context = {"items": [{"id": str(i)} for i in range(2000)]}
    report = check({"context": context})
    assert pairs(report.errors) == {("context", "context_too_large")}


def test_validate_draft_context_lone_surrogate() -> None:
    report = check({"context": {"id": "\udc00"}})
    assert pairs(report.errors) == {("context", "invalid_character")}


def test_validate_draft_unknown_fields_warn() -> None:
    body = {"patient": {"firstname": "Pierre"}, "patient_nir": "x", "author": "10002170750"}
    report = check(body)
    assert report.ok
    assert pairs(report.warnings) == {
        ("patient.firstname", "unknown_field"),
        ("patient_nir", "unknown_field"),
        ("author", "unknown_field"),
    }
    hints = {issue.field: issue.message for issue in report.warnings}
    assert "Did you mean patient.first_name?" in hints["patient.firstname"]
    assert "Did you mean patient.nir?" in hints["patient_nir"]
    assert "Did you mean author_rpps?" in hints["author"]


def test_validate_draft_unknown_fields_strict() -> None:
    report = check({"patient": {"firstname": None}, "extra": 1}, strict=True)
    assert pairs(report.errors) == {
        ("patient.firstname", "unknown_field"),
        ("extra", "unknown_field"),
    }
    assert report.warnings == ()


def test_validate_draft_unknown_field_name_is_capped() -> None:
    report = check({"x" * 5000: 1})
    assert len(report.warnings[0].field) == 101


def test_validate_draft_strict_changes_only_three_codes() -> None:
    body = {
        "patient": {
            "nir": make_nir("1", "9009", "2A004").replace("2A", "2a"),
            "birth_order": "2",
            "phone": "0700000000",
            "gender": "F",
            "nicname": "x",
        },
        "recipient_rpps": "10000000001",
    }
    relaxed, strict = check(body), check(body, strict=True)
    moved = pairs(relaxed.warnings) - pairs(strict.warnings)
    assert {code for _, code in moved} == STRICT_CODES
    assert pairs(strict.errors) - pairs(relaxed.errors) == moved
    assert {code for _, code in pairs(strict.warnings)} == {
        "nir_lowercase_corsica",
        "nir_gender_mismatch",
        "phone_not_valid",
        "unknown_recipient_rpps",
    }


NIR_CASES = [("nir", "nir"), ("nir_cert", "nir_cert")]


@pytest.mark.parametrize(("name", "prefix"), NIR_CASES)
def test_validate_draft_nir_coherent(name: str, prefix: str) -> None:
    patient = {name: "291097501511477", "gender": "F", "birth_date": "1991-09-30"}
    patient["birth_place"] = "75015"
    report = check({"patient": patient})
    assert report.errors == () and report.warnings == ()


@pytest.mark.parametrize(("name", "prefix"), NIR_CASES)
def test_validate_draft_nir_gender_mismatch(name: str, prefix: str) -> None:
    report = check({"patient": {name: "291097501511477", "gender": "M"}})
    assert report.errors == ()
    assert pairs(report.warnings) == {(f"patient.{name}", f"{prefix}_gender_mismatch")}


@pytest.mark.parametrize(("name", "prefix"), NIR_CASES)
@pytest.mark.parametrize("birth_date", ["1992-09-30", "1991-10-01", "1981-09-01"])
def test_validate_draft_nir_birth_date_mismatch(name: str, prefix: str, birth_date: str) -> None:
    report = check({"patient": {name: "291097501511477", "birth_date": birth_date}})
    assert pairs(report.warnings) == {(f"patient.{name}", f"{prefix}_birth_date_mismatch")}


@pytest.mark.parametrize(("name", "prefix"), NIR_CASES)
def test_validate_draft_nir_birth_place_mismatch(name: str, prefix: str) -> None:
    report = check({"patient": {name: "291097501511477", "birth_place": "59158"}})
    assert pairs(report.warnings) == {(f"patient.{name}", f"{prefix}_birth_place_mismatch")}


def test_validate_draft_nir_coherence_messages_differ() -> None:
    patient = {"nir": "291097501511477", "nir_cert": "291097501511477", "gender": "M"}
    messages = {issue.code: issue.message for issue in check({"patient": patient}).warnings}
    assert "parent" in messages["nir_gender_mismatch"]
    assert "patient's own" in messages["nir_cert_gender_mismatch"]
    assert "likely an error" in messages["nir_cert_gender_mismatch"]
    assert all("291097501511477" not in message for message in messages.values())


def test_validate_draft_nir_parent_and_patient() -> None:
    patient = {
        "nir": "190095916511287",
        "nir_cert": make_nir("2", "1403", "75115"),
        "gender": "F",
        "birth_date": "2014-03-07",
        "birth_place": "75115",
    }
    report = check({"patient": patient})
    assert report.errors == ()
    assert pairs(report.warnings) == {
        ("patient.nir", "nir_gender_mismatch"),
        ("patient.nir", "nir_birth_date_mismatch"),
        ("patient.nir", "nir_birth_place_mismatch"),
    }


def test_validate_draft_nir_unknown_month_skips_month_check() -> None:
    patient = {"nir_cert": make_nir("1", "9030", "59165"), "birth_date": "1990-05-01"}
    assert check({"patient": patient}).warnings == ()


def test_validate_draft_nir_corsica_before_1976() -> None:
    patient = {"nir_cert": make_nir("1", "6005", "20004"), "birth_place": "2A004"}
    assert check({"patient": patient}).warnings == ()
    patient["nir_cert"] = make_nir("1", "8005", "2B033")
    patient["birth_place"] = "2A033"
    assert pairs(check({"patient": patient}).warnings) == {
        ("patient.nir_cert", "nir_cert_birth_place_mismatch")
    }


def test_validate_draft_coherence_needs_both_sides_well_formed() -> None:
    patient = {"nir": "29109750151147", "gender": "M", "birth_date": "1990-02-30"}
    report = check({"patient": patient})
    assert report.warnings == ()
    patient = {"nir": "291097501511477", "gender": "X", "birth_date": "2030-01-01"}
    assert check({"patient": patient}).warnings == ()


def test_validate_draft_messages_never_echo_patient_values() -> None:
    patient = full_patient()
    patient.update(nir="190095916511288", nir_cert="2910975O1511477", phone="0700000000")
    report = check({"patient": patient, "author_rpps": "12345678901"})
    for issue in report.errors + report.warnings:
        for value in ("190095916511288", "2910975O1511477", "0700000000", "12345678901"):
            assert value not in issue.message
