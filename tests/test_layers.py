"""The architecture, checked by reading imports: torch only in the worker, libcst only in
source/rewrite, records on the stdlib alone, rules free of I/O, nothing imports the CLI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tsannotate"
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))

TORCH_ALLOWED = {"worker/main.py", "worker/loader.py", "worker/jit.py", "worker/compare.py",
                 "worker/targets.py", "worker/__main__.py", "worker/signatures.py",
                 "worker/recorder.py", "worker/runtime_types.py", "worker/verify.py",
                 "worker/variants.py", "worker/cpp.py", "worker/tracing.py",
                 "worker/python_calls.py", "worker/kept.py", "worker/rng.py", "worker/executor.py", "worker/overloads.py", "testing.py",
                 "pytest_plugin.py"}
LIBCST_ALLOWED = {"source.py", "source_values.py", "source_flow.py", "rewrite.py", "rewrite_edits.py",
                  "rewrite_refactors.py", "rewrite_imports.py", "rewrite_text.py"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_torch_only_in_worker(path: Path) -> None:
    uses_torch = any(n == "torch" or n.startswith("torch.") for n in _imports(path))
    assert not uses_torch or _rel(path) in TORCH_ALLOWED, f"{_rel(path)} imports torch"


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_libcst_only_in_source_and_rewrite(path: Path) -> None:
    uses = any(n.split(".")[0] == "libcst" for n in _imports(path))
    assert not uses or _rel(path) in LIBCST_ALLOWED, f"{_rel(path)} imports libcst"


def test_records_is_stdlib_only() -> None:
    assert not any(n.startswith("tsannotate") for n in _imports(PACKAGE / "records.py"))


@pytest.mark.parametrize("path", sorted((PACKAGE / "rules").glob("*.py")), ids=_rel)
def test_rules_do_no_io(path: Path) -> None:
    allowed = {"tsannotate.records", "tsannotate.tstypes", "tsannotate", "tsannotate.rules",
               "__future__", "collections", "collections.abc", "re", "types", "dataclasses",
               "ast",  # parsing an argument's text (`2 ** i`) reads nothing
               "tsannotate.jit_text"}  # parsing the compiler's quoted source reads nothing either
    allowed |= {f"tsannotate.rules.{p.stem}" for p in (PACKAGE / "rules").glob("*.py")}
    assert _imports(path) <= allowed, f"{_rel(path)} imports {_imports(path) - allowed}"


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_nothing_imports_cli(path: Path) -> None:
    assert "tsannotate.cli" not in _imports(path) or _rel(path) == "entry.py"  # the console script's door


def test_cli_help_does_not_import_torch() -> None:
    code = ("import sys; from typer.testing import CliRunner; from tsannotate.cli import app; "
            "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output; "
            "from tsannotate import loop, interactive, report; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_only_the_cli(flag: str) -> None:
    """Start-up (bench/startup.py): typer and a few small modules, none of the heavy ones."""
    code = ("import runpy, sys; sys.argv = ['tsannotate', %r]\n"
            "try: runpy.run_module('tsannotate', run_name='__main__')\n"
            "except SystemExit as exc: assert not exc.code, exc\n"
            "heavy = {'torch', 'libcst', 'mypy', 'tsannotate.records', 'tsannotate.report', 'tsannotate.loop'}\n"
            "assert not heavy & set(sys.modules), sorted(heavy & set(sys.modules))" % flag)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
