"""What `omnidoc-sandbox serve` prints on its console (what `make run` and `docker logs`
show) for a call with a typo: the line a vendor looks at, free of the values sent."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.server import SandboxServer

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
