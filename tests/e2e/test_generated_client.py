"""A vendor's view of docs/openapi.json: generate a Python client, install it in a fresh
venv, and run the whole flow with it alone against a real server (client_flow.py), then
every operation of the document with its minimal call."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.e2e.server import SandboxServer
from tests.readme import SANDBOX_URL, first_python_block

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "openapi.json"
CONFIG = ROOT / "docs" / "openapi-python-client.yaml"
# What the generated package needs at run time, at the versions the dev lock pins.
CLIENT_DEPENDENCIES = ("httpx", "attrs")
PACKAGE = "omnidoc_sandbox_client"  # docs/openapi-python-client.yaml names it


def _pinned(name: str) -> str:
    lock = (ROOT / "requirements-dev.lock").read_text()
    found = re.search(rf"^{re.escape(name)}==(\S+)$", lock, re.MULTILINE)
    assert found, f"{name} is not pinned in requirements-dev.lock"
    return f"{name}=={found.group(1)}"


def _run(*command: str | Path, cwd: Path | None = None) -> str:
    # The generator formats its output with ruff, found on PATH: this venv's.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def _operation_names() -> set[str]:
    """The document's operations as the generator names their modules: create_draft."""
    document = json.loads(DOCUMENT.read_text())
    ids = [op["operationId"] for methods in document["paths"].values() for op in methods.values()]
    return {re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower() for name in ids}


def test_generated_client_runs_the_whole_flow(sandbox: SandboxServer, tmp_path: Path) -> None:
    generator = Path(sys.executable).parent / "openapi-python-client"
    generated = _run(
        generator, "generate", "--path", DOCUMENT, "--config", CONFIG, "--meta", "none",
        cwd=tmp_path,
    )  # fmt: skip
    assert "Warning" not in generated, generated  # every operation and response generated

    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    _run(python, "-m", "pip", "install", "-q", *(_pinned(name) for name in CLIENT_DEPENDENCIES))
    # A pure-Python package: installing it is placing it in the venv's site-packages.
    site_packages = _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    shutil.copytree(tmp_path / PACKAGE, Path(site_packages.strip()) / PACKAGE)

    out = _run(python, Path(__file__).parent / "client_flow.py", sandbox.base_url, cwd=tmp_path)
    assert "client flow ok" in out
    called = out.split("called:", 1)[1].split()
    assert set(called) == _operation_names()  # every operation, none forgotten

    # The README's example, as printed but for the address, with the same client.
    example = first_python_block("## Generate a client").replace(SANDBOX_URL, sandbox.base_url)
    (tmp_path / "readme_example.py").write_text(example)
    _run(python, tmp_path / "readme_example.py", cwd=tmp_path)
