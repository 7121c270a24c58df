"""Writing a fix that spans files: all of them, each atomically, or none."""

from __future__ import annotations

from pathlib import Path

import pytest

from tsannotate.files import InputError, read_source
from tsannotate.project_files import ProjectFiles
from tsannotate.records import FileChange, Outcome


def _project(tmp_path: Path) -> tuple[ProjectFiles, Outcome]:
    (tmp_path / "pyproject.toml").write_text("")
    model, helper = tmp_path / "model.py", tmp_path / "helpers.py"
    model.write_text("def f(x, k=2):\n    return x\n")
    helper.write_text("def g(x, n=1):\n    return x\n")
    files = ProjectFiles(read_source(model))
    assert files.open(str(helper)) == helper.read_text()
    outcome = Outcome(str(model), model.read_text(), "def f(x, k: int = 2):\n    return x\n", True,
                      files=(FileChange(str(helper), helper.read_text(), "def g(x, n: int = 1):\n    return x\n"),))
    return files, outcome


def test_every_changed_file_is_written(tmp_path: Path) -> None:
    files, outcome = _project(tmp_path)
    files.write(outcome)
    assert (tmp_path / "model.py").read_text() == outcome.final
    assert (tmp_path / "helpers.py").read_text() == outcome.files[0].final


def test_none_is_written_when_one_changed_on_disk(tmp_path: Path) -> None:
    files, outcome = _project(tmp_path)
    (tmp_path / "helpers.py").write_text("# edited meanwhile\ndef g(x, n=1):\n    return x\n")
    with pytest.raises(InputError, match="helpers.py: changed on disk"):
        files.write(outcome)
    assert (tmp_path / "model.py").read_text() == outcome.original  # the model was not written either


def test_none_is_written_when_one_would_not_parse(tmp_path: Path) -> None:
    files, outcome = _project(tmp_path)
    broken = Outcome(outcome.path, outcome.original, outcome.final, True,
                     files=(FileChange(outcome.files[0].path, outcome.files[0].original, "def g(:\n"),))
    with pytest.raises(InputError, match="SyntaxError"):
        files.write(broken)
    assert (tmp_path / "model.py").read_text() == outcome.original


def test_files_outside_the_project_are_not_opened(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    files, _ = _project(project)
    (tmp_path / "outside.py").write_text("X = 1\n")
    assert files.open(str(tmp_path / "outside.py")) is None
    (project / "latin1.py").write_bytes(b"x = '\xe9'\n")
    assert files.open(str(project / "latin1.py")) is None  # unreadable as UTF-8: reported, not edited
