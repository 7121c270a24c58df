"""verify after a script pass over the same sources (fix --apply's gate): the worker runs the
pass's uncalled copies and the first pass's eager outputs (worker/kept.py) instead of loading
and probing again, and reports exactly what a verify from scratch reports.

In-process through `handle`, so each test can also see whether the kept state was used; the
last test goes through the real worker process.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tsannotate.records import ScriptReport, ScriptRequest, VerifyReport, VerifyRequest
from tsannotate.worker import Worker, kept
from tsannotate.worker.main import handle


@pytest.fixture(autouse=True)
def used(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Records which kept state the verify took ("targets", "baseline")."""
    seen: list[str] = []
    take, baseline = kept.take, kept.baseline

    def take_spy(request: ScriptRequest) -> Any:
        session = take(request)
        if session is not None:
            seen.append("targets")
        return session

    def baseline_spy(request: ScriptRequest) -> Any:
        outputs = baseline(request)
        if outputs is not None:
            seen.append("baseline")
        return outputs

    kept.verified()  # nothing from another test
    monkeypatch.setattr(kept, "take", take_spy)
    monkeypatch.setattr(kept, "baseline", baseline_spy)
    yield seen
    kept.verified()


def write(path: Path, source: str) -> str:
    text = textwrap.dedent(source).lstrip("\n")
    path.write_text(text)
    return text


def script(path: Path, source: str) -> ScriptReport:
    report = handle(ScriptRequest(str(path), source))
    assert isinstance(report, ScriptReport) and report.load_error is None, report.load_error
    return report


def verify(path: Path, source: str, original: str | None = None) -> VerifyReport:
    report = handle(VerifyRequest(str(path), source, original=original))
    assert isinstance(report, VerifyReport) and report.load_error is None, report.load_error
    return report


def after_passes(path: Path, original: str, fixed: str) -> VerifyReport:
    """What fix --apply does: a pass over the user's text, one over the fixed text, the gate."""
    script(path, original)
    script(path, fixed)
    return verify(path, fixed, original=original)


def same(report: VerifyReport) -> VerifyReport:
    """Without what differs from run to run anyway: the time, and the saved size (the archive
    names the module by the worker's load count, and its compressed debug info varies)."""
    checks = tuple(replace(c, message=re.sub(r"^\d+ bytes$", "N bytes", c.message)) for c in report.checks)
    return replace(report, checks=checks, seconds=0.0)


def model(forward: str, init: str = "pass") -> str:
    """A Net with two probe inputs whose forward is `forward` (lines at 16 spaces after the first)."""
    return f"""
        from typing import List
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                {init}

            def forward(self, x):
                {forward}

        def probe():
            torch.manual_seed(0)
            return Net(), [(torch.ones(2, 3),), (torch.randn(2, 3),)]
    """


MODELS = {
    "layers and dict output": """
        from typing import Dict, List, Optional, Tuple
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(4, 3)
                self.norm = nn.BatchNorm1d(5)

            def forward(self, x, mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, Dict[str, List[int]]]:
                y = self.lin(self.norm(x))
                if mask is not None:
                    y = y * mask
                return y, {"shape": list(y.shape)}

        def probe():
            x = torch.randn(2, 5, 4)
            return Net(), [(x,), (x, torch.ones(2, 5, 3))]
    """,
    "int counter": model("self.calls += 1\n                return x * self.calls", "self.calls = 0"),
    "buffer counter": model("self.count += 1\n                return x + self.count",
                            'self.register_buffer("count", torch.zeros(1))'),
    "tensor attribute updated in place": model("self.acc.add_(x.sum())\n                return x * self.acc",
                                               "self.acc = torch.zeros(1)"),
    "list attribute": model("self.seen.append(x.shape[0])\n                return x * len(self.seen)",
                            "self.seen = [0]"),
    "scripted differs": model("if torch.jit.is_scripting():\n                    return x + 1\n"
                              "                return x"),
    "python call": """
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.scale = 2.0

            @torch.jit.ignore
            def helper(self, x: torch.Tensor) -> torch.Tensor:
                return x * self.scale

            def forward(self, x):
                return self.helper(x)

        def probe():
            return Net(), [(torch.ones(2, 3),)]
    """,
    "scripted by the probe": """
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.steps = 0

            def forward(self, x):
                self.steps += 1
                return x * self.steps

        def probe():
            return torch.jit.script(Net()), [(torch.ones(2, 3),), (torch.ones(2, 3),)]
    """,
    "function": """
        import torch

        @torch.jit.script
        def twice(x):
            return x * 2

        def probe():
            return twice, [(torch.ones(2, 3),)]
    """,
}


