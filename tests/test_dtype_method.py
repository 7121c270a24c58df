"""TS016: `.bool()` / `.bfloat16()`, which TorchScript lacks, become `.to(torch.<dtype>)`; TS018:
`torch.is_tensor(x)` becomes `isinstance(x, torch.Tensor)`; TS019: `torch.nn.ReLU()(x)` becomes
`torch.nn.functional.relu(x)`. On the compiler's real message (the
worker's torch.jit.script), every such call of the file's compiled code in one pass, and nothing
without the compiler's word."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tsannotate import rules
from tsannotate.loop import Loop, Options
from tsannotate.records import ConvertDtype, Evidence, NoGradBlock, VerifyRequest
from tsannotate.source import index_source
from tsannotate.worker import Worker

from compiled_plan import plan_from_compiler

MODEL = textwrap.dedent('''\
    import torch
    from torch import nn


    def masked(logits, mask):
        return torch.where(mask.bool(), logits, torch.full_like(logits, -1e8))


    class Policy(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(4, 3)

        def entropy(self, logits, mask):
            p = logits.softmax(-1)
            return -(torch.where(mask.bool(), p * logits.log_softmax(-1), torch.zeros_like(p))).sum(-1)

        def forward(self, x, mask):
            logits = masked(self.head(x), mask)
            return logits, self.entropy(logits, mask)

        def export_half(self, x):
            return x.bfloat16()  # never compiled: not reached from forward


    def probe():
        torch.manual_seed(0)
        mask = torch.tensor([[1, 1, 0], [1, 0, 1]], dtype=torch.uint8)
        return Policy().eval(), [(torch.randn(2, 4), mask)]
''')


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker(timeout=60) as w:
        yield w


def test_every_bool_call_of_compiled_code_in_one_pass(worker: Worker, tmp_path: Path) -> None:
    path = tmp_path / "policy.py"
    fixes = plan_from_compiler(worker, path, MODEL)
    assert any("'bool'" in f.reason for f in fixes)
    converted = {(f.edit.function, f.edit.method) for f in fixes if isinstance(f.edit, ConvertDtype)}
    assert converted == {("masked", "bool"), ("Policy.entropy", "bool")}
    assert not [f for f in rules.plan(Evidence(index_source(str(path), MODEL), ()))
                if isinstance(f.edit, ConvertDtype)]  # no compiler error: nothing


def test_the_converted_model_scripts_verifies_and_is_left_alone_after(worker: Worker, tmp_path: Path) -> None:
    path = tmp_path / "policy.py"
    path.write_text(MODEL)
    outcome = Loop(str(path), worker, Options(max_passes=10)).run(MODEL)
    assert outcome.scripts and len(outcome.passes) == 1, outcome.remaining
    assert outcome.final.count(".to(torch.bool)") == 2 and "x.bfloat16()" in outcome.final
    path.write_text(outcome.final)
    verified = worker.verify(VerifyRequest(str(path), outcome.final, original=MODEL))
    assert verified.load_error is None and verified.checks
    assert all(c.ok for c in verified.checks), [c.message for c in verified.checks if not c.ok]
    again = Loop(str(path), worker, Options(max_passes=10)).run(outcome.final)
    assert again.scripts and not again.changed and again.passes == ()


IS_TENSOR = textwrap.dedent('''\
    import torch
    from torch import nn
    from typing import Union


    def as_batch(t: Union[torch.Tensor, int], n: int):
        if not torch.is_tensor(t):
            return torch.full((n,), t)
        return t.expand(n)


    class Embed(nn.Module):
        def forward(self, x, t: Union[torch.Tensor, int]):
            steps = as_batch(t, x.shape[0])
            return x + steps.unsqueeze(1).float(), torch.is_tensor(t)


    def probe():
        torch.manual_seed(0)
        return Embed(), [(torch.randn(2, 3), 5), (torch.randn(2, 3), torch.tensor(3))]
''')


def test_is_tensor_becomes_isinstance_in_every_compiled_function_and_verifies(worker: Worker, tmp_path: Path) -> None:
    """TS018 (rules/is_tensor.py): the compiler names one function; the other goes in the same pass."""
    path = tmp_path / "embed.py"
    path.write_text(IS_TENSOR)
    outcome = Loop(str(path), worker, Options(max_passes=10)).run(IS_TENSOR)
    assert outcome.scripts and len(outcome.passes) == 1, outcome.remaining
    assert "torch.is_tensor" not in outcome.final and outcome.final.count("isinstance(t, torch.Tensor)") == 2
    path.write_text(outcome.final)
    verified = worker.verify(VerifyRequest(str(path), outcome.final, original=IS_TENSOR))
    assert verified.load_error is None and verified.checks and all(c.ok for c in verified.checks)
    again = Loop(str(path), worker, Options(max_passes=10)).run(outcome.final)
    assert again.scripts and not again.changed and again.passes == ()


ACTIVATIONS = textwrap.dedent('''\
    import torch
    from torch import nn


    class Step(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def gate(self, x):
            return torch.nn.Sigmoid()(x)

        def forward(self, x):
            d = torch.nn.ReLU()(self.fc(x))
            return d * self.gate(x) + nn.Softmax(dim=-1)(x) + nn.LeakyReLU(0.2)(x)


    def probe():
        torch.manual_seed(0)
        return Step().eval(), [(torch.randn(2, 4),)]
''')


def test_an_activation_built_in_compiled_code_becomes_its_functional_call(worker: Worker, tmp_path: Path) -> None:
    """TS019 (rules/functional_activation.py): pytorch-tabnet's `torch.nn.ReLU()(x)`; `gate` in the same
    pass; `nn.Softmax(dim=-1)(x)` and `nn.LeakyReLU(0.2)(x)` with their arguments by name."""
    path = tmp_path / "step.py"
    path.write_text(ACTIVATIONS)
    outcome = Loop(str(path), worker, Options(max_passes=10)).run(ACTIVATIONS)
    assert outcome.scripts and len(outcome.passes) == 1, outcome.remaining
    assert {f.code for f in outcome.passes[0].fixes} == {"TS019"} and len(outcome.passes[0].fixes) == 2
    assert "torch.nn.functional.relu(self.fc(x))" in outcome.final
    assert "torch.nn.functional.sigmoid(x)" in outcome.final
    assert "nn.functional.softmax(x, dim=-1) + nn.functional.leaky_relu(x, negative_slope=0.2)" in outcome.final
    path.write_text(outcome.final)
    verified = worker.verify(VerifyRequest(str(path), outcome.final, original=ACTIVATIONS))
    assert verified.load_error is None and verified.checks and all(c.ok for c in verified.checks), verified.failures
    again = Loop(str(path), worker, Options(max_passes=10)).run(outcome.final)
    assert again.scripts and not again.changed and again.passes == ()


def test_no_grad_is_moved_into_the_body_only_where_torch_failed_on_it(worker: Worker, tmp_path: Path) -> None:
    """TS021 (rules/no_grad.py): `@torch.no_grad()` on the compiled forward fails inside torch's
    _contextlib.py; on an uncompiled helper it is left alone."""
    text = textwrap.dedent('''\
        import torch
        from torch import nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)

            @torch.no_grad()
            def export_stats(self):  # called from Python only
                return self.fc.weight.norm()

            @torch.no_grad()
            def forward(self, x):  # TorchScript reads the body's globals from torch's _contextlib.py
                return torch.relu(self.fc(x))


        def probe():
            torch.manual_seed(0)
            return Net().eval(), [(torch.randn(2, 4),)]
    ''')
    fixes = [f for f in plan_from_compiler(worker, tmp_path / "net.py", text) if f.code == "TS021"]
    assert [f.edit for f in fixes] == [NoGradBlock("Net.forward", "torch.no_grad()")]
    path = tmp_path / "net.py"
    outcome = Loop(str(path), worker, Options(max_passes=5)).run(text)
    assert outcome.scripts and "    @torch.no_grad()\n    def export_stats" in outcome.final
    assert "        with torch.no_grad():\n            return torch.relu(self.fc(x))" in outcome.final
