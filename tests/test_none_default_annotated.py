"""TS001 for `mask: torch.Tensor = None` (rules/none_default._annotated_tensor): the annotation and
the default disagree, TorchScript keeps the annotation, and a call leaving `mask` out then runs the
`mask is not None` branch on an undefined Tensor (the model scripts, and fails to save). Real worker,
real torch.jit.script; from the source alone, only in code TorchScript compiles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent

import pytest

from tsannotate import rules
from tsannotate.records import AnnotateParam, Evidence, VerifyRequest
from tsannotate.source import index_source
from tsannotate.worker import Worker

from compiled_plan import fixed_and_verified

MODEL = dedent('''\
    import torch
    from torch import nn


    class Pool(nn.Module):
        def __init__(self):
            super().__init__()
            self.out = nn.Linear(8, 3)

        def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor = None):
            if attention_mask is not None:
                hidden_states = hidden_states * attention_mask.unsqueeze(-1)
            return self.out(hidden_states.mean(1))

        def export(self, x: torch.Tensor = None):  # never compiled: left as written
            return x


    def probe():
        torch.manual_seed(0)
        x = torch.randn(2, 5, 8)
        return Pool().eval(), [(x,), (x, torch.ones(2, 5))]
''')


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker(timeout=60) as w:
        yield w


def test_the_annotation_becomes_optional_and_the_model_verifies(worker: Worker, tmp_path: Path) -> None:
    outcome = fixed_and_verified(worker, tmp_path / "pool.py", MODEL)
    assert "attention_mask: Optional[torch.Tensor] = None" in outcome.final
    assert "def export(self, x: torch.Tensor = None)" in outcome.final


def test_unfixed_the_model_does_not_verify(worker: Worker, tmp_path: Path) -> None:
    """Why the fix is needed: TorchScript compiles the text as written, and it fails to deploy."""
    path = tmp_path / "pool.py"
    path.write_text(MODEL)
    report = worker.verify(VerifyRequest(str(path), MODEL))
    assert report.load_error is None and not report.ok


@pytest.mark.parametrize("param", ["attention_mask: Optional[torch.Tensor] = None", "attention_mask: torch.Tensor",
                                   "attention_mask: int = None", "attention_mask=None"])
def test_only_a_plain_tensor_annotation_with_a_none_default(param: str) -> None:
    text = MODEL.replace("attention_mask: torch.Tensor = None", param)
    fixes = rules.plan(Evidence(index_source("pool.py", text), ()))
    assert not [f for f in fixes if isinstance(f.edit, AnnotateParam) and f.edit.param == "attention_mask"]


# TS005 (rules/param_type._annotated_none_default): `k: int = None` does not compile at all
SCALED = dedent('''\
    from typing import List

    import torch
    from torch import nn


    class Scaled(nn.Module):
        def forward(self, x, k: int = None, dims: List[int] = None):
            if k is not None:
                x = x * k
            if dims is not None:
                x = x.sum(dims)
            return x


    def probe():
        return Scaled(), [(torch.ones(2, 3),), (torch.ones(2, 3), 3, [1])]
''')


def test_an_annotated_non_tensor_with_a_none_default_becomes_optional(worker: Worker, tmp_path: Path) -> None:
    outcome = fixed_and_verified(worker, tmp_path / "scaled.py", SCALED)
    assert "k: Optional[int] = None, dims: Optional[List[int]] = None" in outcome.final
    assert any("(it is annotated int)" in f.reason for p in outcome.passes for f in p.fixes)
