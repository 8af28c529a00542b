"""The compte rendu and the billing data of a completed téléexpertise (sandbox-defined)."""

from __future__ import annotations

from typing import Any

from app.models import Draft

# Téléexpertise acts since April 2022: TE2 for the expert asked (requis), RQD for the
# practitioner who asks (requérant).
ACTS: tuple[tuple[str, str, str, str], ...] = (
    ("TE2", "requis", "recipient_rpps", "20.00"),
    ("RQD", "requérant", "author_rpps", "10.00"),
)
INSURANCE_FIELDS = ("nir", "regime", "caisse", "centre", "gestion")


def report_url(draft: Draft, base_url: str) -> str:
    return f"{base_url}/api/interop/v1/drafts/{draft.id}/report"


def billing_for(draft: Draft) -> dict[str, Any]:
    """Billing data of SPEC §5, dated the day the téléexpertise was completed."""
    patient = draft.patient or {}
    when = draft.completed_at or draft.updated_at
    return {
        "date": when.date().isoformat(),
        "currency": "EUR",
        "acts": [
            {"code": code, "role": role, "rpps": getattr(draft, field), "amount": amount}
            for code, role, field, amount in ACTS
        ],
        "insurance": {name: patient.get(name) for name in INSURANCE_FIELDS},
    }