CALLS_FAIL = {"scripted differs"}  # the models whose script pass calls the scripted model wrong


@pytest.mark.parametrize("name", list(MODELS))
def test_verify_after_passes_reports_what_a_fresh_verify_does(name: str, tmp_path: Path,
                                                              used: list[str]) -> None:
    path = tmp_path / "model.py"
    fixed = write(path, MODELS[name])
    original = fixed.replace("import torch\n", "import torch  # before the fixes\n", 1)
    alone = verify(path, fixed, original=original)
    assert used == []
    again = after_passes(path, original, fixed)
    # a model whose pass found its scripted calls wrong is scripted again: the pass's copies
    # may vouch for a model only after its first call, run as deployed, passed (executor.py)
    assert used == (["baseline"] if name in CALLS_FAIL else ["baseline", "targets"])
    assert same(again) == same(alone)


def test_a_stateful_model_verifies_after_passes(tmp_path: Path, used: list[str]) -> None:
    """The pass called the model (and its scripted twin) on the probe inputs: verify must start
    from instances nothing has called, or the counters would differ from a fresh eager copy."""
    path = tmp_path / "model.py"
    fixed = write(path, MODELS["int counter"])
    report = after_passes(path, fixed.replace("x * self.calls", "self.calls * x"), fixed)
    assert used == ["baseline", "targets"]
    assert report.ok and report.compared, report.failures
    assert len([c for c in report.checks if c.stage == "scripted"]) > 2  # probe and derived inputs


def test_a_scripted_mismatch_is_caught_after_passes(tmp_path: Path, used: list[str]) -> None:
    path = tmp_path / "model.py"
    fixed = write(path, MODELS["scripted differs"])
    original = fixed.replace("return x\n", "return x  # original\n")
    script(path, original)
    assert script(path, fixed).diagnostics  # the pass saw it too
    report = verify(path, fixed, original=original)
    assert used == ["baseline"]  # not the pass's copies: see CALLS_FAIL
    failure = report.failures[0]
    assert (failure.target, failure.stage, failure.input) == ("Net", "scripted", "probe input 0")
    assert "scripted returns a float32 tensor of shape [2, 3] with different values" in failure.message


def test_an_eager_change_is_caught_after_passes(tmp_path: Path, used: list[str]) -> None:
    path = tmp_path / "model.py"
    original = write(path, model("return x * 2"))
    fixed = original.replace("return x * 2", "return x * 3")
    report = after_passes(path, original, fixed)
    assert used == ["baseline", "targets"]
    failure = report.failures[0]
    assert (failure.stage, failure.input) == ("eager", "probe input 0")
    assert failure.message.startswith("output: the fixes change the eager output")


def test_a_forward_that_changes_a_module_global_loads_afresh(tmp_path: Path, used: list[str]) -> None:
    """The pass's eager runs filled a module-level list the output depends on: a fresh import
    starts it empty, so the kept module is not used."""
    path = tmp_path / "model.py"
    fixed = write(path, """
        from typing import List
        import torch
        from torch import nn

        CALLS: List[int] = []

        @torch.jit.ignore
        def tick() -> int:
            CALLS.append(1)
            return len(CALLS)

        class Net(nn.Module):
            def forward(self, x):
                return x * tick()

        def probe():
            return Net(), [(torch.ones(2, 3),)]
    """)
    original = fixed.replace("import torch\n", "import torch  # before the fixes\n", 1)
    alone = verify(path, fixed, original=original)
    assert alone.failures  # eager and scripted tick in turn
    used.clear()
    again = after_passes(path, original, fixed)
    assert used == ["baseline"]  # the first pass computed those right after a fresh import too
    assert same(again) == same(alone)


