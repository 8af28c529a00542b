"""Identifiers: the French health ones (NIR, RPPS, INSEE code, phone) and the sandbox's
own UUID4 ids (drafts, files, deliveries): pure checks, no I/O."""

from __future__ import annotations

import re
import uuid

NIR_LENGTH = 15
RPPS_LENGTH = 11

# Corsica's departments are letters in the NIR; the key treats them as numbers.
_CORSICA_AS_DIGITS = {"2A": "19", "2B": "18"}
_NIR_SEX_DIGITS = frozenset("123478")
_NIR_MALE_DIGITS = frozenset("137")
_NIR_FEMALE_DIGITS = frozenset("248")
_ASCII_DIGITS = frozenset("0123456789")
_INSEE_RE = re.compile(r"(?:2[AB][0-9]{3}|[0-9]{5})")
_PHONE_RE = re.compile(r"0[1-9][0-9]{8}")
# Regions whose numbers are dialled as 10 digits with a leading 0 from France.
FRENCH_PHONE_REGIONS = ("FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF")


def is_ascii_digits(value: str, length: int | None = None) -> bool:
    """True for ASCII digits only: str.isdigit() would also accept '²' or Arabic-Indic digits."""
    if length is not None and len(value) != length:
        return False
    return value.isascii() and value.isdigit()  # the ASCII characters isdigit() accepts: 0-9


def normalize_nir(nir: str) -> str:
    """Uppercase a lowercase Corsican 2a/2b (positions 6–7), as stdnum does, leaving the rest."""
    if nir[5:7] in ("2a", "2b"):
        return nir[:5] + nir[5:7].upper() + nir[7:]
    return nir


def nir_format_problem(nir: str) -> str | None:
    """Why a NIR is not well formed (without echoing it), or None; lowercase 2a/2b is accepted."""
    if len(nir) != NIR_LENGTH:
        stripped = re.sub(r"[\s.\-]", "", nir)
        if len(stripped) == NIR_LENGTH:
            return "it must be 15 characters with no spaces, dots or dashes"
        return f"it must be exactly 15 characters, got {len(nir)}"
    nir = normalize_nir(nir)
    for index, char in enumerate(nir):
        if char in _ASCII_DIGITS or (index in (5, 6) and nir[5:7] in _CORSICA_AS_DIGITS):
            continue
        if index in (5, 6):
            return f"position {index + 1} must be a digit (positions 6–7 may also be 2A or 2B)"
        return f"position {index + 1} must be a digit"
    return None


def nir_key(first13: str) -> int:
    """The NIR key: 97 − (first 13 digits mod 97), with 2A→19 and 2B→18 as in stdnum.fr.nir."""
    first13 = normalize_nir(first13)
    if len(first13) != 13:
        raise ValueError("a NIR key is computed over exactly 13 characters")
    department = first13[5:7]
    digits = first13[:5] + _CORSICA_AS_DIGITS.get(department, department) + first13[7:]
    if not is_ascii_digits(digits):
        raise ValueError("a NIR body is 13 digits, positions 6–7 may be 2A or 2B")
    return 97 - int(digits) % 97


def nir_checksum_ok(nir: str) -> bool:
    """True when a well-formed NIR's last two digits are its key."""
    return int(nir[13:]) == nir_key(nir[:13])


def is_valid_nir(nir: str) -> bool:
    """Format and key, as stdnum.fr.nir.is_valid but without accepting separators."""
    return nir_format_problem(nir) is None and nir_checksum_ok(nir)


def nir_sex_digit_ok(nir: str) -> bool:
    """True for the sex digits actually issued: 1/2, 3/4 (foreign-born), 7/8 (temporary)."""
    return nir[:1] in _NIR_SEX_DIGITS


def nir_month_ok(nir: str) -> bool:
    """True for a birth month (01–12) or the ranges used when it is unknown (20–42, 50–99)."""
    month = int(nir[3:5])
    return 1 <= month <= 12 or 20 <= month <= 42 or month >= 50


def nir_gender(nir: str) -> str | None:
    """The gender a NIR's sex digit implies ("M"/"F"), or None when it implies none."""
    if nir[:1] in _NIR_MALE_DIGITS:
        return "M"
    if nir[:1] in _NIR_FEMALE_DIGITS:
        return "F"
    return None


def nir_birth_month(nir: str) -> int | None:
    """The birth month in a NIR, or None when it holds one of the 'unknown month' codes."""
    month = int(nir[3:5])
    return month if 1 <= month <= 12 else None


def nir_birth_place(nir: str) -> str:
    """Positions 6–10 of a NIR: department and commune, comparable with an INSEE code."""
    return normalize_nir(nir)[5:10]


def same_birth_place(nir_place: str, insee: str) -> bool:
    """Compare NIR and INSEE places; people born in Corsica before 1976 keep department 20."""
    if nir_place == insee:
        return True
    return nir_place[:2] == "20" and insee[:2] in _CORSICA_AS_DIGITS and nir_place[2:] == insee[2:]


def is_rpps(value: str) -> bool:
    """True for 11 ASCII digits, the shape of an RPPS number without its '8' prefix."""
    return is_ascii_digits(value, RPPS_LENGTH)


def luhn_ok(digits: str) -> bool:
    """The Luhn check over ASCII digits, rightmost digit being the check digit."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def rpps_luhn_ok(rpps: str) -> bool:
    """True when an 11-digit RPPS passes Luhn (some official test numbers do not)."""
    return is_rpps(rpps) and luhn_ok(rpps)


def is_insee_code(value: str) -> bool:
    """True for an INSEE commune code: 5 digits, or 2A/2B then 3 digits for Corsica."""
    return _INSEE_RE.fullmatch(value) is not None


def is_french_phone_format(value: str) -> bool:
    """True for the national 10-digit form 0X XX XX XX XX, written without separators."""
    return _PHONE_RE.fullmatch(value) is not None


def french_phone_valid(phone: str) -> bool:
    """True when libphonenumber knows the number in France or an overseas region dialled alike."""
    import phonenumbers  # deferred: only a body with a phone number needs libphonenumber

    for region in FRENCH_PHONE_REGIONS:
        try:
            number = phonenumbers.parse(phone, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number_for_region(number, region):
            return True
    return False


def is_uuid4(value: str) -> bool:
    """True for a UUID in its canonical text (either case): the shape of every id we issue."""
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False
