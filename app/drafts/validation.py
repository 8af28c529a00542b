"""The field rules (README, "Validation"), written once: a parsed body in, errors and
warnings out. app.schemas.DraftCreate documents the same fields for OpenAPI."""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from email_validator import EmailNotValidError, validate_email

from app import identifiers as ids
from app.errors import FieldIssue

PATIENT_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "birth_name",
    "birth_place",
    "nir",
    "nir_cert",
    "gender",
    "birth_date",
    "birth_order",
    "regime",
    "centre",
    "caisse",
    "gestion",
    "address",
    "phone",
    "email",
)
TOP_LEVEL_FIELDS: tuple[str, ...] = ("patient", "author_rpps", "recipient_rpps", "text", "context")
CONTEXT_MAX_BYTES = 16 * 1024
EMAIL_MAX_CHARS = 254
TEXT_MAX_CHARS = dict(first_name=100, last_name=100, birth_name=100, address=500, text=20_000)
DIGIT_FIELDS: dict[str, int] = {"regime": 2, "centre": 4, "caisse": 3, "gestion": 2}
# The only warnings OMNIDOC_STRICT turns into errors (README, "Validation").
STRICT_CODES = frozenset({"unknown_field", "rpps_luhn", "birth_order_string"})

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BIRTH_ORDER_STRINGS = frozenset("123456789")
# NUL and lone surrogates parse from JSON but cannot be stored as UTF-8 or PostgreSQL text.
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")
_MAX_FIELD_NAME = 100
# Only this many unknown fields get a "did you mean" hint: the fuzzy match is the costly part
# (a 1 MiB body holds ~100,000 keys); the others get the plain message.
_MAX_UNKNOWN_HINTED = 50
# Wire names to suggest for an unknown key, including URL-style names such as patient_nir.
_PATIENT_HINTS = {name: f"patient.{name}" for name in PATIENT_FIELDS}
_PATIENT_FIELD_NAMES = tuple(_PATIENT_HINTS.items())  # (name in the body, name in issues)
_TOP_HINTS = {name: name for name in TOP_LEVEL_FIELDS} | _PATIENT_HINTS
_DIRECTORY = "the sandbox knows the practitioners of its fixtures file (OMNIDOC_FIXTURES)"
_STRICT = " (an error because strict mode is on)"
_WHY = {
    "nir": "normal if nir is a parent's number (the insured person), otherwise check both.",
    "nir_cert": "nir_cert is the patient's own number, so this is likely an error.",
}


@dataclass(frozen=True)
class ValidationReport:
    """Every error and warning of a body, so a client can fix them all in one round trip."""

    errors: tuple[FieldIssue, ...]
    warnings: tuple[FieldIssue, ...]
    # field -> a hint that quotes no value sent ("did you mean patient.nir?"): safe to log.
    hints: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing blocks the draft; warnings never do."""
        return not self.errors


class _Collector:
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
            self.error(field, code, f"{text}{_STRICT}")
        else:
            self.warnings.append(FieldIssue(field, code, f"{field} {text}" if field else text))


def _text(c: _Collector, field: str, value: object, limit: int) -> None:
    if not isinstance(value, str):
        c.error(field, "not_a_string", "must be a string.")
    elif len(value) > limit:
        c.error(field, "too_long", f"must be at most {limit} characters, got {len(value)}.")
    elif _UNSTORABLE_RE.search(value):
        c.error(field, "invalid_character", "contains a NUL or a lone surrogate.")


def _nir(c: _Collector, field: str, value: object) -> str | None:
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


def _gender(c: _Collector, field: str, value: object) -> str | None:
    if value in ("M", "F"):
        return str(value)
    c.error(field, "gender_invalid", 'must be "M" or "F".')
    return None


def _birth_date(c: _Collector, field: str, value: object, today: date) -> date | None:
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


def _birth_place(c: _Collector, field: str, value: object) -> str | None:
    if isinstance(value, str) and ids.is_insee_code(value):
        return value
    c.error(field, "insee_format", "must be an INSEE code: 5 digits, or 2A/2B then 3 digits.")
    return None


def _birth_order(c: _Collector, field: str, value: object, *, from_url: bool) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 9:
        return
    if isinstance(value, str) and value in _BIRTH_ORDER_STRINGS:
        if not from_url:
            c.warn(field, "birth_order_string", f"should be the integer {value}, not a string.")
        return
    c.error(field, "birth_order_invalid", "must be an integer from 1 to 9.")


def _digits(c: _Collector, field: str, value: object, length: int) -> None:
    if not (isinstance(value, str) and ids.is_ascii_digits(value, length)):
        c.error(field, "digits_format", f"must be a string of exactly {length} digits.")


def _phone(c: _Collector, field: str, value: object) -> None:
    if not (isinstance(value, str) and ids.is_french_phone_format(value)):
        c.error(field, "phone_format", "must be 10 digits starting with 0, without separators.")
    elif not ids.french_phone_valid(value):
        c.warn(field, "phone_not_valid", "is not a valid number in France or overseas regions.")


def _email(c: _Collector, field: str, value: object) -> None:
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


def _rpps(c: _Collector, field: str, value: object) -> str | None:
    if not (isinstance(value, str) and ids.is_rpps(value)):
        c.error(field, "rpps_format", "must be a string of 11 digits (without the leading 8).")
        return None
    if not ids.rpps_luhn_ok(value):
        c.warn(field, "rpps_luhn", "fails its Luhn check digit (position 11).")
    return value


def _context(c: _Collector, value: object) -> None:
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


def _coherence(
    c: _Collector, field: str, nir: str, gender: str | None, born: date | None, place: str | None
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


def _shown(prefix: str, key: object) -> str:
    name = str(key)
    return prefix + (name if len(name) <= _MAX_FIELD_NAME else name[:_MAX_FIELD_NAME] + "…")


def _unknown(c: _Collector, prefix: str, key: object) -> None:
    """An unknown field, with a "did you mean" when a field's name is close to it."""
    hints = _PATIENT_HINTS if prefix else _TOP_HINTS
    guess = str(key).removeprefix("patient_").removeprefix("patient.")
    close = difflib.get_close_matches(guess, list(hints), n=1, cutoff=0.7)
    shown = _shown(prefix, key)
    if not close:
        c.warn(shown, "unknown_field", "is not an Omnidoc field.")
        return
    c.hints[shown] = f"did you mean {hints[close[0]]}?"
    c.warn(shown, "unknown_field", f"is not an Omnidoc field. Did you mean {hints[close[0]]}?")


