"""The compte rendu and the billing data of a completed téléexpertise (sandbox-defined)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from app.db import read_session, write_session
from app.fixtures import Practitioner
from app.models import Draft, RenderedReport
from app.schemas import Billing, BillingAct, Insurance

# Looks a practitioner up by RPPS: `Fixtures.practitioner`.
Directory = Callable[[str], Practitioner | None]

# Téléexpertise acts since April 2022: TE2 for the expert asked (requis), RQD for the
# practitioner who asks (requérant).
ACTS: tuple[tuple[Literal["TE2", "RQD"], Literal["requis", "requérant"], str, str], ...] = (
    ("TE2", "requis", "recipient_rpps", "20.00"),
    ("RQD", "requérant", "author_rpps", "10.00"),
)
INSURANCE_FIELDS = ("nir", "regime", "caisse", "centre", "gestion")


def billing_for(draft: Draft) -> Billing:
    """The billing data, dated the day the téléexpertise was completed (README, "Receive
    notifications")."""
    patient = draft.patient or {}
    when = draft.completed_at or draft.updated_at
    return Billing(
        date=when.date().isoformat(),
        currency="EUR",
        acts=[
            BillingAct(code=code, role=role, rpps=getattr(draft, field), amount=amount)
            for code, role, field, amount in ACTS
        ],
        insurance=Insurance(
            **{name: _text_or_none(patient.get(name)) for name in INSURANCE_FIELDS}
        ),
    )


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


# --- The compte rendu PDF: drawn once per draft, then read back ---------------------------
# A completed draft never changes, so its PDF is stored on first request: later GETs are a
# read, not a 0.1-1 s render. Rendering holds the GIL, which the event loop shares, so a
# process renders one report at a time: /healthz stays fast while reports are asked for.
_RENDER_LOCK = threading.Lock()


def _participant(rpps: str | None, directory: Directory) -> str:
    if not rpps:
        return "-"
    found = directory(rpps)
    if found is None:
        return f"RPPS {rpps} (hors annuaire du sandbox)"
    return f"{found.display_name}, {found.specialty} - RPPS {rpps}"


def render_report(draft: Draft, *, directory: Directory) -> bytes:
    """The compte rendu as a new PDF: report text, participants, patient, date and time."""
    from app.reports.pdf import draw_report  # deferred: fpdf2 is heavy to import

    return draw_report(
        draft,
        participant=lambda rpps: _participant(rpps, directory),
        acts=billing_for(draft).acts,
    )


def stored_report(engine: Engine, *, draft: Draft, directory: Directory) -> bytes:
    """The completed draft's PDF: the stored one, else rendered now and stored."""
    pdf = _read_stored(engine, draft.id)
    if pdf is not None:
        return pdf
    with _RENDER_LOCK:
        pdf = _read_stored(engine, draft.id)  # rendered while we waited for the lock
        if pdf is not None:
            return pdf
        pdf = render_report(draft, directory=directory)
        try:
            with write_session(engine) as session:
                session.add(RenderedReport(draft_id=draft.id, pdf=pdf))
        except IntegrityError:  # another process stored it first (or the draft is gone)
            return _read_stored(engine, draft.id) or pdf
        return pdf


def _read_stored(engine: Engine, draft_id: str) -> bytes | None:
    with read_session(engine) as session:
        row = session.get(RenderedReport, draft_id)
        return row.pdf if row is not None else None
