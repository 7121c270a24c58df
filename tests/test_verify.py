"""verify, end to end in the real worker: scripted vs eager on probe and derived inputs, the
save/load round trip, calls back into Python, trace hazards, and the fixes-change-eager gate.

Each mismatch kind is made real with `torch.jit.is_scripting()`: the scripted model takes a
different branch than the eager one, exactly as a buggy model (or a wrong fix) would.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tsannotate.records import Check, Location, PythonCall, VerifyReport, VerifyRequest
from tsannotate.worker import Worker


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker(timeout=60) as w:
        yield w


def verify(worker: Worker, tmp_path: Path, source: str, name: str = "model.py",
           **options: object) -> VerifyReport:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source).lstrip("\n"))
    report = worker.verify(VerifyRequest(str(path), path.read_text(), **options))  # type: ignore[arg-type]
    assert report.load_error is None, report.load_error
    return report


def model(scripted_branch: str, eager_return: str = "x") -> str:
    """A one-argument Net whose scripted forward runs `scripted_branch` (a return statement)."""
    return f"""
        import torch
        from torch import nn

        class Net(nn.Module):
            def forward(self, x):
                if torch.jit.is_scripting():
                    {scripted_branch}
                return {eager_return}

        def probe():
            return Net(), [(torch.ones(2, 3),)]
    """


def first_failure(report: VerifyReport) -> Check:
    assert report.failures, report.checks
    return report.failures[0]


def test_equal_model_verifies_on_probe_and_derived_inputs(worker: Worker, tmp_path: Path) -> None:
    report = verify(worker, tmp_path, """
        from typing import Dict, List, Optional, Tuple
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(4, 3)

            def forward(self, x, mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, Dict[str, List[int]]]:
                y = self.lin(x)
                if mask is not None:
                    y = y * mask
                return y, {"shape": list(y.shape)}

        def probe():
            x = torch.randn(2, 5, 4)
            return Net(), [(x,), (x, torch.ones(2, 5, 3))]
    """)
    assert report.ok and report.compared
    inputs = {c.input for c in report.checks if c.input}
    assert {"probe input 0", "probe input 1"} <= inputs
    assert "probe input 0 with batch 3 (dim 0: 2 → 3)" in inputs
    assert "probe input 1 with length 4 (dim 1: 5 → 4)" in inputs  # the mask shrinks with x
    assert {c.stage for c in report.checks} == {"saved", "scripted", "loaded"}
    assert report.python_calls == ()


def test_value_mismatch(worker: Worker, tmp_path: Path) -> None:
    failure = first_failure(verify(worker, tmp_path, model("return x + 1")))
    assert (failure.target, failure.stage, failure.input) == ("Net", "scripted", "probe input 0")
    assert failure.message == ("output: scripted returns a float32 tensor of shape [2, 3] with "
                               "different values where eager returns a float32 tensor of shape [2, 3]")


def test_dtype_mismatch(worker: Worker, tmp_path: Path) -> None:
    failure = first_failure(verify(worker, tmp_path, model("return x.double()")))
    assert "scripted returns a float64 tensor of shape [2, 3] where eager returns a float32" in failure.message


def test_shape_mismatch(worker: Worker, tmp_path: Path) -> None:
    failure = first_failure(verify(worker, tmp_path, model("return x.unsqueeze(0)")))
    assert "shape [1, 2, 3] where eager returns a float32 tensor of shape [2, 3]" in failure.message


def test_structure_mismatch_names_the_nested_output(worker: Worker, tmp_path: Path) -> None:
    report = verify(worker, tmp_path, model('return {"a": [x], "b": [x, x]}',
                                            eager_return='{"a": [x], "b": [x]}'))
    failure = first_failure(report)
    assert failure.message == "output['b']: scripted returns a list of 2 where eager returns a list of 1"


def test_call_time_error(worker: Worker, tmp_path: Path) -> None:
    report = verify(worker, tmp_path, """
        import torch
        from torch import nn

        class Net(nn.Module):
            def forward(self, x, mask=None):
                return x if mask is None else x * mask

        def probe():
            return Net(), [(torch.ones(2, 3), torch.ones(2, 3)), (torch.ones(2, 3), None)]
    """)
    failure = next(c for c in report.failures if c.stage == "scripted")
    assert failure.input == "probe input 1"
    assert failure.message == ("scripted raises RuntimeError: Expected a proper Tensor but got None "
                               "(or an undefined Tensor in C++) for argument #1 'other'")
    assert all(c.ok for c in report.checks if c.input == "probe input 0")
    # the undefined-Tensor default of `mask=None` even keeps the model from being saved
    (saved,) = [c for c in report.checks if c.stage == "saved"]
    assert saved.message == "torch.jit.save fails: strides() called on an undefined Tensor"


def test_mismatch_only_on_a_derived_batch_size(worker: Worker, tmp_path: Path) -> None:
    """Equal on the probe's batch of 2; a batch of 3 shows the scripted model froze it."""
    report = verify(worker, tmp_path, model("return x[:2]"))
    failure = first_failure(report)
    assert failure.input == "probe input 0 with batch 3 (dim 0: 2 → 3)"
    assert "shape [2, 3] where eager returns a float32 tensor of shape [3, 3]" in failure.message
    assert all(c.ok for c in report.checks if c.input == "probe input 0")


