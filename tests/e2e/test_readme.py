"""The README's examples run as printed against a real server: every python block in order,
the curl walkthrough and the first call as shell scripts, the vendor test with pytest.
They share one server, as a reader's session would (each example makes its own drafts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import SandboxServer
from tests.readme import SANDBOX_URL, Block, blocks, first_python_block, section

pytestmark = pytest.mark.e2e

PNG = b"\x89PNG\r\n\x1a\n" + b"synthetic"
PDF = b"%PDF-1.4\n%synthetic\n%%EOF\n"

# Each python block runs in one namespace, after the ones above it, as a reader would
# paste them into one interpreter. Every HTTP answer is recorded so that a call the
# README does not expect to fail cannot fail silently.
RUNNER = """
import json, sys
import httpx

answers = []
_send = httpx.Client.send


def send(self, request, **kwargs):
    response = _send(self, request, **kwargs)
    answers.append([request.method, request.url.path, response.status_code])
    return response


httpx.Client.send = send
namespace = {"__name__": "readme"}
for block in json.load(open(sys.argv[1])):
    # Padded so that a traceback names the block's own lines of README.md.
    code = compile("\\n" * (block["line"] - 1) + block["source"], "README.md", "exec")
    exec(code, namespace)
json.dump(answers, open(sys.argv[2], "w"))
"""

# The one failure the README's python blocks cause on purpose: an injected fault.
EXPECTED_FAILURES = [["POST", "/api/interop/v1/drafts", 429]]

# In the suite, curl fails on an HTTP error (the README's commands, run by hand, show it).
SHELL_PRELUDE = """set -euo pipefail
curl() { command curl --fail-with-body "$@"; }
"""


def _files(folder: Path) -> None:
    for name in ("a.png", "b.png", "c.png"):
        (folder / name).write_bytes(PNG)
    (folder / "b.pdf").write_bytes(PDF)


def _at(server: SandboxServer, source: str) -> str:
    return source.replace(SANDBOX_URL, server.base_url)


def _run_shell(server: SandboxServer, folder: Path, sh_blocks: list[Block]) -> str:
    script = folder / "walkthrough.sh"
    script.write_text(SHELL_PRELUDE + "".join(_at(server, b.source) for b in sh_blocks))
    result = subprocess.run(
        ["bash", "-e", str(script)], cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_readme_marks_few_blocks_not_run() -> None:
    skipped = [block for block in blocks("python") if block.not_run is not None]
    assert len(skipped) <= 2, [block.line for block in skipped]
    assert all(block.not_run for block in skipped)  # each says why
    assert len(blocks("python")) - len(skipped) >= 10


def test_readme_python_blocks_run_in_order(module_sandbox: SandboxServer, tmp_path: Path) -> None:
    _files(tmp_path)
    runnable = [
        {"line": block.line, "source": _at(module_sandbox, block.source)}
        for block in blocks("python")
        if block.not_run is None
    ]
    (tmp_path / "blocks.json").write_text(json.dumps(runnable))
    (tmp_path / "runner.py").write_text(RUNNER)
    result = subprocess.run(
        [sys.executable, "runner.py", "blocks.json", "answers.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    answers = json.loads((tmp_path / "answers.json").read_text())
    assert [answer for answer in answers if answer[2] >= 400] == EXPECTED_FAILURES
    assert "unknown_field" in result.stdout  # the journal example printed the typo
    assert result.stdout.rstrip().endswith("Z")  # the scenario example printed its due time


def test_readme_curl_walkthrough_runs(module_sandbox: SandboxServer, tmp_path: Path) -> None:
    _files(tmp_path)
    sh_blocks = blocks("sh", section("## Calls, with curl and Python"))
    out = _run_shell(module_sandbox, tmp_path, sh_blocks)
    assert (tmp_path / "cr.pdf").read_bytes().startswith(b"%PDF-")  # the completed draft's
    assert "telexpertise.status_changed" in out  # the redelivered event, in the inbox
    assert out.rstrip().endswith('{"deleted":1}')  # the last command: the fault rule removed


def test_readme_first_call_leads_to_a_report(module_sandbox: SandboxServer, tmp_path: Path) -> None:
    out = _run_shell(module_sandbox, tmp_path, blocks("sh", section("### First call")))
    assert '"redirect_url"' in out
    assert '"status":"completed"' in out
    assert (tmp_path / "cr.pdf").read_bytes().startswith(b"%PDF-")


def test_readme_vendor_example_passes(module_sandbox: SandboxServer, tmp_path: Path) -> None:
    # A teammate shares key A: a draft of theirs, their webhook registration.
    auth = {"Authorization": "Bearer sandbox-key-a"}
    with httpx.Client(base_url=module_sandbox.base_url, headers=auth, timeout=30) as api:
        theirs = api.post("/api/interop/v1/drafts", json={}).json()["id"]
        hook = {"url": f"{module_sandbox.base_url}/_sandbox/inbox/teammate"}
        registered = api.put("/_sandbox/webhook", json=hook).json()

        source = first_python_block("## A vendor's integration test (pytest)")
        vendor_test = tmp_path / "test_vendor.py"
        vendor_test.write_text(source)  # as printed: the address comes from SANDBOX_URL
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(vendor_test)],
            cwd=tmp_path,
            env={**os.environ, "SANDBOX_URL": module_sandbox.base_url},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "1 passed" in result.stdout

        # Nothing of the teammate's was wiped or redirected.
        assert api.get(f"/api/interop/v1/drafts/{theirs}").status_code == 200
        assert api.get("/_sandbox/webhook").json() == registered
        assert api.delete("/_sandbox/webhook").json() == {"url": None, "secret": None}


def test_readme_vendor_example_leaves_no_webhook_behind(
    module_sandbox: SandboxServer, tmp_path: Path
) -> None:
    # Alone on key B (no webhook before): none after, even though the test registered one.
    (tmp_path / "test_vendor.py").write_text(
        first_python_block("## A vendor's integration test (pytest)")
    )
    env = {**os.environ, "SANDBOX_URL": module_sandbox.base_url, "SANDBOX_KEY": "sandbox-key-b"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_vendor.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    auth = {"Authorization": "Bearer sandbox-key-b"}
    answer = httpx.get(f"{module_sandbox.base_url}/_sandbox/webhook", headers=auth)
    assert answer.json() == {"url": None, "secret": None}


def test_readme_warns_where_a_reset_is_destructive() -> None:
    for heading in (
        "## Dashboard and admin scope",
        "### Start again: reset your key (sandbox-defined)",
    ):
        text = section(heading)
        assert "share" in text and ("destructive" in text or "wipes what anyone" in text)
