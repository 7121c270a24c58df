"""Derived inputs (another batch size, another length) in the real worker: index and offset
vectors stay valid when resized, and a derived input eager itself cannot compute twice alike
is skipped with a note, not reported as a scripted-vs-eager mismatch; a shape the scripted or
traced model froze is still caught, and probe inputs are never excused.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from tsannotate.cli import app
from tsannotate.records import VerifyReport, VerifyRequest
from tsannotate.worker import Worker
from tsannotate.worker.variants import derive, resize


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker(timeout=60) as w:
        yield w


def write(tmp_path: Path, source: str, name: str = "model.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source).lstrip("\n"))
    return path


def verify(worker: Worker, tmp_path: Path, source: str, **options: object) -> VerifyReport:
    path = write(tmp_path, source)
    report = worker.verify(VerifyRequest(str(path), path.read_text(), **options))  # type: ignore[arg-type]
    assert report.load_error is None, report.load_error
    return report


BATCH_3 = "probe input 0 with batch 3 (dim 0: 2 → 3)"

# DLRM/torchrec style: dense features [B, D], the flat indices of every bag, offsets [B].
# `forward` stays unannotated: `per_sample_weights=None` needs TS001 before it scripts.
BAG = """
import torch
import torch.nn as nn


class Bag(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.EmbeddingBag(10, 4, mode="sum")
        self.dense = nn.Linear(4, 4)

    def forward(self, dense_x, indices, offsets, per_sample_weights=None):
        out = self.dense(dense_x) + self.emb(indices, offsets, per_sample_weights=per_sample_weights)
        SCRIPTED_ONLY
        return out


def probe():
    torch.manual_seed(0)
    return Bag().eval(), [(torch.randn(2, 4), torch.tensor([1, 2, 3]), torch.tensor([0, 2]))]
"""


def bag(scripted_only: str = "") -> str:
    return BAG.replace("SCRIPTED_ONLY", scripted_only or "pass").replace(
        "per_sample_weights=None", "per_sample_weights: Optional[torch.Tensor] = None").replace(
        "import torch\n", "from typing import Optional\nimport torch\n", 1)


# --------------------------------------------------------------------------- variants


def test_sorted_integer_vectors_grow_by_their_last_value() -> None:
    assert resize(torch.tensor([0, 2]), 0, 3).tolist() == [0, 2, 2]  # offsets: an empty last bag
    assert resize(torch.tensor([0, 0, 1, 1, 1]), 0, 6).tolist() == [0, 0, 1, 1, 1, 1]  # a PyG batch
    assert resize(torch.tensor([3, 1]), 0, 3).tolist() == [3, 1, 3]  # not sorted: cycled as before
    assert resize(torch.tensor([0.0, 2.0]), 0, 3).tolist() == [0.0, 2.0, 0.0]  # not integers
    assert resize(torch.tensor([False, True]), 0, 3).tolist() == [False, True, False]  # a mask
    assert resize(torch.tensor([[0, 1], [2, 3]]), 0, 3).tolist() == [[0, 1], [2, 3], [0, 1]]
    assert resize(torch.tensor([0, 2, 5]), 0, 2).tolist() == [0, 2]  # shrinking: its first ones


def test_derived_offsets_stay_offsets() -> None:
    (label, (dense, indices, offsets)), *_ = derive(
        [(torch.randn(2, 4), torch.tensor([1, 2, 3]), torch.tensor([0, 2]))])
    assert label == BATCH_3
    assert dense.shape == (3, 4)
    assert indices.tolist() == [1, 2, 3]  # its length is not the batch
    assert offsets.tolist() == [0, 2, 2]  # cycled, [0, 2, 0] would not be offsets


# --------------------------------------------------------------------------- verify


def test_embedding_bag_with_offsets_verifies_on_another_batch(worker: Worker, tmp_path: Path) -> None:
    report = verify(worker, tmp_path, bag())
    assert report.ok, report.failures
    assert [c.ok for c in report.checks if c.input == BATCH_3] == [True, True]  # scripted, loaded
    assert not any("from run to run" in n for n in report.notes)


def test_fix_apply_writes_the_fix_of_an_embedding_bag_model(tmp_path: Path) -> None:
    path = write(tmp_path, BAG.replace("SCRIPTED_ONLY", "pass"))
    result = CliRunner().invoke(app, ["fix", str(path), "--apply"])
    assert result.exit_code == 0, result.output
    assert "per_sample_weights: Optional[torch.Tensor] = None" in path.read_text()
    assert "not written" not in result.stderr
    verified = CliRunner().invoke(app, ["verify", str(path)])
    assert verified.exit_code == 0, verified.output
    assert "1 derived: batch 3" in verified.stdout


def test_a_pooled_graph_batch_vector_verifies_on_another_node_count(worker: Worker,
                                                                    tmp_path: Path) -> None:
    """PyG's global_add_pool: the graph count is `batch[-1] + 1`, which needs `batch` sorted."""
    report = verify(worker, tmp_path, """
        import torch
        from torch import nn

        class Pool(nn.Module):
            def forward(self, x, batch):
                size = int(batch[-1]) + 1
                return x.new_zeros(size, x.shape[1]).index_add_(0, batch, x)

        def probe():
            torch.manual_seed(0)
            return Pool(), [(torch.randn(5, 3), torch.tensor([0, 0, 1, 1, 1]))]
    """)
    assert report.ok, report.failures
    assert [c.ok for c in report.checks if c.input == "probe input 0 with batch 6 (dim 0: 5 → 6)"] == [
        True, True]
    assert not any("skipped" in n for n in report.notes)


def test_a_scripted_model_frozen_to_the_probe_batch_still_fails(worker: Worker, tmp_path: Path) -> None:
    report = verify(worker, tmp_path, bag("if torch.jit.is_scripting():\n            out = out[:2]"))
    assert not report.ok
    failure = report.failures[0]
    assert (failure.stage, failure.input) == ("scripted", BATCH_3)
    assert "shape [2, 4] where eager returns a float32 tensor of shape [3, 4]" in failure.message
    assert all(c.ok for c in report.checks if c.input == "probe input 0")
    assert not any("from run to run" in n for n in report.notes)  # eager is stable: no excuse


def test_a_trace_frozen_to_the_probe_batch_still_fails(worker: Worker, tmp_path: Path) -> None:
    report = verify(worker, tmp_path, bag("out = out + torch.arange(len(dense_x)).unsqueeze(1)"),
                    trace=True)
    failures = [(c.stage, c.input) for c in report.failures]
    assert failures == [("traced", BATCH_3)], report.failures
    assert report.hazards and "`len(" in report.hazards[0].what


# Eager adds a value that changes on every call, but only on an input the probe never gave:
# what reading memory it never wrote (offsets that are no longer offsets) does. The scripted
# model never takes that branch.
DRIFT = """
import itertools
import torch
from torch import nn

_calls = itertools.count()


class Net(nn.Module):
    def forward(self, x):
        if not torch.jit.is_scripting():
            if CONDITION:
                return x + float(next(_calls))
        return x * 2


def probe():
    return Net(), [(torch.ones(2, 3),)]
"""


def test_a_derived_input_eager_cannot_reproduce_is_skipped_with_a_note(worker: Worker,
                                                                      tmp_path: Path) -> None:
    report = verify(worker, tmp_path, DRIFT.replace("CONDITION", "x.shape[0] != 2"))
    assert report.ok, report.failures
    assert not any(c.input == BATCH_3 for c in report.checks)  # no check left for it
    (note,) = [n for n in report.notes if "from run to run" in n]
    assert note.startswith("Net: derived inputs on which the eager model gives different results")
    assert "input 0 with batch 3 (dim 0: 2 → 3) (output: a second eager run returns" in note
    assert any(c.input == "probe input 0" and c.ok for c in report.checks)


def test_a_probe_input_eager_cannot_reproduce_still_fails(worker: Worker, tmp_path: Path) -> None:
    report = verify(worker, tmp_path, DRIFT.replace("CONDITION", "True"))
    assert not report.ok
    assert report.failures[0].input == "probe input 0"
