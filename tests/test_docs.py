"""The maps a newcomer trusts stay complete: every module is in the README's layout and in
docs/architecture.md."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(
    path.name
    for folder in (ROOT / "app", ROOT / "app" / "routes")
    for path in folder.glob("*.py")
    if path.name != "__init__.py"
)


@pytest.mark.parametrize("module", MODULES)
def test_readme_layout_names_every_module(module: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert module in readme.split("## Development", 1)[1]


@pytest.mark.parametrize("module", MODULES)
def test_architecture_names_every_module(module: str) -> None:
    assert module in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
