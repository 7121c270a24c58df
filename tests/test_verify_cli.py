"""`tsannotate verify` and the verify gate of `fix --apply`, through typer's CliRunner."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tsannotate.cli import app


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write(tmp_path: Path, source: str, name: str = "model.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source).lstrip("\n"))
    return path


EQUAL = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 2)

    def forward(self, x):
        return self.lin(x).relu()


def probe():
    return Net(), [(torch.randn(2, 4),)]
"""

# Equal to eager on the probe's batch of 2 (so `fix` is satisfied), not on any other batch;
# and `mask=None` needs TS001 before it scripts at all.
FROZEN_BATCH = """
import torch
from torch import nn


class Net(nn.Module):
    def forward(self, x, mask=None):
        if torch.jit.is_scripting():
            x = x[:2]
        if mask is not None:
            x = x * mask
        return x


def probe():
    x = torch.ones(2, 3)
    return Net(), [(x,), (x, torch.ones(2, 3))]
"""


def test_verify_equal_model_exits_zero(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", str(write(tmp_path, EQUAL))])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'model.py'}: Net: scripted and saved+loaded equal eager on 2 inputs "
        "(1 from the probe, 1 derived: batch 3)"]
    assert "verified: 4 comparisons with eager, all equal" in result.stderr


def test_verify_mismatch_names_output_and_input(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, FROZEN_BATCH.replace("mask=None", "mask: Optional[torch.Tensor] = None")
                 .replace("import torch\n", "from typing import Optional\nimport torch\n", 1))
    result = runner.invoke(app, ["verify", str(path)])
    assert result.exit_code == 1, result.output
    first = result.stdout.splitlines()[0]
    assert first == (f"{path}: Net: the scripted model differs from eager on probe input 0 with batch 3 "
                     "(dim 0: 2 → 3): output: scripted returns a float32 tensor of shape [2, 3] where "
                     "eager returns a float32 tensor of shape [3, 3]")
    assert "NOT verified: 4 checks failed; first: Net scripted on probe input 0 with batch 3" in result.stderr


def test_verify_trace_points_at_the_frozen_line(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, """
        import torch

        def f(x):
            return torch.arange(len(x))

        def probe():
            return f, [(torch.ones(1),)]
    """)
    result = runner.invoke(app, ["verify", str(path), "--trace"])
    assert result.exit_code == 1, result.output
    assert "model.py:4:25: trace hazard: `len(x)` of a tensor becomes a constant of the trace " \
           "(the tracer warned here)" in result.stdout
    assert "@torch.jit.script_if_tracing" in result.stdout
    assert "the traced model differs from eager on probe input 0 with batch 2" in result.stdout


def test_calls_back_into_python_are_listed() -> None:
    """Rendering only (the worker side is in test_verify.py): one line per call, with its place."""
    from tsannotate import verify_report
    from tsannotate.records import Check, Location, PythonCall, VerifyReport

    report = VerifyReport(
        checks=(Check("Net", "saved", "", False, "torch.jit.save fails: Could not export Python "
                                                 "function call 'post'"),),
        python_calls=(PythonCall("Net.post", Location("/abs/model.py", 11)),))
    assert verify_report.lines(report, "model.py") == [
        "model.py: Net: torch.jit.save fails: Could not export Python function call 'post'",
        "model.py: calls back into Python: Net.post (/abs/model.py:11:1) is @torch.jit.ignore'd, "
        "so the saved model needs Python and cannot run from C++",
    ]
    assert verify_report.summary(report, "model.py") == (
        "model.py: NOT verified: 1 check failed; first: Net saved: torch.jit.save fails: Could not "
        "export Python function call 'post'")


def test_verify_without_probe_is_bad_input(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, EQUAL.split("def probe")[0])
    result = runner.invoke(app, ["verify", str(path)])
    assert result.exit_code == 2
    assert "nothing compared: verify needs a probe with inputs" in result.stderr


@pytest.mark.parametrize("text", ["def broken(:\n", None])
def test_verify_bad_input_exits_two(runner: CliRunner, tmp_path: Path, text: str | None) -> None:
    path = tmp_path / "model.py"
    if text is not None:
        path.write_text(text)
    result = runner.invoke(app, ["verify", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")


def test_fix_apply_does_not_write_what_does_not_verify(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, FROZEN_BATCH)
    before = path.read_bytes()
    result = runner.invoke(app, ["fix", str(path), "--apply"])
    assert result.exit_code == 1, result.output
    assert path.read_bytes() == before
    assert "+    def forward(self, x, mask: Optional[torch.Tensor] = None):" in result.stdout
    lines = result.stderr.splitlines()
    assert lines[-1] == ("error: not written: it scripts, but does not verify against the eager model "
                         "(4 failed checks, first above)")
    assert not any("run with --apply" in line for line in lines)  # it was run with --apply
    assert any("differs from eager on probe input 0 with batch 3" in line for line in lines)


def test_json_lists_checks_calls_hazards_and_notes() -> None:
    """Rendering only: `verify --format json` is this, on stdout."""
    import json

    from tsannotate import verify_report
    from tsannotate.records import Check, Hazard, Location, VerifyReport

    report = VerifyReport(
        checks=(Check("f", "traced", "probe input 0 with batch 2 (dim 0: 1 → 2)", False, "output: ..."),),
        hazards=(Hazard(Location("/abs/f.py", 4, 24), "`len(x)` of a tensor ...", warned=True),),
        notes=("f is a function: ...",), seconds=0.0661)
    data = json.loads(verify_report.to_json(report, "f.py"))
    assert data == {
        "schema": 1, "path": "f.py", "verified": False,
        "checks": [{"target": "f", "stage": "traced", "input": "probe input 0 with batch 2 (dim 0: 1 → 2)",
                    "ok": False, "message": "output: ..."}],
        "python_calls": [],
        "hazards": [{"what": "`len(x)` of a tensor ...", "warned": True,
                     "location": {"path": "/abs/f.py", "line": 4, "column": 25}}],  # 1-based, as in text
        "notes": ["f is a function: ..."], "seconds": 0.066}
