"""What `omnidoc-sandbox serve` prints on its console (what `make run` and `docker logs`
show) for a call with a typo: the line a vendor looks at, free of the values sent."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.server import SandboxServer
from tests.helpers import AUTHOR, RECIPIENT

pytestmark = pytest.mark.e2e

NIR = "190095916511287"
LAST_NAME = "Zorglubovitch"


def _console_line(server: SandboxServer, start: str, timeout: float = 10.0) -> str:
    """The first console line containing `start`; the access log writes after the answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [line for line in server.log().splitlines() if start in line]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no console line with {start!r}:\n{server.log()}")


def test_serve_console_shows_a_typo_without_the_values(sandbox: SandboxServer) -> None:
    body = {"patient_nir": NIR, "patient": {"last_name": LAST_NAME}}
    response = httpx.post(
        f"{sandbox.base_url}/api/interop/v1/drafts",
        json=body,
        headers={"Authorization": "Bearer sandbox-key-a"},
    )
    assert response.status_code == 200
    line = _console_line(sandbox, "POST /api/interop/v1/drafts 200 ")
    assert " WARNING " in line
    assert line.endswith("| warnings: patient_nir unknown_field (did you mean patient.nir?)")
    assert NIR not in sandbox.log() and LAST_NAME not in sandbox.log()


def test_serve_console_keeps_client_keys_and_report_glyphs_out(sandbox: SandboxServer) -> None:
    """A key the client chose is shown as `[unknown]`; drawing a report with non-Latin-1
    text (fontTools subsets the font) prints no glyph names and no patient value."""
    headers = {"Authorization": "Bearer sandbox-key-a"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers) as api:
        patient = {"first_name": "Łucja", "last_name": "Żółwiński-Cœurdelion", "Plixouille": 1}
        body = {
            "author_rpps": AUTHOR,
            "recipient_rpps": RECIPIENT,
            "text": "Œdème ŁŻ",
            "patient": patient,
            "notes_Dupont2dba": 1,
        }
        created = api.post("/api/interop/v1/drafts", json=body)
        assert created.status_code == 200
        draft_id = created.json()["id"]
        for step in ("visit", "publish", "complete"):
            answer = api.post(f"/_sandbox/drafts/{draft_id}/{step}", json={})
            assert answer.status_code == 200, answer.text
        pdf = api.get(f"/api/interop/v1/drafts/{draft_id}/report")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    _console_line(sandbox, f"GET /api/interop/v1/drafts/{draft_id}/report 200 ")
    line = _console_line(sandbox, "POST /api/interop/v1/drafts 200 ")
    assert "warnings: patient.[unknown] unknown_field, [unknown] unknown_field" in line
    console = sandbox.log()
    assert "Glyph names" not in console and "fontTools" not in console
    for sent in ("Plixouille", "notes_Dupont2dba", "Dupont", "Łucja", "Żółwiński", "Œdème"):
        assert sent not in console, sent
    for glyph in ("Lslash", "Zdotaccent", "OE", "oe"):
        assert f"'{glyph}'" not in console, glyph
