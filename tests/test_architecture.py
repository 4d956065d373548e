"""The layers of docs/architecture.md hold, so CI enforces them too (not only `make check`)."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ews"
INTERFACES = ("cli", "api", "web")


def test_import_contracts_are_kept(capsys: pytest.CaptureFixture[str]) -> None:
    from importlinter.cli import lint_imports

    cwd = Path.cwd()
    os.chdir(ROOT)  # import-linter reads pyproject.toml from the working directory
    try:
        code = lint_imports(no_cache=True, no_logo=True)
    finally:
        os.chdir(cwd)
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert re.search(r"Contracts: (\d+) kept, 0 broken", printed), printed
    kept = int(re.search(r"Contracts: (\d+) kept", printed).group(1))  # type: ignore[union-attr]
    assert kept >= 3


def _store_calls(path: Path) -> list[str]:
    """Calls of the store's SQL methods and SQL string literals in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"query", "scalar", "execute", "sql"}
            and "store" in ast.unparse(node.func.value)
        ):
            found.append(f"{path.name}:{node.lineno} {ast.unparse(node.func)}")
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE)\s", node.value)
        ):
            found.append(f"{path.name}:{node.lineno} SQL literal")
    return found


@pytest.mark.parametrize("package", INTERFACES)
def test_no_sql_in_interface_packages(package: str) -> None:
    """The CLI, the API and the dashboard read through each stage's read side."""
    hits = [hit for f in sorted((PACKAGE / package).rglob("*.py")) for hit in _store_calls(f)]
    assert hits == []


def test_the_sql_detector_finds_sql() -> None:
    """The check above can fail: it finds the SQL in a stage's read side."""
    assert _store_calls(PACKAGE / "alerts" / "repository.py")


def test_stages_have_no_command_modules() -> None:
    assert sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("commands.py")) == []
