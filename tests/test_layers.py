"""The allowed dependencies between the project's packages (an import-linter style contract,
read from every module's imports without running them):

- `stack` is the launcher: it sets up, trains, starts and supervises. Nothing but the launcher
  itself, the tests and the benchmarks may import it, so a service never depends on how it was
  started.
- `common` holds what every service shares (settings, logs, secrets, masking) and imports none
  of the project's packages, so any service can use it without pulling in another.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from common.settings import PROJECT_ROOT

SKIPPED = {".venvs", "node_modules", "models", "var", ".git", "__pycache__"}
MAY_IMPORT_STACK = {"stack", "tests", "bench"}


def packages() -> set[str]:
    """The project's top-level packages and modules."""
    found = {path.name for path in PROJECT_ROOT.iterdir()
             if path.is_dir() and (path / "__init__.py").exists()}
    return found | {"tests", "bench"}


def modules() -> Iterator[Path]:
    for path in PROJECT_ROOT.rglob("*.py"):
        relative = path.relative_to(PROJECT_ROOT)
        if not SKIPPED.intersection(relative.parts) and len(relative.parts) > 1:
            yield relative


def imported(relative: Path) -> Iterator[tuple[str, int]]:
    """(top-level name, line) of every import, relative imports resolved."""
    tree = ast.parse((PROJECT_ROOT / relative).read_text(encoding="utf-8"), str(relative))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from . import x: inside the module's own package
                yield relative.parts[0], node.lineno
            elif node.module:
                yield node.module.split(".")[0], node.lineno


def violations(rule: str) -> list[str]:
    project = packages()
    found = []
    for relative in modules():
        package = relative.parts[0]
        for name, line in imported(relative):
            if name == package or name not in project:
                continue
            if rule == "stack" and name == "stack" and package not in MAY_IMPORT_STACK:
                found.append(f"{relative}:{line} imports stack")
            if rule == "common" and package == "common":
                found.append(f"{relative}:{line} imports {name}")
    return found


def test_only_the_launcher_tests_and_benchmarks_import_stack() -> None:
    assert violations("stack") == []


def test_common_imports_no_project_package() -> None:
    assert violations("common") == []


def test_the_contract_sees_the_imports_it_checks() -> None:
    """The walk finds real imports, so an empty list above means something."""
    launcher = dict(imported(Path("stack/__main__.py")))
    assert "stack" in launcher and "common" in launcher
    assert {"stack", "common", "storage", "staff"} <= packages()
