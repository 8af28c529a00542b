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
APP = ROOT / "app"
# Every module by its path under app/: `cli.py`, `drafts/service.py`.
MODULES = sorted(
    str(path.relative_to(APP)) for path in APP.rglob("*.py") if path.name != "__init__.py"
)
PACKAGES = sorted(path.parent.name for path in APP.glob("*/__init__.py"))


@pytest.mark.parametrize("module", MODULES)
def test_architecture_names_every_module(module: str) -> None:
    assert f"`{module}`" in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", PACKAGES + [m for m in MODULES if "/" not in m])
def test_readme_layout_names_every_package_and_shared_module(name: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Development", 1)[1]
    assert name in layout


def test_architecture_lists_the_packages_as_the_import_test_does() -> None:
    """The table of docs/architecture.md and tests/test_architecture.py's LAYERS agree."""
    from tests.test_architecture import LAYERS

    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = [m for m in re.findall(r"^\| `([a-z_]+)/` \|", doc, flags=re.M)]
    assert listed == [layer for layer in LAYERS if layer not in ("main", "cli")]


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
