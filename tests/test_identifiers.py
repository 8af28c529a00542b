"""Identifier checks, cross-checked against python-stdnum on generated synthetic numbers."""

from __future__ import annotations

import random

import pytest
from stdnum.fr import nir as stdnum_nir

from app import identifiers as ids
from tests.helpers import SCENARIO_PRACTITIONERS, SPEC_PRACTITIONERS

DOCUMENT_NIRS = ("190095916511287", "291097501511477")


def generate_nirs(rng: random.Random, count: int, departments: tuple[str, ...]) -> list[str]:
    """Synthetic NIRs whose key comes from stdnum, so our code is checked against it."""
    numbers = []
    for _ in range(count):
        first13 = (
            rng.choice("12")
            + f"{rng.randrange(100):02d}"
            + f"{rng.randrange(1, 13):02d}"
            + rng.choice(departments)
            + f"{rng.randrange(1, 1000):03d}"
            + f"{rng.randrange(1, 1000):03d}"
        )
        numbers.append(first13 + stdnum_nir.calc_check_digits(first13))
    return numbers


CORSICA_NIRS = generate_nirs(random.Random(20240601), 40, ("2A", "2B"))
MAINLAND_NIRS = generate_nirs(random.Random(75015), 40, ("59", "75", "97", "99", "01"))


@pytest.mark.parametrize("nir", DOCUMENT_NIRS)
def test_is_valid_nir_document_examples(nir: str) -> None:
    assert ids.is_valid_nir(nir)
    assert stdnum_nir.is_valid(nir)


def test_nir_format_problem_document_url_example_has_14_digits() -> None:
    assert ids.nir_format_problem("11111111111111") == "it must be exactly 15 characters, got 14"


def test_generated_corsica_nirs_cover_both_departments() -> None:
    assert {nir[5:7] for nir in CORSICA_NIRS} == {"2A", "2B"}


@pytest.mark.parametrize("nir", CORSICA_NIRS + MAINLAND_NIRS)
def test_is_valid_nir_generated_agrees_with_stdnum(nir: str) -> None:
    assert ids.is_valid_nir(nir) and stdnum_nir.is_valid(nir)
    assert f"{ids.nir_key(nir[:13]):02d}" == stdnum_nir.calc_check_digits(nir[:13])
    wrong_key = f"{(int(nir[13:]) % 97) + 1:02d}"
    assert not ids.is_valid_nir(nir[:13] + wrong_key)
    assert not stdnum_nir.is_valid(nir[:13] + wrong_key)


@pytest.mark.parametrize("nir", CORSICA_NIRS[:10])
def test_is_valid_nir_lowercase_corsica_validated_as_uppercase(nir: str) -> None:
    lower = nir[:5] + nir[5:7].lower() + nir[7:]
    assert ids.normalize_nir(lower) == nir
    assert ids.nir_format_problem(lower) is None
    assert ids.is_valid_nir(lower) == stdnum_nir.is_valid(lower) is True


def test_is_valid_nir_random_strings_agree_with_stdnum() -> None:
    rng = random.Random(97)
    for _ in range(500):
        candidate = "".join(rng.choice("0123456789") for _ in range(15))
        if rng.random() < 0.2:
            candidate = candidate[:5] + rng.choice(("2A", "2B", "2C", "AB")) + candidate[7:]
        assert ids.is_valid_nir(candidate) == stdnum_nir.is_valid(candidate), candidate


def test_nir_key_corsica_replaces_letters() -> None:
    assert ids.nir_key("185022A412345") == 97 - int("1850219412345") % 97
    assert ids.nir_key("185022B412345") == 97 - int("1850218412345") % 97


@pytest.mark.parametrize("first13", ["123456789012", "12345X7890123", "185022C412345"])
def test_nir_key_rejects_malformed(first13: str) -> None:
    with pytest.raises(ValueError):
        ids.nir_key(first13)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1 90 09 59 165 112 87", "it must be 15 characters with no spaces, dots or dashes"),
        ("19009591651128", "it must be exactly 15 characters, got 14"),
        ("19O095916511287", "position 3 must be a digit"),
        ("190095916511 87", "position 13 must be a digit"),
        ("1900959C6511287", "position 8 must be a digit"),
        ("190092C16511287", "position 7 must be a digit (positions 6–7 may also be 2A or 2B)"),
        ("１90095916511287", "position 1 must be a digit"),
    ],
)
def test_nir_format_problem(value: str, expected: str) -> None:
    assert ids.nir_format_problem(value) == expected


