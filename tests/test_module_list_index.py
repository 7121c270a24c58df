"""TS012 for a ModuleList indexed by a variable outside a `range(len(...))` loop: calls through a
helper method that iterates it. The compiler's real messages (the worker's torch.jit.script), the
rule on them, and the loop end to end; the rewrite's own shapes are in test_rewrite.py."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tsannotate import rules
from tsannotate.loop import Loop, Options
from tsannotate.records import EnumerateLoop, Evidence, VerifyRequest
from tsannotate.source import index_source
from tsannotate.worker import Worker

from compiled_plan import plan_from_compiler

MODEL = textwrap.dedent('''\
    import torch
    from torch import nn


    class Head(nn.Module):
        def __init__(self, levels=3, stages=2):
            super().__init__()
            self.nl = levels
            self.convs = nn.ModuleList([nn.Conv2d(4, 4, 1) for _ in range(levels)])
            self.norms = nn.ModuleList([nn.BatchNorm2d(4) for _ in range(levels)])
            self.stages = nn.ModuleList([nn.Identity() for _ in range(stages)])
            self.exit_at = 1

        def level(self, x, i):
            return self.norms[i](x)

        def forward(self, xs):
            out = []
            for i in range(self.nl):
                out.append(self.level(self.convs[i](xs[i]), i).mean())
            return self.stages[self.exit_at](torch.stack(out))


    def probe():
        torch.manual_seed(0)
        xs = [torch.randn(2, 4, 4, 4) for _ in range(3)]
        return Head().eval(), [(xs,)]
''')


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker(timeout=60) as w:
        yield w


def test_every_variable_index_of_a_module_list_in_compiled_code_in_one_pass(worker: Worker, tmp_path: Path) -> None:
    fixes = plan_from_compiler(worker, tmp_path / "head.py", MODEL)
    assert any("ModuleList indexing" in f.reason for f in fixes)  # the compiler names one of them
    loops = {(f.edit.function, f.edit.attr, f.edit.index) for f in fixes if isinstance(f.edit, EnumerateLoop)}
    # `self.norms[i]` in `level` fails alike, one pass later without the static twin;
    # `self.stages[self.exit_at]` is TS007's: a Final attribute is a constant
    assert loops == {("Head.forward", "convs", "i"), ("Head.level", "norms", "i")}


def test_a_file_without_a_compiler_error_about_it_gets_no_helper() -> None:
    assert not [f for f in rules.plan(Evidence(index_source("/p/head.py", MODEL), ()))
                if isinstance(f.edit, EnumerateLoop)]


def test_the_helpers_script_and_compute_what_eager_did_then_nothing_changes(worker: Worker, tmp_path: Path) -> None:
    path = tmp_path / "head.py"
    path.write_text(MODEL)
    outcome = Loop(str(path), worker, Options(max_passes=10)).run(MODEL)
    assert outcome.scripts, outcome.remaining
    first = {f.edit.attr for f in outcome.passes[0].fixes if isinstance(f.edit, EnumerateLoop)}
    assert first == {"convs", "norms"}  # both helpers in the first pass; `exit_at`'s Final may take another
    assert "self._convs_at(i, xs[i])" in outcome.final and "return self._norms_at(i, x)" in outcome.final
    assert "self.stages[self.exit_at]" in outcome.final and "exit_at: Final[int]" in outcome.final
    path.write_text(outcome.final)
    verified = worker.verify(VerifyRequest(str(path), outcome.final, original=MODEL))
    assert verified.load_error is None and verified.checks
    assert all(c.ok for c in verified.checks), [c.message for c in verified.checks if not c.ok]
    assert {c.stage for c in verified.checks} >= {"scripted", "loaded"}
    again = Loop(str(path), worker, Options(max_passes=10)).run(outcome.final)
    assert again.scripts and not again.changed and again.passes == ()
