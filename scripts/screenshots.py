"""Screenshots of every page, from a real server and Debian's Chromium, for the README.

Run by hand (`make screenshots`) after changing a page or the stylesheet, then commit
docs/screenshots/. Starts `omnidoc-sandbox serve` on a free port with a temp data dir,
plays the whole story at desktop and phone width (the URL method's page prefilled from
the Omnidoc document's "Toutes les informations" example; then a vendor's draft from
the API: sign-in, review, published, completed), and writes one PNG per page and width.
Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import io
import struct
import sys
import tempfile
import zlib
from pathlib import Path

import httpx
from fpdf import FPDF
from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.browser import launch_chromium
from tests.e2e.server import SandboxServer
from tests.omnidoc_examples import FULL_EXAMPLE, fragment

ROOT = Path(__file__).resolve().parent.parent

# A vendor's draft as an integration would send it (synthetic, coherent data).
VENDOR_DRAFT = {
    "author_rpps": "10002170750",
    "recipient_rpps": "10001234565",
    "patient": {
        "first_name": "Pierre",
        "last_name": "Dupont",
        "nir": "190095916511287",
        "gender": "M",
        "birth_date": "1990-09-12",
        "birth_place": "59165",
        "regime": "01",
        "caisse": "751",
        "centre": "0000",
        "gestion": "10",
        "phone": "0612345678",
        "email": "pierre.dupont@example.test",
    },
    "text": "Lésion pigmentée du dos apparue il y a trois mois, asymétrique, 8 mm. "
    "Photo jointe. Faut-il une exérèse ?",
    "context": {"patient_id": "demo-42"},
}
REPORT_TEXT = (
    "Lésion évocatrice d'un naevus atypique. Exérèse à visée diagnostique recommandée "
    "dans le mois, avec examen anatomopathologique. Surveillance cutanée annuelle."
)
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


def _png(width: int = 96, height: int = 72) -> bytes:
    """A small synthetic image (a warm gradient with a darker spot), made without Pillow."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            spot = (x - 52) ** 2 + (y - 34) ** 2 < 180
            r, g, b = (92, 58, 40) if spot else (236 - y // 3, 196 - x // 4, 172 - y // 4)
            rows += bytes((r, g, b))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows)))
        + chunk(b"IEND", b"")
    )


def _pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.cell(0, 10, "Courrier d'adressage (document fictif)")
    return bytes(pdf.output())


def _vendor_draft(api: httpx.Client) -> str:
    created = api.post("/api/interop/v1/drafts", json=VENDOR_DRAFT)
    created.raise_for_status()
    draft_id: str = created.json()["id"]
    files = [
        ("file", ("photo-dos.png", io.BytesIO(_png()), "image/png")),
        ("file", ("courrier.pdf", io.BytesIO(_pdf()), "application/pdf")),
    ]
    api.post(f"/api/interop/v1/drafts/{draft_id}/files/", files=files).raise_for_status()
    redirect_url: str = created.json()["redirect_url"]
    return redirect_url


def _shot(page: Page, out: Path, size: str, name: str, focus: str | None = None) -> None:
    """Desktop: the whole page. Phone: one screen, scrolled to what the step is about."""
    path = out / f"{size}-{name}.png"
    if size == "phone":
        if focus:
            page.locator(focus).evaluate("node => node.scrollIntoView({block: 'start'})")
            page.evaluate("window.scrollBy(0, -24)")
        page.screenshot(path=str(path))
    else:
        page.screenshot(path=str(path), full_page=True)
    print(f"wrote {path}")


def _story(page: Page, api: httpx.Client, base: str, out: Path, size: str) -> None:
    # The document's "Toutes les informations" example, on this sandbox.
    page.goto(f"{base}/interop/drafts/new#{fragment(FULL_EXAMPLE)}")
    page.locator("#link-report").wait_for(state="visible")
    _shot(page, out, size, "1-new-draft")

    page.goto(_vendor_draft(api))
    _shot(page, out, size, "2-sign-in")

    page.get_by_label("Dr Camille Durand").check()
    page.get_by_role("button", name="Se connecter").click()
    page.locator("#draft-form").wait_for()
    _shot(page, out, size, "3-review", focus="#files-title")

    page.get_by_role("button", name="Publier la demande").click()
    page.locator("#status[data-status='in_progress']").wait_for()
    _shot(page, out, size, "4-published", focus="#answer-title")

    page.get_by_label("Avis de l'expert").fill(REPORT_TEXT)
    page.get_by_role("button", name="Envoyer l'avis").click()
    page.locator("#status[data-status='completed']").wait_for()
    _shot(page, out, size, "5-completed", focus="#report-title")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        server = SandboxServer(Path(tmp) / "data").start("--log-level", "warning")
        headers = {"Authorization": "Bearer sandbox-key-a"}
        try:
            with (
                httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as api,
                sync_playwright() as playwright,
            ):
                browser = launch_chromium(playwright)
                for size, viewport in SIZES.items():
                    context = browser.new_context(viewport=viewport, locale="fr-FR")
                    _story(context.new_page(), api, server.base_url, args.out, size)
                    context.close()
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
