"""The wheel ships what the code needs: every package of app/ with its modules, the
templates, static files, fonts and fixtures, and each module imports from it alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Starts processes (pip builds the wheel, a fresh interpreter imports it): out of test-fast.
pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"


def _source_files(suffixes: tuple[str, ...] | None = None) -> set[str]:
    """Files under app/ (symlinked folders followed) as wheel paths, caches left out."""
    found = set()
    for folder, _, files in os.walk(APP, followlinks=True):  # app/fixtures is a symlink
        for name in files:
            path = Path(folder, name)
            if "__pycache__" in path.parts:
                continue
            if suffixes is not None and path.suffix not in suffixes:
                continue
            found.add(path.relative_to(ROOT).as_posix())
    return found


def _module_names() -> list[str]:
    names = []
    for path in sorted(APP.rglob("*.py")):
        if "__pycache__" in path.parts or path.name == "__main__.py":
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources, which
    # another build (another test process, a developer's) may be using at the same time.
    source = tmp_path_factory.mktemp("source")
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(APP, source / "app", symlinks=True, ignore=skip)
    shutil.copytree(ROOT / "fixtures", source / "fixtures", ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "wheel"]
    build = subprocess.run(
        [*pip, "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (built,) = out.glob("omnidoc_sandbox-*.whl")
    yield built


def _names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_wheel_contains_every_module_of_every_package(wheel: Path) -> None:
    modules = _source_files((".py",))
    assert modules  # the walk found the sources
    assert modules <= _names(wheel)


def test_wheel_contains_every_package_init(wheel: Path) -> None:
    packages = {p.parent.relative_to(ROOT).as_posix() for p in APP.rglob("__init__.py")}
    assert {"app/http", "app/drafts", "app/notifications", "app/pages"} <= packages
    assert {f"{package}/__init__.py" for package in packages} <= _names(wheel)


def test_wheel_contains_templates_static_files_fonts_and_fixtures(wheel: Path) -> None:
    data = _source_files() - _source_files((".py", ".pyc"))
    kinds = {
        "app/pages/templates/",
        "app/pages/static/",
        "app/reports/fonts/",
        "app/fixtures/",
    }
    for kind in kinds:
        assert any(name.startswith(kind) for name in data), kind  # the source has some
    assert "app/fixtures/default.yaml" in data
    assert "app/reports/fonts/DejaVuSans.ttf" in data
    assert data <= _names(wheel)


def test_wheel_imports_every_module_outside_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    """Unzipped on its own sys.path, in a process started from elsewhere: each module
    imports from the wheel, and the packaged files are found beside it."""
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    script = (
        "import importlib, sys\n"
        # -S: no .pth file runs, so the editable install cannot point `app` back here.
        f"sys.path = [{str(target)!r}, *sys.path, {sysconfig.get_paths()['purelib']!r}]\n"
        "names = sys.argv[1:]\n"
        "for name in names:\n"
        "    module = importlib.import_module(name)\n"
        f"    assert module.__file__.startswith({str(target)!r}), module.__file__\n"
        "from app.config import PACKAGED_FIXTURES\n"
        "from app.fixtures import load_fixtures\n"
        "assert load_fixtures(PACKAGED_FIXTURES).api_keys\n"
        "print(len(names))\n"
    )
    names = _module_names()
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script, *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(len(names))
