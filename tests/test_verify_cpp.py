"""verify --cpp: the saved model run by a C++ program linked against the wheel's libtorch.

Building the runner takes ~15 s once per torch version (then it is cached), so the runs
are marked slow; `.ci/run` runs them (`pytest -m slow`). The missing-compiler path is fast.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tsannotate.cli import app
from tsannotate.records import VerifyRequest
from tsannotate.worker import Worker

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"
needs_compiler = pytest.mark.skipif(shutil.which("g++") is None, reason="no g++ to build the C++ runner")


def copy_case(tmp_path: Path, case: str) -> Path:
    path = tmp_path / "model.py"
    shutil.copyfile(CASES / case / "expected.py", path)
    return path


@pytest.mark.slow
@needs_compiler
def test_cpp_runs_the_saved_fixture_model_like_eager(tmp_path: Path) -> None:
    path = copy_case(tmp_path, "transformer_block")
    result = CliRunner().invoke(app, ["verify", str(path), "--cpp"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{path}: EncoderBlock: scripted and saved+loaded and C++ equal "
                                    "eager on 6 inputs (2 from the probe, 4 derived: batch 3, length 4)")


@pytest.mark.slow
@needs_compiler
def test_cpp_outputs_nested_values_and_steps_state_like_eager(tmp_path: Path) -> None:
    """Arguments typed List[str] / Optional[float] / defaulted reach forward() in C++ with their
    types; dicts, lists, strings, None and tensors come back; a buffer the forward updates
    advances in C++ exactly as in eager, input after input (every stage starts from the saved
    state)."""
    path = tmp_path / "model.py"
    path.write_text(
        "from typing import Dict, List, Optional, Tuple\n"
        "import torch\nfrom torch import nn\n\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.register_buffer('steps', torch.zeros(()))\n\n"
        "    def forward(self, x, k: int, names: List[str], scale: Optional[float] = None\n"
        "                ) -> Tuple[Dict[str, List[torch.Tensor]], str, Optional[float]]:\n"
        "        self.steps.add_(1)\n"
        "        y = {'y': [x * self.steps * k, x.sum(dim=-1)], 'n': [torch.tensor(x.shape[0])]}\n"
        "        return y, ','.join(names), scale\n\n\n"
        "def probe():\n"
        "    return Net(), [(torch.ones(2, 3), 2, ['a', 'b']), (torch.ones(4, 3), 5, [], 0.5)]\n")
    with Worker(timeout=120) as worker:
        report = worker.verify(VerifyRequest(str(path), path.read_text(), cpp=True))
    assert report.load_error is None, report.load_error
    cpp = [c.input for c in report.checks if c.stage == "cpp"]
    assert cpp == [c.input for c in report.checks if c.stage == "scripted"]
    assert len(cpp) == 6  # 2 probe inputs, each with another batch and another length
    assert report.ok, report.failures


def test_no_compiler_is_a_note_not_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = copy_case(tmp_path, "submodules_two_errors")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # the worker runs sys.executable by its full path
    monkeypatch.setenv("CXX", str(empty / "g++"))
    with Worker(timeout=60, python=sys.executable) as worker:
        report = worker.verify(VerifyRequest(str(path), path.read_text(), cpp=True,
                                             cache_dir=str(tmp_path / "cache")))
    assert report.ok, report.checks
    assert not any(c.stage == "cpp" for c in report.checks)
    assert any(n.startswith("Classifier: the C++ run was skipped: no C++ compiler found") for n in report.notes)
    assert not (tmp_path / "cache").exists()
