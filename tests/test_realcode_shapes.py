"""Shapes of real code bench/realcode.py found in torch.nn, through the real loop and worker.

The golden cases pin what is written; these pin how many passes it takes, where that was the gap
(nothing about TorchScript is mocked).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent

import pytest

from tsannotate.loop import Loop, Options
from tsannotate.worker import Worker

# torch's RNNBase.forward passes `batch_sizes` (None for a plain tensor) down
# check_forward_args → check_input → get_expected_hidden_size: each is a compile error of its own
# once the previous one is fixed, while the probe saw every one of them holding only None.
NONE_DOWN_A_CHAIN = dedent('''\
    import torch
    import torch.nn as nn


    class CheckedHead(nn.Module):
        def __init__(self, dim=8):
            super().__init__()
            self.proj = nn.Linear(dim, dim)

        def _expected_size(self, x, lengths):
            return x.size(0) if lengths is None else int(lengths.numel())

        def _check(self, x, lengths):
            if self._expected_size(x, lengths) != x.size(0):
                raise ValueError("batch size does not match the lengths")

        def _project(self, x, lengths):
            self._check(x, lengths)
            return self.proj(x)

        def forward(self, x):
            lengths = None  # until packed inputs are supported
            return self._project(x, lengths)


    def probe():
        torch.manual_seed(0)
        return CheckedHead(), [(torch.randn(2, 8),)]
    ''')


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker(timeout=60) as w:
        yield w


def test_none_handed_down_a_chain_of_helpers_is_fixed_in_one_pass(worker: Worker, tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(NONE_DOWN_A_CHAIN)
    outcome = Loop(str(path), worker, Options()).run(NONE_DOWN_A_CHAIN)
    assert outcome.scripts, [d.message for d in outcome.remaining]
    assert len(outcome.passes) == 1  # was 3: one compile error per helper
    for helper in ("_expected_size", "_check", "_project"):
        assert f"def {helper}(self, x, lengths: Optional[torch.Tensor]):" in outcome.final


# torch's MultiheadAttention hands forward's masks to merge_masks only on its fast path, which the
# probe does not take. When the model compiles from the start but fails when called with None, the
# caller's Optional fix moves the failure to a compile error in that callee: loop._worse counts it
# as a target broken, backs the fix out, and the model never scripts.
OPTIONAL_INTO_AN_UNREACHED_CALLEE = dedent('''\
    import torch
    import torch.nn as nn


    class MaskedAttentionPool(nn.Module):
        def __init__(self, dim=8):
            super().__init__()
            self.score = nn.Linear(dim, 1)

        def merge_masks(self, padding, lengths_mask):
            if padding is None:
                return lengths_mask
            return padding | lengths_mask

        def forward(self, x, padding=None, fused: bool = False):
            scores = self.score(x).squeeze(-1)
            if fused:
                lengths_mask = torch.zeros_like(scores, dtype=torch.bool)
                scores = scores.masked_fill(self.merge_masks(padding, lengths_mask), float("-inf"))
            elif padding is not None:
                scores = scores.masked_fill(padding, float("-inf"))
            return (torch.softmax(scores, dim=-1).unsqueeze(-1) * x).sum(1)


    def probe():
        torch.manual_seed(0)
        x = torch.randn(2, 5, 8)
        padding = torch.zeros(2, 5, dtype=torch.bool)
        padding[0, -1] = True
        return MaskedAttentionPool(), [(x,), (x, padding)]
    ''')


def test_optional_handed_to_a_callee_the_probe_does_not_reach(worker: Worker, tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(OPTIONAL_INTO_AN_UNREACHED_CALLEE)
    outcome = Loop(str(path), worker, Options()).run(OPTIONAL_INTO_AN_UNREACHED_CALLEE)
    assert outcome.scripts, [d.message for d in outcome.remaining]
    assert "def merge_masks(self, padding: Optional[torch.Tensor], lengths_mask):" in outcome.final
