"""The evidence file of a test session (SPEC §9), drawn with fpdf2 like the compte rendu.

What it shows is what the session's view holds: names, times, results, messages and
evidence lines (method, path, status, field names). Never a value a draft's patient or
text held: the judge's facts have none. Imported on the first report only (fpdf2 is heavy).
"""

from __future__ import annotations

from app import formats
from app.reports.pdf import FONT, _ReportPdf
from app.testkit.judge import rollup
from app.testkit.labels_fr import COUNTS_FR, KINDS_FR, RESULTS_FR, SOURCES_FR, STATUS_FR
from app.testkit.requirements import REQUIREMENTS
from app.testkit.schemas import TestSessionView


def draw_session_report(
    view: TestSessionView, *, french: dict[str, str], key_name: str, version: str
) -> bytes:
    """The evidence file; each test's message in French (`french`), then the API's own."""
    pdf = _ReportPdf()  # the compte rendu's: the SANDBOX watermark and banner on each page
    pdf.set_title("Dossier de preuves : intégration Omnidoc (SANDBOX)")
    pdf.set_creator("omnidoc-sandbox")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def heading(text: str, size: int = 12) -> None:
        pdf.ln(2)
        pdf.set_font(FONT, "B", size)
        pdf.multi_cell(width, 7, pdf.clean(text), new_x="LMARGIN", new_y="NEXT")

    def row(label: str, value: str) -> None:
        pdf.set_font(FONT, "B", 10)
        pdf.cell(50, 6, pdf.clean(label))
        pdf.set_font(FONT, "", 10)
        pdf.multi_cell(width - 50, 6, pdf.clean(value), new_x="LMARGIN", new_y="NEXT")

    def paragraph(text: str, *, size: int = 9, indent: float = 0) -> None:
        pdf.set_font(FONT, "", size)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(
            width - indent, 4.5, pdf.clean(text), align="L", new_x="LMARGIN", new_y="NEXT"
        )

    pdf.set_font(FONT, "B", 16)
    pdf.cell(0, 12, "Dossier de preuves : intégration Omnidoc", new_x="LMARGIN", new_y="NEXT")
    row("Clé API", key_name)
    row("Session", view.id)
    row("Début", formats.fr_datetime(view.started_at))
    row("Fin", formats.fr_datetime(view.finished_at) if view.finished_at else "en cours")
    row("Fuseau horaire", f"{formats.ZONE_NOTE} (Europe/Paris)")
    row("Version du sandbox", f"omnidoc-sandbox {version}")

    heading("Résumé")
    row("Statut de la session", STATUS_FR[view.status])
    counts = {result: 0 for result in RESULTS_FR}
    for test in view.tests:
        counts[test.result] += 1
    row("Tests", str(len(view.tests)))
    for result, label in COUNTS_FR.items():
        row(label, str(counts[result]))
    required = [t for t in view.tests if not t.optional]
    row("Tests requis réussis", f"{sum(t.result == 'pass' for t in required)} sur {len(required)}")

    heading("Exigences et résultats")
    for requirement in REQUIREMENTS:
        tests = [t for t in view.tests if requirement.id in t.requirements]
        summary = rollup([t.result for t in tests])
        verdict = f" ({RESULTS_FR[summary]})" if summary else ""
        heading(f"{requirement.id} : {requirement.title}{verdict}", size=11)
        paragraph(f"Source : {SOURCES_FR[requirement.source]}. {requirement.text}")
        if not tests:
            paragraph("Aucun test ne la couvre dans cette session.", indent=4)
        for test in tests:
            pdf.set_font(FONT, "B", 10)
            kind = "facultatif" if test.optional else "requis"
            pdf.set_x(pdf.l_margin + 4)
            line = f"Test {test.name} ({kind}) : {RESULTS_FR[test.result]}"
            pdf.multi_cell(width - 4, 5.5, pdf.clean(line), new_x="LMARGIN", new_y="NEXT")
            paragraph(french.get(test.name, test.message), indent=4)
            if french.get(test.name, test.message) != test.message:
                paragraph(f"(API : {test.message})", size=8, indent=4)
            for item in test.evidence:
                when = formats.in_paris(item.time).strftime("%d/%m/%Y à %H:%M:%S")
                text = f"• {KINDS_FR[item.kind]} {item.id}, {when} : {item.summary}"
                paragraph(text, size=8, indent=8)
        pdf.ln(1)
    return bytes(pdf.output())