def _unknowns(c: _Collector, prefix: str, keys: list[object]) -> None:
    """One issue per unknown field; only the first ones are fuzzy-matched for a hint."""
    for key in keys[:_MAX_UNKNOWN_HINTED]:
        _unknown(c, prefix, key)
    # The others get what c.warn would give them, built in one pass (a 1 MiB body of keys).
    strict = c.strict and "unknown_field" in STRICT_CODES
    suffix = _STRICT if strict else ""
    issues = (
        FieldIssue(name, "unknown_field", f"{name} is not an Omnidoc field.{suffix}")
        for name in (_shown(prefix, key) for key in keys[_MAX_UNKNOWN_HINTED:])
    )
    if strict:
        c.errors.extend(issues)
    else:
        c.warnings.extend(issues)


def _patient(c: _Collector, patient: dict[object, object], *, today: date, from_url: bool) -> None:
    nirs: dict[str, str | None] = {}
    gender: str | None = None
    born: date | None = None
    place: str | None = None
    for name, field in _PATIENT_FIELD_NAMES:
        value = patient.get(name)
        if value is None:
            continue
        if name in TEXT_MAX_CHARS:
            _text(c, field, value, TEXT_MAX_CHARS[name])
        elif name in DIGIT_FIELDS:
            _digits(c, field, value, DIGIT_FIELDS[name])
        elif name in ("nir", "nir_cert"):
            nirs[field] = _nir(c, field, value)
        elif name == "gender":
            gender = _gender(c, field, value)
        elif name == "birth_date":
            born = _birth_date(c, field, value, today)
        elif name == "birth_place":
            place = _birth_place(c, field, value)
        elif name == "birth_order":
            _birth_order(c, field, value, from_url=from_url)
        elif name == "phone":
            _phone(c, field, value)
        else:
            _email(c, field, value)
    _unknowns(c, "patient.", [key for key in patient if key not in PATIENT_FIELDS])
    for field, nir in nirs.items():
        if nir is not None:
            _coherence(c, field, nir, gender, born, place)


def validate_draft(
    body: object,
    *,
    strict: bool,
    is_known_practitioner: Callable[[str], bool],
    today: date | None = None,
    birth_order_from_url: bool = False,
    directory_examples: Sequence[str] = (),
) -> ValidationReport:
    """Check a parsed draft body against every rule and report every problem at once.

    `directory_examples`: a few RPPS of the directory, named when an RPPS is not in it.
    """
    c = _Collector(strict=strict)
    # The latest calendar date anywhere (UTC+14), so a birth "today" in any French
    # territory is never in the future.
    today = today or (datetime.now(UTC) + timedelta(hours=14)).date()
    if not isinstance(body, dict):
        c.error("", "not_an_object", "The body must be a JSON object.")
        return ValidationReport(tuple(c.errors), tuple(c.warnings), c.hints)
    patient = body.get("patient")
    if isinstance(patient, dict):
        _patient(c, patient, today=today, from_url=birth_order_from_url)
    elif patient is not None:
        c.error("patient", "not_an_object", "patient must be a JSON object.")
    examples = f", e.g. {', '.join(directory_examples)}" if directory_examples else ""
    not_known = f"is not in the directory: {_DIRECTORY}{examples}."
    author = body.get("author_rpps")
    author = None if author is None else _rpps(c, "author_rpps", author)
    if author is not None and not is_known_practitioner(author):
        c.error("author_rpps", "unknown_author_rpps", not_known)
    recipient = body.get("recipient_rpps")
    recipient = None if recipient is None else _rpps(c, "recipient_rpps", recipient)
    if recipient is not None and not is_known_practitioner(recipient):
        c.warn("recipient_rpps", "unknown_recipient_rpps", not_known)
    if body.get("text") is not None:
        _text(c, "text", body["text"], TEXT_MAX_CHARS["text"])
    if body.get("context") is not None:
        _context(c, body["context"])
    _unknowns(c, "", [key for key in body if key not in TOP_LEVEL_FIELDS])
    return ValidationReport(tuple(c.errors), tuple(c.warnings), c.hints)


def validate_practitioners(
    *,
    author_rpps: str | None,
    recipient_rpps: str | None,
    strict: bool,
    is_known_practitioner: Callable[[str], bool],
    directory_examples: Sequence[str] = (),
) -> ValidationReport:
    """The rules of the two RPPS alone, as at creation: for the publish helper's body."""
    given = (("author_rpps", author_rpps), ("recipient_rpps", recipient_rpps))
    body = {name: value for name, value in given if value is not None}
    return validate_draft(
        body,
        strict=strict,
        is_known_practitioner=is_known_practitioner,
        directory_examples=directory_examples,
    )
