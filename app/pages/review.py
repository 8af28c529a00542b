"""The redirect_url page's behaviour: read a draft for review, save corrected fields, files.

Status changes are not here: the page calls app.drafts.service (publish/complete/cancel), whose
one transition() writes every status and enqueues the notifications.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import col, select

from app.config import Settings
from app.db import read_session, write_session
from app.drafts import scenarios, uploads
from app.drafts import service as drafts
from app.errors import DraftNotFound, InvalidTransition, ValidationFailed
from app.fixtures import Practitioner
from app.identifiers import is_uuid4
from app.models import Draft, DraftStatus, StoredFile, utcnow
from app.pages import labels_fr
from app.pages import url_method as prefill

# Served with their own type only when the bytes are one of these (the sniffed type, never
# the declared one: a file declared image/png may be HTML); every file is a download
# (routes/page_files.py), an image's type only lets the page's <img> thumbnail show it.
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif"})


@dataclass(frozen=True)
class FieldView:
    """One form field as a page shows it: its value and what the rules say of it."""

    value: str = ""
    level: str = ""  # "", "warning" or "error"
    messages: tuple[str, ...] = ()


@dataclass
class FormView:
    """Every field of the draft form, and how many errors block it."""

    fields: dict[str, FieldView] = field(default_factory=dict)
    errors: int = 0
    warnings: int = 0


def form_view(values: dict[str, str], lint: prefill.LintReport) -> FormView:
    """Values and their verdicts, in French, for the form templates."""
    view = FormView(errors=lint.errors, warnings=lint.warnings)
    reports = {p.name: p for p in lint.parameters}
    for name in prefill.PARAMETERS:
        value = values.get(name, "")
        report = reports.get(name)
        if report is None or report.verdict == "ok":
            view.fields[name] = FieldView(value)
            continue
        messages = tuple(labels_fr.issue_message(i, value) for i in report.issues)
        view.fields[name] = FieldView(value, report.verdict, messages)
    return view


# What a doctor types where the API wants `0612345678` and `1990-09-10`.
_PHONE_SEPARATORS = re.compile(r"[\s.\-\u00a0\u202f]+")
_FRENCH_DATE = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})", re.ASCII)


def normalise_typed(values: dict[str, str]) -> dict[str, str]:
    """The form's values as the API's rules want them, when a person typed them otherwise.

    "06 12 34 56 78" (or with dots, dashes, +33) becomes "0612345678"; "10/09/1990"
    becomes "1990-09-10". Anything else is left as typed, for the rules to judge: the
    API itself stays strict (README, "Validation"), only the pages forgive.
    """
    out = dict(values)
    phone = _PHONE_SEPARATORS.sub("", out.get("patient_phone", ""))
    if phone.startswith("+33") and phone[3:].isdigit() and len(phone) == 12:
        phone = "0" + phone[3:]
    if phone.isascii() and phone.isdigit() and len(phone) == 10:
        out["patient_phone"] = phone
    born = _FRENCH_DATE.fullmatch(out.get("patient_birth_date", "").strip())
    if born:
        day, month, year = born.groups()
        out["patient_birth_date"] = f"{year}-{int(month):02d}-{int(day):02d}"
    return out


def lint_form(
    values: dict[str, str], *, is_known_practitioner: Callable[[str], bool]
) -> tuple[dict[str, str], prefill.LintReport]:
    """Keep the form's own fields (named as the URL's parameters), forgive what a person
    types (normalise_typed), and lint them."""
    typed = normalise_typed(values)
    kept = {name: typed.get(name, "") for name in prefill.PARAMETERS}
    return kept, prefill.lint_values(kept, is_known_practitioner=is_known_practitioner)


def read_draft(engine: Engine, *, draft_id: str) -> Draft:
    """Any draft by id (the page is open to whoever holds the URL); 404 otherwise."""
    if not is_uuid4(draft_id):
        raise DraftNotFound()
    with read_session(engine) as session:
        draft = session.get(Draft, draft_id.lower())
    if draft is None:
        raise DraftNotFound()
    return draft


def save_fields(
    engine: Engine,
    *,
    draft_id: str,
    values: dict[str, str],
    is_known_practitioner: Callable[[str], bool],
) -> prefill.LintReport:
    """Replace the draft's fields with the form's, if the rules (README, "Validation") allow them.

    Only a `draft` is corrected: once published, the request is the recipient's to answer.
    Raises ValidationFailed (field errors named as the form's fields) and saves nothing
    when any value breaks an error rule.
    """
    kept, lint = lint_form(values, is_known_practitioner=is_known_practitioner)
    if not lint.ok:
        issues = [i for p in lint.parameters if p.verdict == "error" for i in p.issues]
        raise ValidationFailed(f"{len(issues)} field(s) break the rules.", errors=issues)
    body = prefill.body_from_values(kept)
    with write_session(engine) as session:
        draft = drafts.locked_draft(session, draft_id=draft_id, owner_key=None)
        if draft.status != DraftStatus.DRAFT:
            raise InvalidTransition(
                f"A draft in status '{draft.status}' can no longer be corrected.",
                extra={"current_status": str(draft.status)},
            )
        draft.patient = body.get("patient")
        draft.recipient_rpps = body.get("recipient_rpps")
        draft.text = body.get("text")
        draft.updated_at = utcnow()
        session.add(draft)
    return lint


def autopilot_due(engine: Engine, *, draft: Draft) -> datetime | None:
    """When a scenario recipient answers this draft by itself (fixtures `autopilot`)."""
    with read_session(engine) as session:
        return scenarios.due_at(session, draft=draft)


def files_of(engine: Engine, *, draft_id: str) -> list[StoredFile]:
    with read_session(engine) as session:
        query = (
            select(StoredFile)
            .where(StoredFile.draft_id == draft_id)
            .order_by(col(StoredFile.created_at))
        )
        return list(session.exec(query).all())


def page_file(
    engine: Engine, *, settings: Settings, draft_id: str, file_id: str
) -> tuple[StoredFile, Path]:
    """A file of a draft, for the page (whoever holds the draft's URL and signed in)."""
    draft = read_draft(engine, draft_id=draft_id)
    return uploads.file_of_draft(engine, settings=settings, draft_id=draft.id, file_id=file_id)


def inline_type(row: StoredFile) -> str | None:
    """The file's sniffed type when a browser may render it, else None (octet-stream)."""
    return row.sniffed_type if row.sniffed_type in INLINE_TYPES else None


@dataclass(frozen=True)
class Participant:
    """A practitioner of the téléexpertise as the page names them."""

    rpps: str
    practitioner: Practitioner | None

    @property
    def name(self) -> str:
        found = self.practitioner
        return found.display_name if found else f"RPPS {self.rpps} (hors annuaire)"

    @property
    def specialty(self) -> str:
        return self.practitioner.specialty if self.practitioner else ""


def participant(
    rpps: str | None, directory: Callable[[str], Practitioner | None]
) -> Participant | None:
    return Participant(rpps, directory(rpps)) if rpps else None
