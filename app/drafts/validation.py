"""A draft body's validation (README, "Validation"), written once: a parsed body in, every
error and warning out; one rule per field in app.drafts.field_rules. app.schemas.DraftCreate
documents the same fields for OpenAPI."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from app.drafts import field_rules as rules
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
TEXT_MAX_CHARS = dict(first_name=100, last_name=100, birth_name=100, address=500, text=20_000)
DIGIT_FIELDS: dict[str, int] = {"regime": 2, "centre": 4, "caisse": 3, "gestion": 2}

_MAX_FIELD_NAME = 100
# Only this many unknown fields get a "did you mean" hint: the fuzzy match is the costly part
# (a 1 MiB body holds ~100,000 keys); the others get the plain message.
_MAX_UNKNOWN_HINTED = 50
# Wire names to suggest for an unknown key, including URL-style names such as patient_nir.
_PATIENT_HINTS = {name: f"patient.{name}" for name in PATIENT_FIELDS}
_PATIENT_FIELD_NAMES = tuple(_PATIENT_HINTS.items())  # (name in the body, name in issues)
_TOP_HINTS = {name: name for name in TOP_LEVEL_FIELDS} | _PATIENT_HINTS
_DIRECTORY = "the sandbox knows the practitioners of its fixtures file (OMNIDOC_FIXTURES)"


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


def _shown(prefix: str, key: object) -> str:
    name = str(key)
    return prefix + (name if len(name) <= _MAX_FIELD_NAME else name[:_MAX_FIELD_NAME] + "…")


def _unknown(c: rules.Collector, prefix: str, key: object) -> None:
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


def _unknowns(c: rules.Collector, prefix: str, keys: list[object]) -> None:
    """One issue per unknown field; only the first ones are fuzzy-matched for a hint."""
    for key in keys[:_MAX_UNKNOWN_HINTED]:
        _unknown(c, prefix, key)
    # The others get what c.warn would give them, built in one pass (a 1 MiB body of keys).
    strict = c.strict and "unknown_field" in rules.STRICT_CODES
    suffix = rules.STRICT_SUFFIX if strict else ""
    issues = (
        FieldIssue(name, "unknown_field", f"{name} is not an Omnidoc field.{suffix}")
        for name in (_shown(prefix, key) for key in keys[_MAX_UNKNOWN_HINTED:])
    )
    if strict:
        c.errors.extend(issues)
    else:
        c.warnings.extend(issues)


def _patient(
    c: rules.Collector, patient: dict[object, object], *, today: date, from_url: bool
) -> None:
    nirs: dict[str, str | None] = {}
    gender: str | None = None
    born: date | None = None
    place: str | None = None
    for name, field in _PATIENT_FIELD_NAMES:
        value = patient.get(name)
        if value is None:
            continue
        if name in TEXT_MAX_CHARS:
            rules.check_text(c, field, value, TEXT_MAX_CHARS[name])
        elif name in DIGIT_FIELDS:
            rules.check_digits(c, field, value, DIGIT_FIELDS[name])
        elif name in ("nir", "nir_cert"):
            nirs[field] = rules.check_nir(c, field, value)
        elif name == "gender":
            gender = rules.check_gender(c, field, value)
        elif name == "birth_date":
            born = rules.check_birth_date(c, field, value, today)
        elif name == "birth_place":
            place = rules.check_birth_place(c, field, value)
        elif name == "birth_order":
            rules.check_birth_order(c, field, value, from_url=from_url)
        elif name == "phone":
            rules.check_phone(c, field, value)
        else:
            rules.check_email(c, field, value)
    _unknowns(c, "patient.", [key for key in patient if key not in PATIENT_FIELDS])
    for field, nir in nirs.items():
        if nir is not None:
            rules.check_coherence(c, field, nir, gender, born, place)


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
    c = rules.Collector(strict=strict)
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
    author = None if author is None else rules.check_rpps(c, "author_rpps", author)
    if author is not None and not is_known_practitioner(author):
        c.error("author_rpps", "unknown_author_rpps", not_known)
    recipient = body.get("recipient_rpps")
    recipient = None if recipient is None else rules.check_rpps(c, "recipient_rpps", recipient)
    if recipient is not None and not is_known_practitioner(recipient):
        c.warn("recipient_rpps", "unknown_recipient_rpps", not_known)
    if body.get("text") is not None:
        rules.check_text(c, "text", body["text"], TEXT_MAX_CHARS["text"])
    if body.get("context") is not None:
        rules.check_context(c, body["context"])
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
