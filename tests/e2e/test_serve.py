"""The real console script, a real socket, the Omnidoc document's curl example."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import MakeServer, SandboxServer, console_script

pytestmark = pytest.mark.e2e

# The document's "Exemple de requête API", verbatim but for the shell variables.
DOC_CURL = (
    'curl -s -w "\\n%{http_code}" -X POST -H "Authorization: Bearer $API_KEY" '
    '-H "Content-Type: application/json" $API_URL/ -d '
    '\'{"author_rpps": "%s", "patient": {"first_name": "Jeanne", '
    '"last_name": "Dupuis"}, "context": {"id": "1234"}}\''
)


def _post_document_example(base_url: str, author_rpps: str) -> tuple[int, dict[str, Any]]:
    """Run the document's curl line when curl exists, else send the same bytes with httpx."""
    api_url = f"{base_url}/api/interop/v1/drafts"
    if shutil.which("curl"):
        out = subprocess.run(
            ["bash", "-c", DOC_CURL.replace("%s", author_rpps)],
            env={"API_KEY": "sandbox-key-a", "API_URL": api_url, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        body, status = out.rsplit("\n", 1)
        return int(status), json.loads(body)
    payload = DOC_CURL.split("-d '")[1].rstrip("'").replace("%s", author_rpps)
    response = httpx.post(
        api_url + "/",
        content=payload.encode(),
        headers={"Authorization": "Bearer sandbox-key-a", "Content-Type": "application/json"},
    )
    return response.status_code, response.json()


def test_document_curl_example_with_a_fixture_rpps(sandbox: SandboxServer) -> None:
    status, body = _post_document_example(sandbox.base_url, "10002170750")
    assert status == 200
    assert set(body) == {"id", "redirect_url"}
    assert body["redirect_url"] == f"{sandbox.base_url}/interop/drafts/{body['id']}"


def test_document_curl_example_as_printed_gets_422(sandbox: SandboxServer) -> None:
    status, body = _post_document_example(sandbox.base_url, "1111111111")
    assert status == 422
    assert body["code"] == "validation_failed"
    assert body["errors"] == [
        {"field": "author_rpps", "code": "rpps_format", "message": body["errors"][0]["message"]}
    ]


def test_serve_keeps_drafts_across_restarts(sandbox: SandboxServer) -> None:
    status, body = _post_document_example(sandbox.base_url, "10002170750")
    assert status == 200
    sandbox.stop()
    sandbox.start()
    view = httpx.get(
        f"{sandbox.base_url}/api/interop/v1/drafts/{body['id']}",
        headers={"Authorization": "Bearer sandbox-key-a"},
    )
    assert view.json()["context"] == {"id": "1234"}


def test_serve_keeps_every_acknowledged_draft_when_killed(sandbox: SandboxServer) -> None:
    """Creates race in from 8 clients, so they share group commits; SIGKILL mid-stream loses
    none that got its 200 (the answer leaves only once its group is committed)."""
    url = f"{sandbox.base_url}/api/interop/v1/drafts"
    headers = {"Authorization": "Bearer sandbox-key-a"}
    acknowledged: list[str] = []
    enough = threading.Event()

    def create_until_killed() -> None:
        with httpx.Client(headers=headers, timeout=10) as client:
            while True:
                try:
                    response = client.post(url, json={"context": {"id": "kill-test"}})
                except httpx.TransportError:  # the server is gone: this call was not acknowledged
                    return
                assert response.status_code == 200, response.text
                acknowledged.append(response.json()["id"])
                if len(acknowledged) >= 200:
                    enough.set()

    senders = [threading.Thread(target=create_until_killed) for _ in range(8)]
    for sender in senders:
        sender.start()
    assert enough.wait(timeout=60), "the server stopped answering"
    sandbox.stop(signal.SIGKILL)  # while the clients are still sending
    for sender in senders:
        sender.join(timeout=30)
    sandbox.start()
    with httpx.Client(headers=headers) as client:
        missing = [
            draft_id
            for draft_id in acknowledged
            if client.get(f"{url}/{draft_id}").status_code != 200
        ]
    assert missing == []


def test_serve_banner_and_logs_hold_no_patient_data(sandbox: SandboxServer) -> None:
    _post_document_example(sandbox.base_url, "10002170750")
    httpx.get(f"{sandbox.base_url}/readyz?patient_last_name=Dupuis")
    sandbox.stop()
    log = sandbox.log()
    assert "sandbox-key-a (Vendor A)" in log
    assert "/docs" in log
    assert "POST /api/interop/v1/drafts/ 200" in log
    assert "Jeanne" not in log
    assert "Dupuis" not in log


def test_python_dash_m_app_is_the_same_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "--help"], capture_output=True, text=True, check=True
    )
    assert "serve" in result.stdout
    assert "reset" in result.stdout


