"""Screenshots of every page, from a real server and Debian's Chromium, for the README.

Run by hand (`make screenshots`) after changing a page or the stylesheet, then commit
docs/screenshots/. Starts `omnidoc-sandbox serve` on a free port with a temp data dir,
plays the whole story at desktop and phone width (the URL method's page prefilled from
the Omnidoc document's "Toutes les informations" example; then a vendor's draft from
the API: sign-in, review, published, completed), and writes one PNG per page and width.
Then, on a second fresh server, two vendors' synthetic activity (drafts in every state,
the document's wrong values answered 422, a webhook endpoint down then failing once) for
the dashboard's screenshots. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import io
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path

import httpx
from fpdf import FPDF
from playwright.sync_api import Browser, Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.browser import launch_chromium
from tests.e2e.server import SandboxServer
from tests.omnidoc_examples import FULL_EXAMPLE, fragment
from tests.receiver import Receiver

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


def _ready_draft(api: httpx.Client, patient: dict[str, str], **fields: str) -> str:
    body = {"author_rpps": "10002170750", "recipient_rpps": "10001234565", **fields}
    created = api.post("/api/interop/v1/drafts", json={**body, "patient": patient})
    created.raise_for_status()
    draft_id: str = created.json()["id"]
    return draft_id


def _move(api: httpx.Client, draft_id: str, *steps: str) -> None:
    for step in steps:
        api.post(f"/_sandbox/drafts/{draft_id}/{step}").raise_for_status()


def _wait_deliveries(api: httpx.Client, done: int) -> None:
    """Until `done` of the key's deliveries are no longer pending (long-poll, no sleep)."""
    cursor: str | None = None
    for _ in range(100):
        items = api.get("/_sandbox/webhooks/deliveries").json()["items"]
        if sum(item["status"] != "pending" for item in items) >= done:
            return
        # Held until anything changes (or a second), from the cursor last seen.
        params: dict[str, str | int] = {"wait": 1, **({"since": cursor} if cursor else {})}
        cursor = api.get("/_sandbox/admin/changes", params=params).json()["cursor"]
    raise RuntimeError("deliveries did not settle")


def _activity(base: str, a: httpx.Client, b: httpx.Client, receiver: Receiver) -> None:
    """Two vendors' day: drafts in every state, a 422, notifications failed and delivered."""
    a.put("/_sandbox/webhook", json={"url": f"{base}/_sandbox/inbox/vendor-a"})
    completed = _ready_draft(
        a, {"first_name": "Pierre", "last_name": "Dupont"}, text="Lésion pigmentée du dos."
    )
    files = [("file", ("photo-dos.png", io.BytesIO(_png()), "image/png"))]
    a.post(f"/api/interop/v1/drafts/{completed}/files/", files=files).raise_for_status()
    _move(a, completed, "visit", "publish")
    a.post(f"/_sandbox/drafts/{completed}/complete", json={"report_text": REPORT_TEXT})
    cancelled = _ready_draft(a, {"first_name": "Lucie", "last_name": "Bernard"})
    _move(a, cancelled, "visit", "cancel")
    # The document's own examples of wrong values: a 14-digit NIR, a 9-digit phone.
    wrong = {"first_name": "Louis", "last_name": "Dupont", "nir": "11111111111111"}
    a.post("/api/interop/v1/drafts", json={"patient": {**wrong, "phone": "066666666"}})
    page = {"patient_first_name": "Marc", "patient_last_name": "Petit", "recipient_rpps": ""}
    b.post("/interop/drafts/new", data=page, headers={"Origin": base})  # the URL page: no key
    # Vendor B's endpoint is down for one notification, then answers 503 once, then 204.
    b.put("/_sandbox/webhook", json={"url": "http://127.0.0.1:9/webhooks/omnidoc"})
    lost = _ready_draft(b, {"first_name": "Jeanne", "last_name": "Martin", "gender": "F"})
    _move(b, lost, "visit", "publish")
    _wait_deliveries(b, 1)
    receiver.secret = b.put("/_sandbox/webhook", json={"url": receiver.url}).json()["secret"]
    retried = _ready_draft(b, {"first_name": "Paul", "last_name": "Girard", "gender": "M"})
    _move(b, retried, "visit", "publish")
    _wait_deliveries(b, 2)
    _ready_draft(a, {"first_name": "Emma", "last_name": "Roux"})  # still temporary
    # Last, so its automatic answer is still due when the shot is taken.
    scenario = _ready_draft(
        a, {"first_name": "Hugo", "last_name": "Lefèvre"}, recipient_rpps="10006789019"
    )
    _move(a, scenario, "visit", "publish")


