"""Whole projects: errors in a model's sibling modules are fixed in those files; nothing
outside the project is edited; `fix` on a directory fixes every model under it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tsannotate.cli import app
from tsannotate.project import is_project_file, project_root

PROJECTS = Path(__file__).resolve().parent.parent / "fixtures" / "projects"
MODELS = {"sibling_helper": "model.py", "package_layers": "netpkg/model.py",
          "helper_called_with_floats": "model.py"}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.py"))
            if "__pycache__" not in p.parts}


def _copy(tmp_path: Path, case: str) -> Path:
    root = tmp_path / case
    shutil.copytree(PROJECTS / case / "input", root)
    return root


def test_review_shows_every_files_diff_and_writes_nothing(runner: CliRunner, tmp_path: Path) -> None:
    case = "helper_called_with_floats"  # errors in both files, one of them at a call site in the other
    root = _copy(tmp_path, case)
    before = _files(root)
    result = runner.invoke(app, ["fix", str(root / MODELS[case])])
    assert result.exit_code == 1, result.stderr
    changed = {name for name, data in _files(PROJECTS / case / "expected").items() if data != before[name]}
    headers = [line for line in result.stdout.splitlines() if line.startswith("+++ b/")]
    assert changed == {"model.py", "utils.py"}
    assert len(headers) == 2 and all(any(h.endswith("/" + name) for h in headers) for name in changed), headers
    assert "run with --apply to write" in result.stderr.splitlines()[-1]
    # each reason cites the file and line it is about: the callee's file, or the call site
    assert "utils.py:12:1: Expected a default value of type Tensor on parameter \"eps\"" in result.stderr
    assert "model.py:16:17: jitter(): Expected a value of type 'Tensor' for argument 'amount'" in result.stderr
    assert _files(root) == before


@pytest.mark.parametrize("case", sorted(MODELS))
def test_apply_fixes_siblings_then_changes_nothing(runner: CliRunner, tmp_path: Path, case: str) -> None:
    root = _copy(tmp_path, case)
    first = runner.invoke(app, ["fix", str(root / MODELS[case]), "--apply"])
    assert first.exit_code == 0, first.stderr
    assert _files(root) == _files(PROJECTS / case / "expected")
    again = runner.invoke(app, ["fix", str(root / MODELS[case]), "--apply"])  # idempotent
    assert again.exit_code == 0, again.stderr
    assert "nothing to change" in again.stderr
    assert _files(root) == _files(PROJECTS / case / "expected")


@pytest.mark.parametrize("case", sorted(MODELS))
def test_expected_projects_script_and_verify(runner: CliRunner, tmp_path: Path, case: str) -> None:
    root = tmp_path / case
    shutil.copytree(PROJECTS / case / "expected", root)
    result = runner.invoke(app, ["verify", str(root / MODELS[case])])
    if case == "helper_called_with_floats":  # @torch.jit.ignore: equal outputs, but it cannot be saved
        assert result.exit_code == 1
        lines = result.stdout.splitlines()
        assert lines and all("Could not export Python function call 'jitter'" in line
                             or "calls back into Python: jitter" in line for line in lines), lines
    else:
        assert result.exit_code == 0, result.stderr


OUTSIDE_LIB = '''\
def scale(x, factor=2):
    return x * factor
'''

OUTSIDE_MODEL = '''\
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vendor"))
from outside_lib import scale  # noqa: E402


class Net(nn.Module):
    def forward(self, x):
        return scale(x, 3)


def probe():
    return Net(), [(torch.ones(2),)]
'''


def test_errors_outside_the_project_are_reported_not_edited(runner: CliRunner, tmp_path: Path) -> None:
    project = tmp_path / "project"
    vendor = tmp_path / "vendor"
    project.mkdir()
    vendor.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (project / "model.py").write_text(OUTSIDE_MODEL)
    (vendor / "outside_lib.py").write_text(OUTSIDE_LIB)
    result = runner.invoke(app, ["fix", str(project / "model.py"), "--apply"])
    assert result.exit_code == 1, result.stderr
    assert (vendor / "outside_lib.py").read_text() == OUTSIDE_LIB
    assert (project / "model.py").read_text() == OUTSIDE_MODEL
    assert "outside_lib.py:1:1: TS005" in result.stderr or "outside_lib.py:1" in result.stderr
    assert "outside this model's project" in result.stderr
    assert "never edits it" in result.stderr
    assert "no automatic fix: the error is in a file outside the model's project" in result.stderr


def test_fix_a_directory_fixes_every_model_with_one_worker(runner: CliRunner, tmp_path: Path) -> None:
    root = tmp_path / "models"
    shutil.copytree(PROJECTS / "sibling_helper" / "input", root)
    shutil.copyfile(PROJECTS.parent / "cases" / "optional_param_mask" / "input.py", root / "masked.py")
    (root / "notes.py").write_text("VALUE = 3\n")  # no model: skipped
    review = runner.invoke(app, ["fix", str(root)])
    assert review.exit_code == 1, review.stderr
    assert review.stderr.splitlines()[-1] == (
        "2 model files: 0 fail to script, 2 script; 2 with changes to review (--apply writes them)")
    result = runner.invoke(app, ["fix", str(root), "--apply"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "2 model files: 0 fail to script, 2 script; 2 written"
    assert (root / "helpers.py").read_bytes() == (PROJECTS / "sibling_helper" / "expected" / "helpers.py").read_bytes()
    assert (root / "masked.py").read_bytes() == (
        PROJECTS.parent / "cases" / "optional_param_mask" / "expected.py").read_bytes()
    assert (root / "notes.py").read_text() == "VALUE = 3\n"
    again = runner.invoke(app, ["fix", str(root)])
    assert again.exit_code == 0, again.stderr
    assert again.stderr.splitlines()[-1] == "2 model files: 0 fail to script, 2 script; nothing to change"


def test_fix_a_directory_without_models_is_bad_input(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "util.py").write_text("X = 1\n")
    result = runner.invoke(app, ["fix", str(tmp_path)])
    assert result.exit_code == 2
    assert "no model to fix in" in result.stderr
    assert (tmp_path / "util.py").read_text() == "X = 1\n"


def test_a_sibling_with_a_syntax_error_is_bad_input_and_nothing_is_written(
        runner: CliRunner, tmp_path: Path) -> None:
    root = _copy(tmp_path, "sibling_helper")
    (root / "helpers.py").write_text("def scale(x, factor=2:\n    return x\n")
    before = _files(root)
    result = runner.invoke(app, ["fix", str(root / "model.py"), "--apply"])
    assert result.exit_code == 2
    assert "helpers.py" in result.stderr.strip().splitlines()[0]
    assert _files(root) == before


def test_project_files(tmp_path: Path) -> None:
    (tmp_path / "proj" / "pkg").mkdir(parents=True)
    (tmp_path / "proj" / "pyproject.toml").write_text("")
    (tmp_path / "proj" / "pkg" / "__init__.py").write_text("")
    model = tmp_path / "proj" / "pkg" / "model.py"
    root = project_root(str(model))
    assert root == str(tmp_path / "proj")
    assert is_project_file(str(tmp_path / "proj" / "pkg" / "layers.py"), root)
    assert not is_project_file(str(tmp_path / "other.py"), root)  # above the root
    assert not is_project_file(str(tmp_path / "proj" / ".venv" / "lib" / "x.py"), root)
    assert not is_project_file(str(tmp_path / "proj" / "lib" / "site-packages" / "x.py"), root)
    assert not is_project_file(str(tmp_path / "proj" / "notes.txt"), root)
    import torch.nn.functional  # noqa: F401 - an installed package, as the worker sees it

    installed = sys.modules["torch.nn.functional"].__file__
    assert installed is not None and not is_project_file(installed, "/")
    import tsannotate.loop

    assert tsannotate.loop.__file__ is not None
    assert not is_project_file(tsannotate.loop.__file__, str(Path(tsannotate.loop.__file__).parents[1]))


def test_project_root_without_markers_is_the_top_of_the_package(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "__init__.py").write_text("")
    (tmp_path / "a" / "b" / "__init__.py").write_text("")
    assert project_root(str(tmp_path / "a" / "b" / "m.py")) == str(tmp_path)