def test_what_the_probe_switched_off_stays_off(tmp_path: Path, used: list[str]) -> None:
    """A probe that turns autograd off: the worker turns it back on after each request, and a
    verify that calls the probe runs with it off. So does one that runs the pass's copies."""
    path = tmp_path / "model.py"
    fixed = write(path, model("return x * 2 if torch.is_grad_enabled() else x").replace(
        "torch.manual_seed(0)", "torch.manual_seed(0)\n            torch.set_grad_enabled(False)"))
    original = fixed.replace("import torch\n", "import torch  # before the fixes\n", 1)
    alone = verify(path, fixed, original=original)
    assert alone.ok and alone.compared, alone.failures
    again = after_passes(path, original, fixed)
    assert used == ["baseline", "targets"]
    assert same(again) == same(alone)


def test_targets_that_share_a_module_load_afresh(tmp_path: Path, used: list[str]) -> None:
    """The second target is the first one's submodule, whose buffer the first one's scripted
    run advances: a verify that calls the probe starts the second from there, which the
    copies the pass took before any call cannot do."""
    path = tmp_path / "model.py"
    fixed = write(path, """
        import torch
        from torch import nn

        class Inner(nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("count", torch.zeros(1))

            def forward(self, x):
                self.count += 1
                return x + self.count

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = Inner()

            def forward(self, x):
                return self.inner(x)

        def probe():
            net = Net()
            return [(net, [(torch.ones(2, 3),)]), (net.inner, [(torch.ones(2, 3),)])]
    """)
    original = fixed.replace("import torch\n", "import torch  # before the fixes\n", 1)
    alone = verify(path, fixed, original=original)
    used.clear()
    again = after_passes(path, original, fixed)
    assert used == ["baseline"]
    assert same(again) == same(alone)


def test_a_sibling_changed_on_disk_loads_afresh(tmp_path: Path, used: list[str]) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    helper = tmp_path / "helper.py"
    helper.write_text("import torch\n\n\ndef scale(x: torch.Tensor) -> torch.Tensor:\n    return x * 2\n")
    path = tmp_path / "model.py"
    fixed = write(path, model("return scale(x)").replace("import torch\n", "import torch\n        from helper import scale\n"))
    original = fixed.replace("import torch\n", "import torch  # before the fixes\n", 1)
    script(path, original)
    script(path, fixed)
    helper.write_text(helper.read_text().replace("x * 2", "x * 3"))
    report = verify(path, fixed, original=original)
    assert used == []  # both passes ran x * 2: the first pass's outputs would be taken for a change
    assert report.ok and report.compared, report.failures


def test_another_file_drops_the_kept_module(tmp_path: Path, used: list[str]) -> None:
    path, other = tmp_path / "model.py", tmp_path / "other.py"
    fixed = write(path, model("return x * 2"))
    write(other, model("return x * 3"))
    script(path, fixed)
    script(other, other.read_text())
    report = verify(path, fixed, original=fixed + "\n")
    assert used == [] and report.ok


def test_the_real_worker_verifies_a_stateful_model_after_passes(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    fixed = write(path, MODELS["tensor attribute updated in place"])
    original = fixed.replace("x * self.acc", "self.acc * x")
    with Worker(timeout=60) as worker:
        worker.script(ScriptRequest(str(path), original))
        worker.script(ScriptRequest(str(path), fixed))
        after = worker.verify(VerifyRequest(str(path), fixed, original=original))
        alone = worker.verify(VerifyRequest(str(path), fixed, original=original))
    assert after.ok and after.compared, after.failures
    assert same(after) == same(alone)
