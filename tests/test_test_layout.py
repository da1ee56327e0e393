"""The test suite's own layout: shared code lives in `tests/helpers/` (or the fakes of outside
platforms in `tests/fakes/`), never in a test module or a conftest that others import.

Importing a test module from another runs its module-level code twice under two names (pytest
imports it once by itself) and hides which code is a test and which is a tool."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SHARED = ("helpers", "fakes")


def _python_files() -> list[Path]:
    return sorted(path for path in TESTS.rglob("*.py") if "__pycache__" not in path.parts)


def _imported_modules(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def _is_test_code(module: str) -> bool:
    """`module` names one of the suite's test modules or conftests (by any import path)."""
    local = {path.stem for path in _python_files()
             if path.name.startswith("test_") or path.name == "conftest.py"}
    return any(part in local for part in module.split("."))


def test_no_module_imports_a_test_module_or_a_conftest():
    offenders = [f"{path.relative_to(TESTS)} imports {module}"
                 for path in _python_files() for module in _imported_modules(path)
                 if _is_test_code(module)]
    assert not offenders, "shared test code belongs in tests/helpers/:\n" + "\n".join(offenders)


def test_every_file_is_a_test_a_conftest_or_shared_code():
    stray = [str(path.relative_to(TESTS)) for path in _python_files()
             if not (path.name.startswith("test_") or path.name == "conftest.py"
                     or path.relative_to(TESTS).parts[0] in SHARED)]
    assert not stray, f"move these into tests/helpers/: {stray}"