def _dashboard(page: Page, base: str, out: Path, size: str) -> None:
    page.goto(f"{base}/")
    page.locator("#drafts .autopilot:not([hidden])").first.wait_for()
    path = out / f"{size}-dashboard-1.png"
    page.screenshot(path=str(path))
    print(f"wrote {path}")
    with_errors = "#requests .item:has(.issues:not([hidden]))"  # the 422, on a phone
    focus = "#deliveries-title" if size == "desktop" else with_errors
    page.locator(focus).first.evaluate("node => node.scrollIntoView({block: 'start'})")
    page.evaluate("window.scrollBy(0, -24)")
    path = out / f"{size}-dashboard-2.png"
    page.screenshot(path=str(path))
    print(f"wrote {path}")


def _dashboard_shots(browser: Browser, out: Path) -> None:
    """A fresh server with two vendors' activity, shot at each width before it moves on."""
    env = {"OMNIDOC_WEBHOOK_RETRY_SCHEDULE": "1", "OMNIDOC_WEBHOOK_TIMEOUT": "2"}
    for size, viewport in SIZES.items():
        with tempfile.TemporaryDirectory() as tmp:
            server = SandboxServer(Path(tmp) / "data", env=env).start("--log-level", "warning")
            receiver = Receiver(statuses=[503]).start()
            base = server.base_url
            try:
                with (
                    httpx.Client(base_url=base, headers=_bearer("sandbox-key-a")) as a,
                    httpx.Client(base_url=base, headers=_bearer("sandbox-key-b")) as b,
                ):
                    _activity(base, a, b, receiver)
                context = browser.new_context(viewport=viewport, locale="fr-FR")
                _dashboard(context.new_page(), base, out, size)
                context.close()
            finally:
                receiver.stop()
                server.stop()


def _test_kit_activity(api: httpx.Client, base: str) -> str:
    """A session of vendor A: most of the flow right, the report never fetched."""
    session = api.post("/_sandbox/test-sessions", json={"resilience": True}).json()
    api.put("/_sandbox/webhook", json={"url": f"{base}/_sandbox/inbox/demo"})
    refused = api.post("/api/interop/v1/drafts", json={**VENDOR_DRAFT, "author_rpps": "1"})
    assert refused.status_code == 503  # the session's injected 503 (Retry-After: 2)
    time.sleep(2.2)
    assert (
        api.post("/api/interop/v1/drafts", json={**VENDOR_DRAFT, "author_rpps": "1"}).status_code
        == 422
    )
    created = api.post("/api/interop/v1/drafts", json=VENDOR_DRAFT).json()
    files = [
        ("file", ("photo.png", _png(), "image/png")),
        ("file", ("cr.pdf", _pdf(), "application/pdf")),
    ]
    api.post(f"/api/interop/v1/drafts/{created['id']}/files/", files=files)
    httpx.get(created["redirect_url"])
    _move(api, created["id"], "publish", "complete")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        got = api.get(f"/_sandbox/test-sessions/{session['id']}").json()
        if next(t for t in got["tests"] if t["name"] == "webhook_acknowledged")["result"] != "wait":
            break
        time.sleep(0.2)
    api.post(f"/_sandbox/test-sessions/{session['id']}/finish")
    return str(session["id"])


def _test_kit_shots(browser: Browser, out: Path) -> None:
    """The test session's page (desktop and phone) and the first page of its evidence PDF."""
    with tempfile.TemporaryDirectory() as tmp:
        server = SandboxServer(Path(tmp) / "data").start("--log-level", "warning")
        base = server.base_url
        try:
            with httpx.Client(base_url=base, headers=_bearer("sandbox-key-a"), timeout=30) as api:
                session_id = _test_kit_activity(api, base)
                pdf = api.get(f"/_sandbox/test-sessions/{session_id}/report.pdf").content
            for size, viewport in SIZES.items():
                context = browser.new_context(viewport=viewport, locale="fr-FR")
                page = context.new_page()
                page.goto(f"{base}/test-kit/sessions/{session_id}")
                _shot(page, out, size, "test-kit")
                context.close()
            _pdf_first_page(browser, pdf, out / "test-kit-report-pdf.png")
        finally:
            server.stop()


def _pdf_first_page(browser: Browser, pdf: bytes, path: Path) -> None:
    """Chromium's own PDF viewer, on the PDF as a file: the first page as the reader sees it."""
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "report.pdf"
        file.write_bytes(pdf)
        context = browser.new_context(viewport={"width": 900, "height": 1200})
        page = context.new_page()
        page.goto(file.as_uri())
        page.wait_for_timeout(2000)  # the viewer draws after load
        page.screenshot(path=str(path))
        context.close()
    print(f"wrote {path}")


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", choices=["test-kit"], help="Only these screenshots.")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only == "test-kit":
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            _test_kit_shots(browser, args.out)
            browser.close()
        return
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
                _dashboard_shots(browser, args.out)
                _test_kit_shots(browser, args.out)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
