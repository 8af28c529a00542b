"""The map the code obeys (docs/architecture.md): no package imports one above it, the
shared modules import no package, no import circle, no framework's private module."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"

# Top to bottom, as docs/architecture.md lists them: a package imports its own modules,
# the packages below it and the shared modules; never one above it.
LAYERS = [
    "main",
    "cli",
    "admin",
    "testkit",
    "pages",
    "sandbox",
    "receiver_checks",
    "drafts",
    "notifications",
    "reports",
    "http",
]
ENTRY_POINTS = {"main", "cli", "__main__"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in APP.rglob("*.py"):
        parts = path.relative_to(APP).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(("app", *parts))] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every `app.…` module this file imports, at any depth (lazy imports count too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                yield node.lineno, full if full in MODULES else node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def _room(module: str) -> str:
    """The package a module lives in, or its own name for a shared module of app/."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "app"


def _rank(room: str) -> int:
    if room in ("main", "__main__"):
        return 0
    return LAYERS.index(room) if room in LAYERS else len(LAYERS)  # shared: the floor


def test_every_package_is_on_the_map() -> None:
    packages = {p.parent.name for p in APP.glob("*/__init__.py")}
    assert packages <= set(LAYERS), f"add {packages - set(LAYERS)} to LAYERS and the docs"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str) -> None:
    room = _room(module)
    wrong = []
    for line, imported in _imports(MODULES[module]):
        if not imported.startswith("app.") or imported not in MODULES:
            continue
        target = _room(imported)
        if target == room or room in ENTRY_POINTS:
            continue
        if _rank(target) < _rank(room) or (room not in LAYERS and target in LAYERS):
            wrong.append(f"line {line}: {imported}")
    assert not wrong, f"{module} imports upward: {wrong}"


@pytest.mark.parametrize("package", sorted(p.parent.name for p in APP.glob("*/__init__.py")))
def test_package_init_is_empty_of_imports(package: str) -> None:
    tree = ast.parse((APP / package / "__init__.py").read_text(encoding="utf-8"))
    assert not [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]


def test_no_import_circle() -> None:
    graph = {
        module: {t for _, t in _imports(path) if t in MODULES and t not in (module, "app")}
        for module, path in MODULES.items()
    }
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            cycle = [*trail[trail.index(module) :], module]
            raise AssertionError("import circle: " + " -> ".join(cycle))
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, [*trail, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_framework_import(module: str) -> None:
    private = [
        name
        for _, name in _imports(MODULES[module])
        if name.split(".")[0] in {"fastapi", "starlette", "uvicorn", "pydantic", "sqlmodel"}
        and any(part.startswith("_") for part in name.split("."))
    ]
    assert not private, f"{module} imports a framework's private module: {private}"
