"""The compte rendu of a completed téléexpertise (sandbox-defined): drawn once, stored."""

from __future__ import annotations

import threading

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from app.db import read_session, write_session
from app.fixtures import Directory
from app.models import Draft, RenderedReport
from app.reports.billing import billing_for

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
