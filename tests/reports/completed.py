"""A completed draft for the report tests (synthetic: the document's kind of values)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.models import Draft
from tests.helpers import AUTHOR, RECIPIENT

PATIENT = {
    "first_name": "Zoé",
    "last_name": "Lefèvre",
    "birth_date": "1980-02-29",
    "gender": "F",
    "nir": "280022A00400136",
    "regime": "01",
    "caisse": "751",
    "centre": "1234",
    "gestion": "10",
}


def completed_draft(**fields: object) -> Draft:
    """A completed téléexpertise with a patient, a question and an answer; `fields` override."""
    values: dict[str, object] = {
        "owner_key": "k",
        "status": "completed",
        "author_rpps": AUTHOR,
        "recipient_rpps": RECIPIENT,
        "patient": PATIENT,
        "text": "Lésion pigmentée du dos, avis ?",
        "report_text": "Nævus bénin, surveillance à un an.",
        "completed_at": datetime(2026, 3, 14, 9, 26, tzinfo=UTC),
        **fields,
    }
    return Draft.model_validate(values)
