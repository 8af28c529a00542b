"""The compte rendu and the billing data of a completed téléexpertise (sandbox-defined)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from fpdf import FPDF

from app.fixtures import Practitioner
from app.models import Draft
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


# --- The compte rendu PDF -------------------------------------------------------------
# Core fonts (no font file to ship) speak Latin-1: French accents pass, anything else is
# mapped to a close ASCII form or "?" so no input can make rendering fail.
_ASCII_FORMS = str.maketrans(
    {
        "’": "'", "‘": "'", "‚": ",", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-",
        "‑": "-", "…": "...", "€": "EUR", "œ": "oe", "Œ": "OE", "\u00a0": " ", "\u202f": " ",
        "\t": "    ", "\r": "",
    }
)  # fmt: skip
_GENDERS = {"M": "masculin", "F": "féminin"}


def _drawable(ch: str) -> str:
    if ch == "\n" or (ch.isprintable() and ord(ch) < 256):
        return ch
    if not ch.isprintable():
        return "?"
    folded = unicodedata.normalize("NFKD", ch).encode("ascii", errors="ignore").decode()
    return folded or "?"


def _latin1(text: object) -> str:
    """Text the core fonts can draw: NFC, common typography mapped, the rest folded or '?'."""
    value = unicodedata.normalize("NFC", str(text)).translate(_ASCII_FORMS)
    return "".join(_drawable(ch) for ch in value)


def _when(value: datetime | None) -> str:
    return value.strftime("%d/%m/%Y à %H:%M UTC") if value else "-"


def _participant(rpps: str | None, directory: Directory) -> str:
    if not rpps:
        return "-"
    found = directory(rpps)
    if found is None:
        return f"RPPS {rpps} (hors annuaire du sandbox)"
    return f"{found.display_name}, {found.specialty} - RPPS {rpps}"


def _patient_lines(patient: dict[str, Any]) -> list[tuple[str, str]]:
    names = " ".join(str(patient[k]) for k in ("last_name", "first_name") if patient.get(k))
    rows = [
        ("Patient", names or "-"),
        ("Nom de naissance", patient.get("birth_name") or "-"),
        ("Date de naissance", patient.get("birth_date") or "-"),
        ("Sexe", _GENDERS.get(str(patient.get("gender")), "-")),
        ("NIR", patient.get("nir_cert") or patient.get("nir") or "-"),
    ]
    insurance = ", ".join(
        f"{name} {patient[name]}" for name in INSURANCE_FIELDS[1:] if patient.get(name)
    )
    rows.append(("Assurance maladie", insurance or "-"))
    return [(label, str(value)) for label, value in rows]


class _ReportPdf(FPDF):
    def header(self) -> None:
        # The watermark goes under each page's content: a test document, never a real one.
        self.set_font("Helvetica", "B", 90)
        self.set_text_color(235, 200, 200)
        with self.rotation(45, x=self.w / 2, y=self.h / 2):
            self.text(self.w / 2 - 85, self.h / 2 + 12, "SANDBOX")
        self.set_text_color(170, 0, 0)
        self.set_font("Helvetica", "B", 10)
        banner = "SANDBOX - document de test fictif, sans valeur médicale ni légale"
        self.cell(0, 8, _latin1(banner), align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)


def render_report(draft: Draft, *, directory: Directory) -> bytes:
    """The compte rendu: report text, participants with RPPS, patient identity, date, time."""
    pdf = _ReportPdf(format="A4")
    pdf.set_title("Compte rendu de téléexpertise (SANDBOX)")
    pdf.set_creator("omnidoc-sandbox")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def heading(text: str) -> None:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    def row(label: str, value: str) -> None:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(45, 6, _latin1(label))
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(width - 45, 6, _latin1(value), new_x="LMARGIN", new_y="NEXT")

    def paragraph(text: str) -> None:
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(width, 5, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 12, _latin1("Compte rendu de téléexpertise"), new_x="LMARGIN", new_y="NEXT")
    row("Référence", draft.id)
    row("Demandée le", _when(draft.published_at or draft.created_at))
    row("Réalisée le", _when(draft.completed_at))
    heading("Participants")
    row("Requérant", _participant(draft.author_rpps, directory))
    row("Requis (expert)", _participant(draft.recipient_rpps, directory))
    heading("Patient")
    for label, value in _patient_lines(draft.patient or {}):
        row(label, value)
    heading("Demande")
    paragraph(draft.text or "-")
    heading("Réponse de l'expert")
    paragraph(draft.report_text or "-")
    heading("Facturation")
    for act in billing_for(draft).acts:
        row(act.code, f"{act.role}, RPPS {act.rpps or '-'}: {act.amount} EUR")
    return bytes(pdf.output())
