"""TS017: a call of a submodule `__init__` can leave None, under an `if` on the input, gets the
`and self.<attr> is not None` TorchScript needs; the real compiler, both configurations."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from tsannotate.loop import Loop, Options
from tsannotate.records import GuardBranch
from tsannotate.worker import Worker

from compiled_plan import plan_from_compiler

CASE = Path(__file__).resolve().parent.parent / "fixtures" / "cases" / "none_submodule_guarded_by_input"


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker(timeout=60) as w:
        yield w


def _proposed(worker: Worker, path: Path, text: str) -> list[GuardBranch]:
    return [f.edit for f in plan_from_compiler(worker, path, text) if isinstance(f.edit, GuardBranch)]


def test_the_guard_comes_only_for_a_submodule_init_can_leave_none(worker: Worker, tmp_path: Path) -> None:
    text = (CASE / "input.py").read_text()
    path = tmp_path / "emb.py"
    assert _proposed(worker, path, text) == [GuardBranch("TimestepEmbedding.forward", "condition is not None",
                                                          "cond_proj")]
    # `__init__` always builds it: the compiler has nothing to say about calling it
    always = text.replace("        if cond_proj_dim is not None:\n            self.cond_proj",
                          "        if True:\n            self.cond_proj").replace("cond_proj_dim=None", "cond_proj_dim=4")
    assert _proposed(worker, path, always) == []
    # under a config flag: that is TS007's Final (the branch drops out without a code change)
    flagged = text.replace("if condition is not None:", "if self.use_cond:").replace(
        "        self.act = nn.SiLU()", "        self.act = nn.SiLU()\n        self.use_cond = cond_proj_dim is not None")
    assert _proposed(worker, path, flagged) == []


def _load(path: Path, name: str) -> object:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def test_the_guarded_model_scripts_with_and_without_the_submodule(worker: Worker, tmp_path: Path) -> None:
    path = tmp_path / "emb.py"
    shutil.copyfile(CASE / "input.py", path)
    outcome = Loop(str(path), worker, Options(max_passes=5)).run(path.read_text())
    assert outcome.scripts and outcome.final == (CASE / "expected.py").read_text()
    fixed = tmp_path / "emb_fixed.py"
    fixed.write_text(outcome.final)
    module = _load(fixed, "tsannotate_test_none_guard")
    torch.manual_seed(0)
    configured = module.TimestepEmbedding(cond_proj_dim=4).eval()  # type: ignore[attr-defined]
    sample, condition = torch.randn(2, 8), torch.randn(2, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(configured)
    assert torch.equal(scripted(sample, condition), configured(sample, condition))
    assert not torch.equal(scripted(sample, condition), scripted(sample))  # the projection is used
    again = Loop(str(fixed), worker, Options(max_passes=5)).run(outcome.final)
    assert again.scripts and not again.changed and again.passes == ()
