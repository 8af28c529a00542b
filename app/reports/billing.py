"""The billing data of a completed téléexpertise (sandbox-defined): the acts and the
insurance, sent in the notification and drawn in the compte rendu."""

from __future__ import annotations

from typing import Literal

from app.models import Draft
from app.schemas import Billing, BillingAct, Insurance

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