def test_derived_inputs_the_eager_model_rejects_are_skipped(worker: Worker, tmp_path: Path) -> None:
    report = verify(worker, tmp_path, model("return x.view(2, 3)", eager_return="x.view(2, 3)"))
    assert report.ok
    assert any("derived inputs the eager model rejects were skipped: input 0 with batch 3" in n
               for n in report.notes)


def test_does_not_script(worker: Worker, tmp_path: Path) -> None:
    report = verify(worker, tmp_path, """
        import torch
        from torch import nn

        class Net(nn.Module):
            def forward(self, x, **options):
                return x

        def probe():
            return Net(), [(torch.ones(2),)]
    """)
    failure = first_failure(report)
    assert failure.stage == "scripted" and failure.input == ""
    assert failure.message.startswith("does not script: ")


def test_save_load_round_trip_runs_the_loaded_model(worker: Worker, tmp_path: Path) -> None:
    report = verify(worker, tmp_path, model("return x * 1", eager_return="x * 1"))
    saved = [c for c in report.checks if c.stage == "saved"]
    assert saved and saved[0].ok and saved[0].message.endswith("bytes")
    loaded = [c for c in report.checks if c.stage == "loaded"]
    assert loaded and all(c.ok for c in loaded)
    assert {c.input for c in loaded} == {c.input for c in report.checks if c.stage == "scripted"}


def test_a_name_torchscript_cannot_load_back_is_named_with_what_to_do(worker: Worker, tmp_path: Path) -> None:
    """torch.jit.save writes a class name that is not ASCII; torch.jit.load cannot decode it."""
    report = verify(worker, tmp_path, """
        import torch
        from torch import nn

        class Ünïcode(nn.Module):
            def forward(self, x):
                return x * 2

        def probe():
            return Ünïcode(), [(torch.ones(2),)]
    """)
    failure = first_failure(report)
    assert failure.stage == "loaded" and failure.message.startswith("torch.jit.load fails:")
    assert "cannot load them: rename `Ünïcode` to ASCII letters" in failure.message


def test_python_dependence_is_listed_and_blocks_saving(worker: Worker, tmp_path: Path) -> None:
    report = verify(worker, tmp_path, """
        import torch
        from torch import nn

        class Inner(nn.Module):
            def forward(self, x):
                return self.log(x)

            @torch.jit.ignore
            def log(self, x):
                return x

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = Inner()

            def forward(self, x):
                return self.inner(x) + self.shout(x)

            @torch.jit.ignore
            def shout(self, x):
                return x * 2

        def probe():
            return Net(), [(torch.ones(2),)]
    """)
    path = str(tmp_path / "model.py")
    assert set(report.python_calls) == {PythonCall("Inner.log", Location(path, 6)),
                                        PythonCall("Net.shout", Location(path, 18))}
    saved = [c for c in report.checks if c.stage == "saved"]
    assert not saved[0].ok
    assert "Could not export Python function call" in saved[0].message
    assert all(c.ok for c in report.checks if c.stage == "scripted")  # in Python, it still runs


