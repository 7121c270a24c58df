"""The worker and the model's project: sibling modules run from the pass's text, afresh each
request, and what it reports about them names their file."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tsannotate.records import DiagnosticKind, Role, ScriptReport, ScriptRequest
from tsannotate.worker import Worker

HELPERS = '''
def scale(x, factor=2):
    return x * factor


class Counter:
    pass
'''

MODEL = '''
import torch
from torch import nn

import helpers


class Net(nn.Module):
    def forward(self, x):
        return helpers.scale(x, 3)


def probe():
    return Net(), [(torch.ones(2),)]
'''


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker(timeout=60) as w:
        yield w


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "helpers.py").write_text(textwrap.dedent(HELPERS))
    (tmp_path / "model.py").write_text(textwrap.dedent(MODEL))
    return tmp_path


def _script(worker: Worker, project: Path, helpers: str | None = None) -> ScriptReport:
    model = project / "model.py"
    sources = () if helpers is None else ((str(project / "helpers.py"), helpers),)
    return worker.script(ScriptRequest(str(model), model.read_text(), sources=sources))


def test_errors_in_a_sibling_name_its_file(worker: Worker, project: Path) -> None:
    report = _script(worker, project)
    assert not report.scripts
    (d,) = report.diagnostics
    assert d.kind is DiagnosticKind.DEFAULT_TYPE and d.symbol == "factor"
    assert d.location is not None and d.location.path == str(project / "helpers.py")
    seen = {(o.qualname, o.name, o.role): o for o in report.observations}
    assert seen[("scale", "factor", Role.ARG)].type == "int"
    assert seen[("scale", "factor", Role.ARG)].path == str(project / "helpers.py")
    assert seen[("Net.forward", "x", Role.ARG)].path == str(project / "model.py")


def test_the_requests_text_for_a_sibling_is_what_runs_and_is_never_stale(worker: Worker, project: Path) -> None:
    fixed = textwrap.dedent(HELPERS).replace("factor=2", "factor: int = 2")
    assert _script(worker, project, fixed).scripts  # the override, not the file on disk
    assert not _script(worker, project).scripts  # and the next request reads the disk again
    assert _script(worker, project, fixed).scripts
    assert (project / "helpers.py").read_text() == textwrap.dedent(HELPERS)  # never written


def test_a_sibling_syntax_error_is_a_load_error_naming_it(worker: Worker, project: Path) -> None:
    report = _script(worker, project, "def scale(x, factor=2:\n    return x\n")
    assert report.load_error is not None
    assert "helpers.py" in report.load_error.message
