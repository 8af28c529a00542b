"""The compte rendu drawn as a PDF (fpdf2), with an embedded Unicode font.

Imported only when a report is first rendered: fpdf2, fontTools and Pillow take about a
third of a second and 20 MB to import, which the start of the server need not pay.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import TTFFont

from app import formats
from app.models import Draft
from app.reports.billing import INSURANCE_FIELDS
from app.schemas import BillingAct

# DejaVu Sans (Bitstream Vera licence, fonts/LICENSE): Latin, Greek, Cyrillic and most
# symbols, so a report shows what the vendor sent, "…", "œ" and "€" included.
FONTS_DIR = Path(__file__).parent / "fonts"
FONT = "DejaVu"
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
REPLACEMENT = "\ufffd"  # drawn for a character the font has no glyph for
_SPACING = str.maketrans({"\t": "    ", "\r": ""})
_GENDERS = {"M": "masculin", "F": "féminin"}
# fontTools' subsetter logs `Glyph names: [...]` at INFO for every report: the characters
# of the patient's identity and of the report (`Lslash`, `OE`…), health data on the
# console. Only its errors are worth a line; set here, where fontTools is first used,
# so that it holds whatever logging configuration the process has.
logging.getLogger("fontTools").setLevel(logging.ERROR)


def _when(value: datetime | None) -> str:
    return formats.fr_datetime(value) if value else "-"


def _patient_lines(patient: dict[str, Any]) -> list[tuple[str, str]]:
    born = patient.get("birth_date")
    names = " ".join(str(patient[k]) for k in ("last_name", "first_name") if patient.get(k))
    rows = [
        ("Patient", names or "-"),
        ("Nom de naissance", patient.get("birth_name") or "-"),
        ("Date de naissance", formats.fr_date(str(born)) if born else "-"),
        ("Sexe", _GENDERS.get(str(patient.get("gender")), "-")),
        ("NIR", patient.get("nir_cert") or patient.get("nir") or "-"),
    ]
    insurance = ", ".join(
        f"{name} {patient[name]}" for name in INSURANCE_FIELDS[1:] if patient.get(name)
    )
    rows.append(("Assurance maladie", insurance or "-"))
    return [(label, str(value)) for label, value in rows]


class _ReportPdf(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        for style, filename in _FONT_FILES.items():
            self.add_font(FONT, style, FONTS_DIR / filename)
        # Characters both faces can draw; any other becomes U+FFFD. Also keeps fpdf2 from
        # logging the missing characters themselves (health data) as it would otherwise.
        cmaps = []
        for style in _FONT_FILES:
            face = self.fonts[f"{FONT.lower()}{style}"]
            assert isinstance(face, TTFFont)
            cmaps.append(frozenset(face.cmap))
        self.drawable = frozenset.intersection(*cmaps)

    def clean(self, text: object) -> str:
        """The text as sent (NFC), each character the font cannot draw replaced by U+FFFD."""
        value = unicodedata.normalize("NFC", str(text)).translate(_SPACING)
        return "".join(
            ch if ch == "\n" or (ord(ch) in self.drawable and ch.isprintable()) else REPLACEMENT
            for ch in value
        )

    def header(self) -> None:
        # The watermark goes under each page's content: a test document, never a real one.
        self.set_font(FONT, "B", 90)
        self.set_text_color(235, 200, 200)
        with self.rotation(45, x=self.w / 2, y=self.h / 2):
            self.text(self.w / 2 - self.get_string_width("SANDBOX") / 2, self.h / 2 + 12, "SANDBOX")
        self.set_text_color(170, 0, 0)
        self.set_font(FONT, "B", 10)
        banner = "SANDBOX - document de test fictif, sans valeur médicale ni légale"
        self.cell(0, 8, banner, align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)


def draw_report(
    draft: Draft,
    *,
    participant: Callable[[str | None], str],
    acts: Sequence[BillingAct],
) -> bytes:
    """The compte rendu: report text, participants with RPPS, patient identity, date, time."""
    pdf = _ReportPdf()
    pdf.set_title("Compte rendu de téléexpertise (SANDBOX)")
    pdf.set_creator("omnidoc-sandbox")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def heading(text: str) -> None:
        pdf.ln(3)
        pdf.set_font(FONT, "B", 12)
        pdf.cell(0, 8, pdf.clean(text), new_x="LMARGIN", new_y="NEXT")

    def row(label: str, value: str) -> None:
        pdf.set_font(FONT, "B", 10)
        pdf.cell(45, 6, pdf.clean(label))
        pdf.set_font(FONT, "", 10)
        pdf.multi_cell(width - 45, 6, pdf.clean(value), new_x="LMARGIN", new_y="NEXT")

    def paragraph(text: str) -> None:
        pdf.set_font(FONT, "", 10)
        pdf.multi_cell(width, 5, pdf.clean(text), new_x="LMARGIN", new_y="NEXT")

    pdf.set_font(FONT, "B", 16)
    pdf.cell(0, 12, "Compte rendu de téléexpertise", new_x="LMARGIN", new_y="NEXT")
    row("Référence", draft.id)
    row("Demandée le", _when(draft.published_at or draft.created_at))
    row("Réalisée le", _when(draft.completed_at))
    row("Fuseau horaire", f"{formats.ZONE_NOTE} (Europe/Paris)")
    heading("Participants")
    row("Requérant", participant(draft.author_rpps))
    row("Requis (expert)", participant(draft.recipient_rpps))
    heading("Patient")
    for label, value in _patient_lines(draft.patient or {}):
        row(label, value)
    heading("Demande")
    paragraph(draft.text or "-")
    heading("Réponse de l'expert")
    paragraph(draft.report_text or "-")
    heading("Facturation")
    for act in acts:
        row(act.code, f"{act.role}, RPPS {act.rpps or '-'} : {formats.fr_amount(act.amount)}")
    return bytes(pdf.output())