def test_a_python_call_inside_a_branch_and_a_loop_is_listed(worker: Worker, tmp_path: Path) -> None:
    report = verify(worker, tmp_path, """
        import torch
        from torch import nn

        class Net(nn.Module):
            def forward(self, x):
                for _ in range(2):
                    if bool(x.sum() > 0):
                        x = self.shout(x)
                return x

            @torch.jit.ignore
            def shout(self, x):
                return x * 2

        def probe():
            return Net(), [(torch.ones(2),)]
    """)
    assert report.python_calls == (PythonCall("Net.shout", Location(str(tmp_path / "model.py"), 8)),)


def test_trace_freezes_len_of_a_tensor(worker: Worker, tmp_path: Path) -> None:
    report = verify(worker, tmp_path, """
        import torch

        def f(x):
            return torch.arange(len(x))

        def probe():
            return f, [(torch.ones(1),)]
    """, trace=True)
    failure = first_failure(report)
    assert (failure.stage, failure.input) == ("traced", "probe input 0 with batch 2 (dim 0: 1 → 2)")
    assert failure.message == ("output: traced returns a int64 tensor of shape [1] where eager "
                               "returns a int64 tensor of shape [2]")
    (hazard,) = report.hazards
    assert hazard.location == Location(str(tmp_path / "model.py"), 4, 24)
    assert hazard.warned and "`len(x)`" in hazard.what
    assert all(c.ok for c in report.checks if c.stage == "scripted")  # scripting keeps it dynamic


def test_trace_hazards_only_on_lines_the_trace_ran(worker: Worker, tmp_path: Path) -> None:
    report = verify(worker, tmp_path, """
        import torch
        from torch import nn

        def unused(x):
            return x.tolist()

        class Net(nn.Module):
            def forward(self, x):
                n = int(x.shape[0])
                return x.sum() * n

        def probe():
            return Net(), [(torch.ones(2, 3),)]
    """, trace=True)
    assert [h.location.line for h in report.hazards] == [9]
    assert "turns a shape into a Python number" in report.hazards[0].what
    assert first_failure(report).stage == "traced"


def test_trace_of_a_shape_agnostic_model_has_no_hazards(worker: Worker, tmp_path: Path) -> None:
    report = verify(worker, tmp_path, model("return x * 2", eager_return="x * 2"), trace=True)
    assert report.ok and report.hazards == ()
    assert any(c.stage == "traced" for c in report.checks)


def test_fixes_that_change_the_eager_output_fail(worker: Worker, tmp_path: Path) -> None:
    original = textwrap.dedent(model("return x * 2", eager_return="x * 2")).lstrip("\n")
    report = verify(worker, tmp_path, model("return x * 3", eager_return="x * 3"), original=original)
    failure = first_failure(report)
    assert (failure.stage, failure.input) == ("eager", "probe input 0")
    assert failure.message.startswith("output: the fixes change the eager output")


def test_without_a_probe_nothing_is_compared(worker: Worker, tmp_path: Path) -> None:
    report = verify(worker, tmp_path, """
        import torch
        from torch import nn

        class Net(nn.Module):
            def forward(self, x):
                return x
    """)
    assert report.ok and not report.compared
    assert any(n.startswith("no probe inputs") for n in report.notes)


def test_script_if_tracing_cures_the_len_hazard(worker: Worker, tmp_path: Path) -> None:
    """The hint's remedy works: under @torch.jit.script_if_tracing `len(x)` stays dynamic."""
    report = verify(worker, tmp_path, """
        import torch

        @torch.jit.script_if_tracing
        def f(x):
            return torch.arange(len(x))

        def probe():
            return f, [(torch.ones(1),)]
    """, trace=True)
    assert report.ok and report.hazards == ()
    assert [c.input for c in report.checks if c.stage == "traced"] == [
        "probe input 0", "probe input 0 with batch 2 (dim 0: 1 → 2)"]
