"""`redocly lint` (recommended rules, redocly.yaml) finds no error in docs/openapi.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e import npm

pytestmark = pytest.mark.e2e  # an external tool, installed with npm: not the quick loop

ROOT = Path(__file__).resolve().parents[2]


def test_redocly_lint_finds_no_error() -> None:
    redocly = npm.tools() / "redocly"
    command = (redocly, "lint", "--config", ROOT / "redocly.yaml", "--format", "json")
    quiet = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    output = npm.run(*command, ROOT / "docs" / "openapi.json", cwd=ROOT, env=quiet)
    report = json.loads(output)
    errors = [problem for problem in report["problems"] if problem["severity"] == "error"]
    assert report["totals"]["errors"] == 0 and not errors, json.dumps(errors, indent=2)
