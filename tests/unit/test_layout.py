"""The layout's rule, checked: imports point from the workstation tool and the sandbox to the Lambda core,
never back, and the core imports nothing the Lambda asset does not carry."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {
    "rootwatch": REPO / "lambdas" / "rootwatch",
    "rootwatch_cli": REPO / "cli" / "rootwatch_cli",
    "rootwatch_sandbox": REPO / "sandbox" / "rootwatch_sandbox",
}
#: What the Lambda core may import besides the standard library and itself: the asset's SDK and the layer.
CORE_THIRD_PARTY = {"boto3", "botocore", "aws_lambda_powertools", "pydantic", "typing_extensions", "mypy_boto3"}


def _imports(folder: Path) -> dict[str, set[str]]:
    """``top-level module -> files importing it`` for every absolute import under ``folder``."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(path.relative_to(REPO).as_posix())
    return found


def test_the_lambda_core_imports_only_the_standard_library_the_sdk_and_powertools():
    import sys

    imported = _imports(PACKAGES["rootwatch"])
    foreign = {
        name: sorted(files)
        for name, files in imported.items()
        if name not in sys.stdlib_module_names and name != "rootwatch" and name not in CORE_THIRD_PARTY
    }
    assert not foreign, foreign


@pytest.mark.parametrize("package", ["rootwatch_cli", "rootwatch_sandbox"])
def test_the_core_never_imports_the_workstation_tool_or_the_sandbox(package):
    assert package not in _imports(PACKAGES["rootwatch"])


def test_the_sandbox_never_imports_the_workstation_tool():
    assert "rootwatch_cli" not in _imports(PACKAGES["rootwatch_sandbox"])


_WITHOUT = """
import importlib.abc, sys
class Without(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Without())
from rootwatch_cli import main
sys.exit(main({argv!r}))
"""


@pytest.mark.parametrize(
    ("blocked", "argv", "extra"),
    [
        ({"moto"}, ["demo"], "rootwatch[sandbox]"),
        ({"duckdb", "sqlglot", "rich"}, ["query", "--help"], "rootwatch[cli]"),
    ],
)
def test_a_missing_extra_is_one_line_naming_it(blocked, argv, extra):
    """Installed without an extra, a verb that needs it says which extra to install (exit 2, no traceback)."""
    import subprocess
    import sys

    script = _WITHOUT.format(blocked=blocked, argv=argv)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert extra in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
