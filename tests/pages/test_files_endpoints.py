"""What the redirect_url page links to: attached files (always downloads) and the report."""

from __future__ import annotations

import io
import uuid

import pypdf
from fastapi.testclient import TestClient

from tests.helpers import AUTHOR, RECIPIENT, auth, create_draft
from tests.page_client import post_page, sign_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def with_files(client: TestClient, *files: tuple[str, bytes, str]) -> tuple[str, list[str]]:
    """A draft with these files, opened and signed in; its id and its files' ids."""
    draft_id = create_draft(client, {"author_rpps": AUTHOR, "recipient_rpps": RECIPIENT})
    parts = [("file", file) for file in files]
    response = client.post(f"/api/interop/v1/drafts/{draft_id}/files/", files=parts, headers=auth())
    assert response.status_code == 200, response.text
    client.get(f"/interop/drafts/{draft_id}")
    sign_in(client, draft_id)
    return draft_id, [f["id"] for f in response.json()["files"]]


def test_draft_page_lists_the_files(client: TestClient) -> None:
    draft_id, (png_id, _) = with_files(
        client, ("a.png", PNG, "image/png"), ("<i>b<i>.txt", b"abc", "text/plain")
    )
    text = client.get(f"/interop/drafts/{draft_id}").text
    assert "a.png" in text
    assert "&lt;i&gt;b&lt;i&gt;.txt" in text
    assert "3 octets" in text
    assert f'<img class="file__thumb" src="/interop/drafts/{draft_id}/files/{png_id}"' in text


# A vendor's PDF that runs JavaScript when a viewer opens it (issue 19, item 6).
SCRIPTED_PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R "
    b"/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)


def test_page_file_image_is_a_download_its_thumbnail_still_shows(client: TestClient) -> None:
    draft_id, (file_id,) = with_files(client, ("scan.png", PNG, "image/png"))
    response = client.get(f"/interop/drafts/{draft_id}/files/{file_id}")
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"  # what the <img> needs
    assert response.headers["content-disposition"].startswith('attachment; filename="scan.png"')
    assert "sandbox" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_page_file_pdf_is_never_shown_inline(client: TestClient) -> None:
    draft_id, (file_id,) = with_files(client, ("lettre.pdf", SCRIPTED_PDF, "application/pdf"))
    page = client.get(f"/interop/drafts/{draft_id}").text
    assert ">Voir<" not in page  # only "Télécharger"
    for query in ("", "?download=true"):
        response = client.get(f"/interop/drafts/{draft_id}/files/{file_id}{query}")
        assert response.status_code == 200
        assert response.content == SCRIPTED_PDF
        assert response.headers["content-disposition"].startswith(
            'attachment; filename="lettre.pdf"'
        )
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"


def test_page_file_download(client: TestClient) -> None:
    draft_id, (file_id,) = with_files(client, ("scan.png", PNG, "image/png"))
    response = client.get(f"/interop/drafts/{draft_id}/files/{file_id}?download=true")
    assert response.headers["content-disposition"].startswith('attachment; filename="scan.png"')
    assert response.content == PNG


def test_page_file_html_declared_as_an_image_is_only_downloaded(client: TestClient) -> None:
    html = b"<html><script>alert(1)</script></html>"
    draft_id, (file_id,) = with_files(client, ("x.png", html, "image/png"))
    response = client.get(f"/interop/drafts/{draft_id}/files/{file_id}")
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["content-security-policy"].startswith("sandbox;")


def test_page_file_needs_a_sign_in(client: TestClient) -> None:
    draft_id, (file_id,) = with_files(client, ("scan.png", PNG, "image/png"))
    client.cookies.clear()
    response = client.get(f"/interop/drafts/{draft_id}/files/{file_id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/interop/drafts/{draft_id}"


def test_page_file_of_another_draft_is_not_found(client: TestClient) -> None:
    _, (file_id,) = with_files(client, ("scan.png", PNG, "image/png"))
    other_id, _ = with_files(client, ("other.png", PNG, "image/png"))
    response = client.get(f"/interop/drafts/{other_id}/files/{file_id}")
    assert response.status_code == 404
    assert "Fichier introuvable" in response.text
    assert client.get(f"/interop/drafts/{other_id}/files/{uuid.uuid4()}").status_code == 404


def test_page_report_before_completion(client: TestClient) -> None:
    draft_id, _ = with_files(client, ("scan.png", PNG, "image/png"))
    response = client.get(f"/interop/drafts/{draft_id}/report")
    assert response.status_code == 409
    assert "Compte rendu pas encore disponible" in response.text


def test_page_report_once_completed(client: TestClient) -> None:
    draft_id, _ = with_files(client, ("scan.png", PNG, "image/png"))
    post_page(client, f"/interop/drafts/{draft_id}/publish", {"recipient_rpps": RECIPIENT})
    post_page(client, f"/interop/drafts/{draft_id}/complete", {"report_text": "Avis : RAS"})
    response = client.get(f"/interop/drafts/{draft_id}/report")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = "".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages
    )
    assert "Avis : RAS" in text
    assert "SANDBOX" in text


def test_page_report_is_the_api_report(client: TestClient) -> None:
    draft_id, _ = with_files(client, ("scan.png", PNG, "image/png"))
    post_page(client, f"/interop/drafts/{draft_id}/publish", {"recipient_rpps": RECIPIENT})
    post_page(client, f"/interop/drafts/{draft_id}/complete", {"report_text": "Avis : RAS"})
    page = client.get(f"/interop/drafts/{draft_id}/report")
    api = client.get(f"/api/interop/v1/drafts/{draft_id}/report", headers=auth())
    assert page.status_code == api.status_code == 200
    assert page.content == api.content  # drawn once, stored, read back by both


def test_page_report_needs_a_sign_in(client: TestClient) -> None:
    draft_id, _ = with_files(client, ("scan.png", PNG, "image/png"))
    client.cookies.clear()
    response = client.get(f"/interop/drafts/{draft_id}/report", follow_redirects=False)
    assert response.status_code == 303


def test_page_report_of_unknown_draft(client: TestClient) -> None:
    with_files(client, ("scan.png", PNG, "image/png"))  # signs in
    response = client.get(f"/interop/drafts/{uuid.uuid4()}/report")
    assert response.status_code == 404
    assert "Demande introuvable" in response.text
