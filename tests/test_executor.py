"""How the worker runs compiled models (worker/executor.py): each one's first call as a deployed
model's first call runs (profiled by TorchScript's profiling executor), every other call without
the executor's optimizing passes. What only the profiling run rejects must still be caught, by
a script pass, by a verify from scratch, and by a verify that reuses the pass's copies.

Real TorchScript throughout, in-process through the worker's `handle`.
"""

from __future__ import annotations

import importlib.util
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from tsannotate.records import ScriptReport, ScriptRequest, VerifyReport, VerifyRequest
from tsannotate.worker import kept
from tsannotate.worker.main import handle

# `per_sample_weights=None` unannotated compiles as a Tensor parameter. The plain interpreter
# passes the None through (and EmbeddingBag takes it); the profiling run, as in a deployed
# model, does not: the call raises.
BAG = """
import torch
import torch.nn as nn


class Bag(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.EmbeddingBag(10, 4, mode="sum")

    def forward(self, indices, offsets, per_sample_weights=None):
        return self.emb(indices, offsets, per_sample_weights=per_sample_weights)


def probe():
    torch.manual_seed(0)
    return Bag().eval(), [(torch.tensor([1, 2, 3]), torch.tensor([0, 2]))]
"""

FIXED = BAG.replace("per_sample_weights=None)", "per_sample_weights: Optional[torch.Tensor] = None)") \
    .replace("import torch\n", "from typing import Optional\nimport torch\n", 1)


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    kept.verified()
    yield
    kept.verified()


def write(tmp_path: Path, source: str) -> tuple[Path, str]:
    path = tmp_path / "model.py"
    text = textwrap.dedent(source).lstrip("\n")
    path.write_text(text)
    return path, text


def script(path: Path, text: str) -> ScriptReport:
    report = handle(ScriptRequest(str(path), text))
    assert isinstance(report, ScriptReport) and report.load_error is None, report.load_error
    return report


def verify(path: Path, text: str) -> VerifyReport:
    report = handle(VerifyRequest(str(path), text))
    assert isinstance(report, VerifyReport) and report.load_error is None, report.load_error
    return report


def failed_scripted_call(report: VerifyReport) -> list[str]:
    return [c.message for c in report.checks
            if c.stage == "scripted" and c.input == "probe input 0" and not c.ok]


def load_bag(path: Path, name: str) -> tuple[torch.jit.ScriptModule, tuple[torch.Tensor, ...]]:
    """The model scripted from a fresh import, so its compiled code has never run."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model, [args] = module.probe()
    return torch.jit.script(model), args


def test_the_plain_interpreter_takes_what_the_profiling_run_rejects(tmp_path: Path) -> None:
    """The premise: without it these tests would pass whatever the worker did."""
    path, _ = write(tmp_path, BAG)
    plain, args = load_bag(path, "executor_premise_plain")
    with torch.jit.optimized_execution(False):
        plain(*args)
    deployed, args = load_bag(path, "executor_premise_deployed")
    with torch.jit.optimized_execution(True), pytest.raises(Exception, match="per_sample_weights"):
        deployed(*args)


def test_a_script_pass_reports_the_call_that_fails_when_deployed(tmp_path: Path) -> None:
    report = script(*write(tmp_path, BAG))
    [target] = report.targets
    assert target.scripted and not target.called
    assert any("per_sample_weights" in d.message for d in report.diagnostics), report.diagnostics


def test_verify_from_scratch_runs_the_first_call_as_deployed(tmp_path: Path) -> None:
    report = verify(*write(tmp_path, BAG))
    assert failed_scripted_call(report), report.checks
    assert not report.ok


def test_verify_after_a_failed_pass_does_not_reuse_its_copies(tmp_path: Path) -> None:
    path, text = write(tmp_path, BAG)
    script(path, text)  # its call check failed: nothing of it may vouch for the model
    report = verify(path, text)
    assert failed_scripted_call(report), report.checks


def test_the_fixed_model_verifies_and_the_executor_flag_is_restored(tmp_path: Path) -> None:
    before = torch._C._get_graph_executor_optimize()
    path, text = write(tmp_path, FIXED)
    report = script(path, text)
    assert [(t.scripted, t.called) for t in report.targets] == [(True, True)]
    verified = verify(path, text)
    assert verified.ok, verified.failures
    assert {c.stage for c in verified.checks} >= {"scripted", "loaded"}
    assert torch._C._get_graph_executor_optimize() == before
