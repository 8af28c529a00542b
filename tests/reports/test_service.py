"""The compte rendu PDF: drawn once, stored, read back."""

from __future__ import annotations

import io

import pypdf
from sqlalchemy import Engine

from app.config import PACKAGED_FIXTURES
from app.db import read_session, write_session
from app.fixtures import load_fixtures
from app.models import Draft, RenderedReport
from app.reports import service as reports
from tests.helpers import AUTHOR, RECIPIENT
from tests.reports.completed import completed_draft

DIRECTORY = load_fixtures(PACKAGED_FIXTURES).practitioner
_completed = completed_draft


def _text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_render_report_holds_the_legal_content() -> None:
    text = _text(reports.render_report(_completed(), directory=DIRECTORY))
    assert "SANDBOX" in text
    assert "Nævus bénin, surveillance à un an." in text
    assert "Lésion pigmentée du dos, avis ?" in text
    assert f"RPPS {AUTHOR}" in text
    assert f"RPPS {RECIPIENT}" in text
    assert "Dr Camille Durand" in text
    assert "Dr Julien Morel" in text
    assert "Lefèvre Zoé" in text
    assert "280022A00400136" in text
    # 09:26 UTC in March (winter) is 10:26 in Paris; the zone is named once.
    assert "14/03/2026 à 10:26" in text
    assert "UTC" not in text
    assert text.count("heure de Paris") == 1
    assert "20,00 €" in text  # the amounts as the page shows them
    assert "29/02/1980" in text  # the birth date as a French reader writes it


def test_render_report_names_a_practitioner_outside_the_directory() -> None:
    text = _text(
        reports.render_report(_completed(recipient_rpps="10000000008"), directory=DIRECTORY)
    )
    assert "RPPS 10000000008 (hors annuaire du sandbox)" in text


def _stored(engine: Engine, draft: Draft) -> bytes | None:
    with read_session(engine) as session:
        row = session.get(RenderedReport, draft.id)
        return row.pdf if row else None


def test_stored_report_draws_once_and_stores_the_pdf(engine: Engine) -> None:
    draft = _completed()
    with write_session(engine) as session:
        session.add(draft)
    assert _stored(engine, draft) is None
    pdf = reports.stored_report(engine, draft=draft, directory=DIRECTORY)
    assert "Nævus bénin" in _text(pdf)
    assert _stored(engine, draft) == pdf


def test_stored_report_reads_back_the_stored_pdf(engine: Engine) -> None:
    draft = _completed()
    with write_session(engine) as session:
        session.add(draft)
        session.flush()
        session.add(RenderedReport(draft_id=draft.id, pdf=b"%PDF-stored"))
    assert reports.stored_report(engine, draft=draft, directory=DIRECTORY) == b"%PDF-stored"
