"""The maps a newcomer trusts stay complete: every module is in the README's layout and in
docs/architecture.md; the README's examples hold together (tests/e2e/test_readme.py runs
them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.longpoll import MAX_WAIT_SECONDS
from tests.readme import blocks, section

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


def test_readme_long_polls_fit_the_client_timeout() -> None:
    """A `wait` longer than httpx's timeout (5 s by default) raises ReadTimeout."""
    setup = blocks("python", section("## Calls, with curl and Python"))[0].source
    client_timeout = int(re.search(r"timeout=(\d+)", setup).group(1))  # type: ignore[union-attr]
    waits = [
        float(wait)
        for block in blocks("python")
        for wait in re.findall(r"""["']wait["']: *([\d.]+)""", block.source)
    ]
    assert waits, "the README shows no long poll any more: update this test"
    assert max(waits) < client_timeout
    assert client_timeout > MAX_WAIT_SECONDS  # any wait a reader may try
