"""Schemathesis against a real server: every check, on every operation of docs/openapi.json.

Bounded (a fixed seed and a few examples per operation) so that it stays a test of the
contract, not a load test. Explore further by hand with the same command, more examples
and other seeds (README, "Development").
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import SandboxServer
from tests.helpers import KEY_A

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "openapi.json"
CONFIG = Path(__file__).parent / "schemathesis.toml"
MAX_EXAMPLES = 15
SEED = 20261126


def test_schemathesis_finds_nothing(sandbox: SandboxServer, tmp_path: Path) -> None:
    operations = sum(len(methods) for methods in json.loads(DOCUMENT.read_text())["paths"].values())
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file", str(CONFIG),
        "run", str(DOCUMENT),
        "--url", sandbox.base_url,
        "--header", f"Authorization: Bearer {KEY_A}",
        "--checks", "all",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED),
        "--generation-database", "none",
        "--no-color",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert f"Selected: {operations}/{operations}" in report, report
    assert f"Tested: {operations}" in report, report
