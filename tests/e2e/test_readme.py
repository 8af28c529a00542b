"""The README's vendor integration test runs, as printed, against a real server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import SandboxServer

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"


def _python_block_after(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    start = section.index("```python\n") + len("```python\n")
    return section[start : section.index("```\n", start)]


def test_readme_vendor_example_passes(sandbox: SandboxServer, tmp_path: Path) -> None:
    source = _python_block_after("## A vendor's integration test (pytest)")
    assert 'SANDBOX = "http://127.0.0.1:8000"' in source
    vendor_test = tmp_path / "test_vendor.py"
    vendor_test.write_text(source.replace("http://127.0.0.1:8000", sandbox.base_url))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(vendor_test)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_readme_scenario_practitioner_example_runs(sandbox: SandboxServer, tmp_path: Path) -> None:
    setup = _python_block_after("## Calls, with curl and Python")  # defines `api`
    example = _python_block_after("### Scenario practitioners (automatic answers)")
    script = tmp_path / "scenario.py"
    script.write_text((setup + example).replace("http://127.0.0.1:8000", sandbox.base_url))
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("Z")  # autopilot_due_at, printed
