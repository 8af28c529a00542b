"""The billing data of a completed téléexpertise."""

from __future__ import annotations

from app.reports.billing import billing_for
from tests.helpers import AUTHOR, RECIPIENT
from tests.reports.completed import completed_draft


def test_billing_for_a_completed_draft() -> None:
    assert billing_for(completed_draft()).model_dump() == {
        "date": "2026-03-14",
        "currency": "EUR",
        "acts": [
            {"code": "TE2", "role": "requis", "rpps": RECIPIENT, "amount": "20.00"},
            {"code": "RQD", "role": "requérant", "rpps": AUTHOR, "amount": "10.00"},
        ],
        "insurance": {
            "nir": "280022A00400136",
            "regime": "01",
            "caisse": "751",
            "centre": "1234",
            "gestion": "10",
        },
    }