@pytest.mark.parametrize(("digit", "ok"), [(d, d in "123478") for d in "0123456789"])
def test_nir_sex_digit_ok(digit: str, ok: bool) -> None:
    assert ids.nir_sex_digit_ok(digit + "90095916511287") is ok


@pytest.mark.parametrize(
    ("month", "ok"),
    [
        *[("00", False), ("01", True), ("12", True), ("13", False), ("19", False)],
        *[("20", True), ("42", True), ("43", False), ("49", False), ("50", True), ("99", True)],
    ],
)
def test_nir_month_ok(month: str, ok: bool) -> None:
    assert ids.nir_month_ok("190" + month + "5916511287") is ok


def test_nir_gender_and_birth_month() -> None:
    genders = [ids.nir_gender(digit + "90095916511287") for digit in "1234785"]
    assert genders == ["M", "F", "M", "F", "M", "F", None]
    assert ids.nir_birth_month("190095916511287") == 9
    assert ids.nir_birth_month("190305916511287") is None


def test_same_birth_place_corsica_before_1976() -> None:
    assert ids.same_birth_place("2A004", "2A004")
    assert ids.same_birth_place("20004", "2A004")
    assert ids.same_birth_place("20033", "2B033")
    assert not ids.same_birth_place("20004", "2A005")
    assert not ids.same_birth_place("59158", "59159")


@pytest.mark.parametrize("rpps", SPEC_PRACTITIONERS + SCENARIO_PRACTITIONERS)
def test_rpps_luhn_ok_fixture_practitioners(rpps: str) -> None:
    assert ids.rpps_luhn_ok(rpps)


def test_rpps_luhn_ok_document_examples() -> None:
    assert ids.rpps_luhn_ok("10002170750")
    assert ids.is_rpps("10000000000") and not ids.rpps_luhn_ok("10000000000")


@pytest.mark.parametrize("value", ["1111111111", "100021707500", "1000217075O", "１0002170750", ""])
def test_is_rpps_rejects(value: str) -> None:
    assert not ids.is_rpps(value)
    assert not ids.rpps_luhn_ok(value)


def test_luhn_ok_known_values() -> None:
    assert ids.luhn_ok("79927398713")
    assert not ids.luhn_ok("79927398710")


@pytest.mark.parametrize("value", ["59158", "75056", "2A004", "2B033", "97411", "99100"])
def test_is_insee_code_accepts(value: str) -> None:
    assert ids.is_insee_code(value)


@pytest.mark.parametrize("value", ["5915", "591580", "2C004", "2a004", "59158\n", "2A04", "５9158"])
def test_is_insee_code_rejects(value: str) -> None:
    assert not ids.is_insee_code(value)


@pytest.mark.parametrize("value", ["0666666666", "0123456789", "0262161234"])
def test_is_french_phone_format_accepts(value: str) -> None:
    assert ids.is_french_phone_format(value)


@pytest.mark.parametrize(
    "value", ["066666666", "06 66 66 66 66", "+33666666666", "0066666666", "06666666666"]
)
def test_is_french_phone_format_rejects(value: str) -> None:
    assert not ids.is_french_phone_format(value)


@pytest.mark.parametrize(
    ("phone", "region"),
    [
        ("0666666666", "metropolitan mobile"),
        ("0123456789", "metropolitan landline"),
        ("0262161234", "Réunion landline"),
        ("0692123456", "Réunion mobile"),
        ("0639012345", "Mayotte mobile"),
        ("0590201234", "Guadeloupe landline"),
        ("0594101234", "French Guiana landline"),
        ("0596301234", "Martinique landline"),
    ],
)
def test_french_phone_valid(phone: str, region: str) -> None:
    assert ids.french_phone_valid(phone), region


def test_french_phone_valid_unassigned_range() -> None:
    assert ids.is_french_phone_format("0700000000")
    assert not ids.french_phone_valid("0700000000")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0b7f3c1e-5a2d-4c8e-9f10-2a3b4c5d6e7f", True),
        ("0B7F3C1E-5A2D-4C8E-9F10-2A3B4C5D6E7F", True),
        ("0b7f3c1e5a2d4c8e9f102a3b4c5d6e7f", False),  # uuid.UUID reads it; not our text
        ("{0b7f3c1e-5a2d-4c8e-9f10-2a3b4c5d6e7f}", False),
        ("not-an-id", False),
        ("", False),
    ],
)
def test_is_uuid4_accepts_only_the_canonical_text(value: str, expected: bool) -> None:
    assert ids.is_uuid4(value) is expected
