"""One rule per field of a draft body (README, "Validation"), each adding its issues to a
Collector; app.drafts.validation walks a body and calls them."""

from __future__ import annotations

import json
import re
from datetime import date

from email_validator import EmailNotValidError, validate_email

from app import identifiers as ids
from app.errors import FieldIssue

CONTEXT_MAX_BYTES = 16 * 1024
EMAIL_MAX_CHARS = 254
# The only warnings OMNIDOC_STRICT turns into errors (README, "Validation").
STRICT_CODES = frozenset({"unknown_field", "rpps_luhn", "birth_order_string"})

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BIRTH_ORDER_STRINGS = frozenset("123456789")
# NUL and lone surrogates parse from JSON but cannot be stored as UTF-8 or PostgreSQL text.
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")
STRICT_SUFFIX = " (an error because strict mode is on)"
_WHY = {
    "nir": "normal if nir is a parent's number (the insured person), otherwise check both.",
    "nir_cert": "nir_cert is the patient's own number, so this is likely an error.",
}


class Collector:
    """Accumulates issues and applies strict mode in the one place that knows about it."""

    def __init__(self, *, strict: bool) -> None:
        self.strict = strict
        self.errors: list[FieldIssue] = []
        self.warnings: list[FieldIssue] = []
        self.hints: dict[str, str] = {}

    def error(self, field: str, code: str, text: str) -> None:
        """Record an error; `text` follows the field name to make the message."""
        self.errors.append(FieldIssue(field, code, f"{field} {text}" if field else text))

    def warn(self, field: str, code: str, text: str) -> None:
        """Record a warning, or an error for the STRICT_CODES when strict mode is on."""
        if self.strict and code in STRICT_CODES:
            self.error(field, code, f"{text}{STRICT_SUFFIX}")
        else:
            self.warnings.append(FieldIssue(field, code, f"{field} {text}" if field else text))


def check_text(c: Collector, field: str, value: object, limit: int) -> None:
    if not isinstance(value, str):
        c.error(field, "not_a_string", "must be a string.")
    elif len(value) > limit:
        c.error(field, "too_long", f"must be at most {limit} characters, got {len(value)}.")
    elif _UNSTORABLE_RE.search(value):
        c.error(field, "invalid_character", "contains a NUL or a lone surrogate.")


def check_nir(c: Collector, field: str, value: object) -> str | None:
    """Check a NIR; return it with Corsica uppercased when well formed, for coherence checks."""
    problem = ids.nir_format_problem(value) if isinstance(value, str) else "it must be a string"
    if problem is not None or not isinstance(value, str):
        c.error(field, "nir_format", f"is not a valid NIR: {problem}.")
        return None
    nir = ids.normalize_nir(value)
    if nir != value:
        c.warn(field, "nir_lowercase_corsica", "positions 6–7 must be uppercase 2A/2B.")
    if not ids.nir_checksum_ok(nir):
        c.error(
            field,
            "nir_checksum",
            f"key (positions 14–15) should be {ids.nir_key(nir[:13]):02d} for the first 13 "
            "characters: 97 − (first 13 digits mod 97), with 2A→19 and 2B→18.",
        )
    if not ids.nir_sex_digit_ok(nir):
        c.warn(field, "nir_sex_digit", "position 1 should be 1, 2, 3, 4, 7 or 8.")
    if not ids.nir_month_ok(nir):
        c.warn(field, "nir_month", "month (positions 4–5) should be 01–12, 20–42 or 50–99.")
    return nir


def check_gender(c: Collector, field: str, value: object) -> str | None:
    if value in ("M", "F"):
        return str(value)
    c.error(field, "gender_invalid", 'must be "M" or "F".')
    return None


def check_birth_date(c: Collector, field: str, value: object, today: date) -> date | None:
    parsed: date | None = None
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None:
        c.error(field, "birth_date_format", "must be a real date written YYYY-MM-DD.")
    elif parsed > today:
        c.error(field, "birth_date_future", "is in the future.")
        return None
    return parsed