def test_serve_refuses_a_broken_fixtures_file(tmp_path: Path) -> None:
    broken = tmp_path / "fixtures.yaml"
    broken.write_text(
        "api_keys:\n  - key: k1\n    name: One\n  - key: k1\n    name: Two\npractitioners: []\n"
    )
    result = subprocess.run(
        [console_script(), "serve", "--port", "1"],
        env={"OMNIDOC_FIXTURES": str(broken), "OMNIDOC_DATA_DIR": str(tmp_path / "d")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert str(broken) in result.stderr
    assert "api_keys[1]" in result.stderr
    assert "'key'" in result.stderr
    assert "Traceback" not in result.stderr


def test_reset_on_a_running_server(sandbox: SandboxServer) -> None:
    status, body = _post_document_example(sandbox.base_url, "10002170750")
    assert status == 200
    env = {k: v for k, v in sandbox.env.items() if k.startswith("OMNIDOC_") or k == "PATH"}
    result = subprocess.run(
        [console_script(), "reset", "--yes"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    headers = {"Authorization": "Bearer sandbox-key-a"}
    gone = httpx.get(f"{sandbox.base_url}/api/interop/v1/drafts/{body['id']}", headers=headers)
    assert gone.json()["code"] == "draft_not_found"
    assert httpx.get(f"{sandbox.base_url}/readyz").status_code == 200
    status, _ = _post_document_example(sandbox.base_url, "10002170750")
    assert status == 200


def test_serve_on_a_busy_port_says_so(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [console_script(), "serve", "--port", str(port)],
            env={"OMNIDOC_DATA_DIR": str(tmp_path / "d"), "PATH": os.defpath},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert "listening on" not in result.stdout
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"--port {port + 1}" in result.stderr
    assert f"make run PORT={port + 1}" in result.stderr
    assert "Errno" not in result.stderr
    assert "Traceback" not in result.stderr


def test_make_run_passes_host_and_port() -> None:
    make = shutil.which("make")
    assert make, "make is one of the two set-up commands (README)"
    result = subprocess.run(
        [make, "-n", "run", "PORT=18300", "HOST=0.0.0.0"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "omnidoc-sandbox serve --host 0.0.0.0 --port 18300" in result.stdout


EXPOSED = "is reachable beyond this machine and OMNIDOC_ADMIN_TOKEN is unset"


def test_serve_beyond_loopback_without_a_token_warns(make_server: MakeServer) -> None:
    """SPEC §7: a warning naming OMNIDOC_ADMIN_TOKEN before serving; the banner says the
    address really bound and that the admin scope is open (issue 19, item 7)."""
    server = make_server({"OMNIDOC_ADMIN_TOKEN": ""}, "--host", "0.0.0.0")
    log = server.log()
    warning = f"WARNING: --host 0.0.0.0 {EXPOSED}"
    assert warning in log
    assert log.index(warning) < log.index("Uvicorn running on")  # said before serving
    assert f"listening on http://0.0.0.0:{server.port} (every interface" in log
    assert "admin    : open (OMNIDOC_ADMIN_TOKEN unset)" in log
    # The Host allowlist on the real server: a name that resolves here is not enough.
    forged = httpx.get(f"{server.base_url}/healthz", headers={"Host": "rebind.example:80"})
    assert forged.status_code == 400
    assert forged.json()["code"] == "host_not_allowed"
    assert httpx.get(f"{server.base_url}/healthz").status_code == 200


def test_serve_on_loopback_with_a_short_token(make_server: MakeServer) -> None:
    server = make_server({"OMNIDOC_ADMIN_TOKEN": "short-token"})
    log = server.log()
    assert "admin    : protected by OMNIDOC_ADMIN_TOKEN" in log
    assert "WARNING: OMNIDOC_ADMIN_TOKEN is 11 characters long: use at least 16" in log
    assert "short-token" not in log  # the token itself is never printed
    assert EXPOSED not in log


def test_serve_on_loopback_without_a_token_does_not_warn(sandbox: SandboxServer) -> None:
    log = sandbox.log()
    assert f"listening on http://127.0.0.1:{sandbox.port}\n" in log
    assert "admin    : open (OMNIDOC_ADMIN_TOKEN unset)" in log
    assert "WARNING" not in log
