"""The compte rendu drawn as a PDF: what it shows, in any Unicode, on every page."""

from __future__ import annotations

import io

import pypdf
import pytest

from app.models import Draft
from app.reports import pdf as report_pdf
from app.schemas import BillingAct
from tests.reports.completed import PATIENT, completed_draft

ACTS = (
    BillingAct(code="TE2", role="requis", rpps="10001234565", amount="20.00"),
    BillingAct(code="RQD", role="requérant", rpps="10002170750", amount="10.00"),
)


def _completed(**fields: object) -> Draft:
    return completed_draft(id="0b1f6c2e-8d7a-4f3e-9c1b-2a3d4e5f6a7b", **fields)


def _participant(rpps: str | None) -> str:
    return f"Participant {rpps}"


def _draw(draft: Draft, acts: tuple[BillingAct, ...] = ACTS) -> bytes:
    return report_pdf.draw_report(draft, participant=_participant, acts=acts)


def _pages(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF-")
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def _text(pdf: bytes) -> str:
    return "\n".join(_pages(pdf))


def test_draw_report_shows_reference_participants_request_and_answer() -> None:
    text = _text(_draw(_completed()))
    assert "0b1f6c2e-8d7a-4f3e-9c1b-2a3d4e5f6a7b" in text
    assert "Participant 10002170750" in text
    assert "Participant 10001234565" in text
    assert "Lésion pigmentée du dos, avis ?" in text
    assert "Nævus bénin, surveillance à un an." in text


def test_draw_report_shows_the_patient_identity_in_french() -> None:
    text = _text(_draw(_completed()))
    assert "Lefèvre Zoé" in text
    assert "29/02/1980" in text
    assert "féminin" in text
    assert "regime 01, caisse 751, centre 1234, gestion 10" in text


def test_draw_report_prefers_the_patient_nir_to_the_insured_one() -> None:
    text = _text(_draw(_completed(patient={**PATIENT, "nir_cert": "180022A00400110"})))
    assert "180022A00400110" in text
    assert "280022A00400136" not in text


def test_draw_report_without_patient_shows_dashes() -> None:
    text = _text(_draw(_completed(patient=None, text=None, report_text=None)))
    assert "Patient -" in text
    assert "Assurance maladie -" in text


def test_draw_report_lists_each_billing_act_with_its_amount() -> None:
    text = _text(_draw(_completed()))
    assert "TE2 requis, RPPS 10001234565 : 20,00 €" in text
    assert "RQD requérant, RPPS 10002170750 : 10,00 €" in text


def test_draw_report_marks_every_page_as_a_sandbox_document() -> None:
    pages = _pages(_draw(_completed(report_text="\n".join(["ligne"] * 400))))
    assert len(pages) > 1
    assert all("SANDBOX - document de test fictif" in page for page in pages)


def test_draw_report_names_itself_in_the_metadata() -> None:
    reader = pypdf.PdfReader(io.BytesIO(_draw(_completed())))
    assert reader.metadata is not None
    assert reader.metadata.title == "Compte rendu de téléexpertise (SANDBOX)"
    assert reader.metadata.creator == "omnidoc-sandbox"


@pytest.mark.parametrize(
    "report_text",
    [
        "Emoji 😀, CJK 漢字, Łódź, “quotes” – dash… 20 € \x01\x1f\t tab",
        "x" * 5000,  # one long word
        "\n".join(["ligne"] * 400),  # several pages
        "",
    ],
)
def test_draw_report_survives_any_unicode(report_text: str) -> None:
    draft = _completed(report_text=report_text, patient={"last_name": "Ħ𝕏", "first_name": "\u0301"})
    text = _text(_draw(draft))
    assert "SANDBOX" in text


@pytest.mark.parametrize(
    "sent",
    [
        "“Avis” – 20 € l’œdème… Œuvre",  # typography French text uses
        "Ελληνικά Кириллица Łódź ß ŷ",  # Greek, Cyrillic, Latin Extended
        "dose ≤ 5 mg ± 10 % → 37,5 °C",  # symbols
    ],
)
def test_draw_report_keeps_unicode_as_sent(sent: str) -> None:
    draft = _completed(report_text=sent, patient={**PATIENT, "last_name": sent[:20]})
    text = _text(_draw(draft))
    assert sent in text
    assert f"{sent[:20]} Zoé" in text


def test_draw_report_marks_characters_without_a_glyph() -> None:
    draft = _completed(report_text="Kanji 漢字, hangul 한")  # DejaVu Sans has no CJK
    text = _text(_draw(draft))
    assert "Kanji \ufffd\ufffd, hangul \ufffd" in text