def check_birth_place(c: Collector, field: str, value: object) -> str | None:
    if isinstance(value, str) and ids.is_insee_code(value):
        return value
    c.error(field, "insee_format", "must be an INSEE code: 5 digits, or 2A/2B then 3 digits.")
    return None


def check_birth_order(c: Collector, field: str, value: object, *, from_url: bool) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 9:
        return
    if isinstance(value, str) and value in _BIRTH_ORDER_STRINGS:
        if not from_url:
            c.warn(field, "birth_order_string", f"should be the integer {value}, not a string.")
        return
    c.error(field, "birth_order_invalid", "must be an integer from 1 to 9.")


def check_digits(c: Collector, field: str, value: object, length: int) -> None:
    if not (isinstance(value, str) and ids.is_ascii_digits(value, length)):
        c.error(field, "digits_format", f"must be a string of exactly {length} digits.")


def check_phone(c: Collector, field: str, value: object) -> None:
    if not (isinstance(value, str) and ids.is_french_phone_format(value)):
        c.error(field, "phone_format", "must be 10 digits starting with 0, without separators.")
    elif not ids.french_phone_valid(value):
        c.warn(field, "phone_not_valid", "is not a valid number in France or overseas regions.")


def check_email(c: Collector, field: str, value: object) -> None:
    if not isinstance(value, str):
        c.error(field, "email_invalid", "must be a string.")
    elif len(value) > EMAIL_MAX_CHARS:
        c.error(field, "email_invalid", f"must be at most {EMAIL_MAX_CHARS} characters.")
    else:
        try:
            # test_environment admits the reserved `.test` domain vendors use in synthetic data.
            validate_email(value, check_deliverability=False, test_environment=True)
        except EmailNotValidError as exc:
            c.error(field, "email_invalid", f"is not a valid address: {exc}")


def check_rpps(c: Collector, field: str, value: object) -> str | None:
    if not (isinstance(value, str) and ids.is_rpps(value)):
        c.error(field, "rpps_format", "must be a string of 11 digits (without the leading 8).")
        return None
    if not ids.rpps_luhn_ok(value):
        c.warn(field, "rpps_luhn", "fails its Luhn check digit (position 11).")
    return value


def check_context(c: Collector, value: object) -> None:
    if not isinstance(value, dict):
        c.error("context", "context_not_object", "must be a JSON object.")
        return
    try:
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    except UnicodeEncodeError:
        c.error("context", "invalid_character", "contains a lone UTF-16 surrogate.")
        return
    if size > CONTEXT_MAX_BYTES:
        limit = f"at most {CONTEXT_MAX_BYTES} bytes as compact UTF-8 JSON, got {size}."
        c.error("context", "context_too_large", f"must be {limit}")


def check_coherence(
    c: Collector, field: str, nir: str, gender: str | None, born: date | None, place: str | None
) -> None:
    """Compare a NIR with the patient's data; nir may be a parent's, nir_cert is the patient's."""
    kind = field.removeprefix("patient.")
    found: dict[str, str] = {}
    implied = ids.nir_gender(nir)
    if gender is not None and implied is not None and implied != gender:
        found["gender"] = f"position 1 implies {implied}, unlike patient.gender"
    if born is not None:
        parts = ["year (positions 2–3)"] if int(nir[1:3]) != born.year % 100 else []
        if ids.nir_birth_month(nir) not in (None, born.month):
            parts.append("month (positions 4–5)")
        if parts:
            found["birth_date"] = f"birth {' and '.join(parts)} differs from patient.birth_date"
    if place is not None and not ids.same_birth_place(ids.nir_birth_place(nir), place):
        found["birth_place"] = "positions 6–10 differ from patient.birth_place"
    for what, detail in found.items():
        c.warn(field, f"{kind}_{what}_mismatch", f"{detail}: {_WHY[kind]}")
