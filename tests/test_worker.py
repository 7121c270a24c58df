"""The worker, end to end: real torch in a real subprocess, tiny model files in tmp_path.

One Worker serves the whole module (each start costs an `import torch`); the crash and
timeout tests make it restart, and the tests after them check that it does.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from tsannotate.records import (
    CompiledParam,
    DiagnosticKind,
    LoadFailure,
    ScriptReport,
    ScriptRequest,
)
from tsannotate.worker import Worker



@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker(timeout=60) as w:
        yield w


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def script(worker: Worker, path: Path, source: str | None = None,
           probe: str | None = None) -> ScriptReport:
    text = path.read_text() if source is None else textwrap.dedent(source).lstrip("\n")
    return worker.script(ScriptRequest(str(path), text, probe=probe))


def line_of(text: str, needle: str) -> int:
    lines = textwrap.dedent(text).lstrip("\n").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


CLEAN = """
import torch
from torch import nn
print("user code prints to stdout")


def scale(x, k: float = 1.0):
    return x * k


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x, mask=None):
        return self.extra(self.lin(x), 2)

    def extra(self, x, n: int):
        return scale(x, float(n))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()

    def forward(self, x):
        return self.block(x, torch.ones(4))
"""


def test_clean_model_scripts_with_signatures(worker: Worker, tmp_path: Path) -> None:
    report = script(worker, write(tmp_path / "clean.py", CLEAN))
    assert report.load_error is None, report.load_error
    assert report.scripts
    assert [t.name for t in report.targets] == ["Net"]  # Block is scripted as part of Net
    sigs = {s.qualname: s for s in report.signatures}
    assert sigs["Net.forward"].params == (CompiledParam("x", "Tensor"),)
    assert sigs["Net.forward"].returns == "Tensor"
    assert sigs["Block.forward"].params == (CompiledParam("x", "Tensor"),
                                            CompiledParam("mask", "Tensor", has_default=True))
    assert sigs["Block.extra"].params == (CompiledParam("x", "Tensor"), CompiledParam("n", "int"))
    assert sigs["scale"].params == (CompiledParam("x", "Tensor"),
                                    CompiledParam("k", "float", has_default=True))
    assert report.seconds > 0


def test_unannotated_none_default_compiles_as_tensor_with_default(worker: Worker,
                                                                  tmp_path: Path) -> None:
    path = write(tmp_path / "nonedefault.py", """
        from typing import List, Optional, Dict, Tuple
        import torch
        from torch import nn

        class Net(nn.Module):
            def forward(self, x, mask=None, sizes: List[int] = (1,), o: Optional[Dict[str, int]] = None):
                return x, sizes
    """)
    report = script(worker, path)
    (sig,) = [s for s in report.signatures if s.qualname == "Net.forward"]
    assert sig.params == (
        CompiledParam("x", "Tensor"),
        CompiledParam("mask", "Tensor", has_default=True),
        CompiledParam("sizes", "List[int]", has_default=True),
        CompiledParam("o", "Optional[Dict[str, int]]", has_default=True),
    )
    assert sig.returns == "Tuple[Tensor, List[int]]"


def test_the_call_check_calls_as_a_deployment_does(worker: Worker, tmp_path: Path) -> None:
    """A `w=None` compiled as a Tensor reaches `weigh` as an undefined tensor: the optimising
    graph executor (torch's default, a deployment's) takes it for not None and raises, the
    plain interpreter for None. The pass's call check must see the failure (realcode's
    EmbeddingBag: a check run without optimisations scripted it with no fix)."""
    path = write(tmp_path / "undefined_default.py", """
        from typing import Optional
        import torch


        def weigh(x, w: Optional[torch.Tensor] = None):
            if w is not None and w.size() != x.size():
                raise ValueError("w must have the shape of x")
            return x if w is None else x * w


        class Weighted(torch.nn.Module):
            def forward(self, x, w=None):
                return weigh(x, w)


        def probe():
            return Weighted(), [(torch.ones(2),), (torch.ones(2), torch.full((2,), 2.0))]
    """)
    report = script(worker, path)
    assert [(t.name, t.scripted, t.called) for t in report.targets] == [("Weighted", True, False)]
    assert not report.scripts
    assert any("w must have the shape of x" in d.message for d in report.diagnostics)


BROKEN = """
import torch
from torch import nn


class Net(nn.Module):
    def forward(self, x):
        y = None
        if x.sum() > 0:
            y = x * 2
        return x
"""


def test_broken_model_cites_the_real_path_and_line(worker: Worker, tmp_path: Path) -> None:
    path = write(tmp_path / "broken.py", BROKEN)
    report = script(worker, path)
    assert report.load_error is None
    assert not report.scripts
    assert report.targets[0].name == "Net" and not report.targets[0].scripted
    (d,) = report.diagnostics
    assert d.kind is DiagnosticKind.VARIABLE_TYPE_CHANGED
    assert d.location is not None
    assert d.location.path == str(path)
    assert d.location.line == line_of(BROKEN, "y = x * 2")
    assert "__tsannotate" not in d.raw


TWO_ERRORS = """
import torch
from torch import nn


class A(nn.Module):
    def forward(self, x):
        a = None
        if x.sum() > 0:
            a = x
        return x


class B(nn.Module):
    def forward(self, x):
        b = None
        if x.sum() < 0:
            b = x
        return x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = A()
        self.b = B()

    def forward(self, x):
        return self.a(x) + self.b(x)
"""


def test_independent_errors_in_two_submodules_come_in_one_report(worker: Worker,
                                                                  tmp_path: Path) -> None:
    report = script(worker, write(tmp_path / "two.py", TWO_ERRORS))
    lines = sorted(d.location.line for d in report.diagnostics if d.location)
    assert lines == [line_of(TWO_ERRORS, "a = x"), line_of(TWO_ERRORS, "b = x")]
    assert {d.symbol for d in report.diagnostics} == {"a", "b"}


GENERATION = """
import torch
from torch import nn


def helper(x, k: {t}):
    return x + k


@torch.jit.script
class Counter:
    def __init__(self):
        self.step = {k}

    def bump(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.step


class Net(nn.Module):
    def forward(self, x):
        return helper(x, {k}) + Counter().bump(x)


def probe():
    return Net(), [(torch.zeros(2),)]
"""


def test_each_generation_compiles_its_own_source(worker: Worker, tmp_path: Path) -> None:
    path = write(tmp_path / "gen.py", GENERATION.format(t="int", k=1))
    first = script(worker, path)
    assert first.scripts and first.targets[0].called
    second = script(worker, path, GENERATION.format(t="float", k=2.0))
    assert second.scripts and second.targets[0].called  # a stale Counter/helper would differ
    (helper,) = [s for s in second.signatures if s.qualname == "helper"]
    assert helper.params[1] == CompiledParam("k", "float")


def test_a_bad_generation_then_a_fixed_one(worker: Worker, tmp_path: Path) -> None:
    path = write(tmp_path / "fixme.py", BROKEN)
    assert script(worker, path).diagnostics
    fixed = BROKEN.replace("y = None\n", "y = torch.zeros(1)\n")
    assert script(worker, path, fixed).scripts
    assert script(worker, path, BROKEN).diagnostics


def test_an_error_in_a_sibling_module_is_reported_again_on_the_next_pass(
        worker: Worker, tmp_path: Path) -> None:
    write(tmp_path / "sib" / "__init__.py", "")
    write(tmp_path / "sib" / "layers.py", BROKEN.replace("class Net", "class Block"))
    model = write(tmp_path / "sib" / "model.py", """
        import torch
        from .layers import Block

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.b = Block()

            def forward(self, x):
                return self.b(x)
    """)
    for _ in range(2):  # not "Can't redefine method" from the half-compiled Block of pass 1
        (d,) = script(worker, model).diagnostics
        assert d.kind is DiagnosticKind.VARIABLE_TYPE_CHANGED
        assert d.location is not None and d.location.path == str(tmp_path / "sib" / "layers.py")


def test_the_request_text_is_compiled_not_the_file_on_disk(worker: Worker, tmp_path: Path) -> None:
    path = write(tmp_path / "ondisk.py", CLEAN)
    moved = "\n\n\n" + BROKEN  # three lines further down than anything on disk
    report = script(worker, path, moved)
    (d,) = report.diagnostics
    assert d.location is not None
    assert (d.location.path, d.location.line) == (str(path), line_of(moved, "y = x * 2"))
    assert "y = x * 2" in d.raw
    missing = tmp_path / "not_written_yet.py"  # the file need not exist at all
    assert script(worker, missing, CLEAN).scripts


def test_a_probe_elsewhere_imports_the_edited_module(worker: Worker, tmp_path: Path) -> None:
    write(tmp_path / "proj" / "mypkg" / "__init__.py", "from .model import Net\n")  # disk Net
    model = write(tmp_path / "proj" / "mypkg" / "model.py", CLEAN)
    probe = write(tmp_path / "probes" / "run_probe.py", """
        import torch
        import mypkg.model
        from mypkg import Net

        def make():
            assert Net is mypkg.model.Net  # the re-export was rebound to this pass's class
            return Net(), [(torch.ones(3, 4),)]
    """)
    spec = f"{probe}:make"
    edited = CLEAN.replace("return self.block(x, torch.ones(4))",
                           "y = None\n        if x.sum() > 0:\n            y = x\n"
                           "        return self.block(x, torch.ones(4))")
    report = script(worker, model, edited, probe=spec)
    assert [t.name for t in report.targets] == ["Net"]
    assert [d.kind for d in report.diagnostics] == [DiagnosticKind.VARIABLE_TYPE_CHANGED]
    clean = script(worker, model, probe=spec)
    assert clean.scripts and clean.targets[0].called


SCRIPTED_FUNCTION = """
import torch


@torch.jit.script
def fine(x):
    return x + 1


@torch.jit.script
def broken(x):
    z = None
    if x.sum() > 0:
        z = x
    return x
"""


def test_script_decorated_functions_are_targets(worker: Worker, tmp_path: Path) -> None:
    report = script(worker, write(tmp_path / "funcs.py", SCRIPTED_FUNCTION))
    assert report.load_error is None  # the decorator did not compile at import time
    assert [(t.name, t.scripted) for t in report.targets] == [("fine", True), ("broken", False)]
    (d,) = report.diagnostics
    assert d.location is not None and d.location.line == line_of(SCRIPTED_FUNCTION, "z = x")
    assert d.target == "broken"
    assert [s.qualname for s in report.signatures] == ["fine"]


def test_a_script_decorated_class_failing_at_import_is_a_diagnostic(worker: Worker,
                                                                   tmp_path: Path) -> None:
    source = """
        import torch

        @torch.jit.script
        class Box:
            def __init__(self):
                self.v = 1
                self.v = 2.5
    """
    report = script(worker, write(tmp_path / "klass.py", source))
    assert report.load_error is None
    assert [(t.name, t.scripted) for t in report.targets] == [("Box", False)]
    assert report.diagnostics and report.notes


@pytest.mark.parametrize(("source", "failure", "start"), [
    ("import torch\n\ndef f(:\n    pass\n", LoadFailure.SYNTAX, ":3: SyntaxError: "),
    ("import torch\n\nraise ValueError('boom')\n", LoadFailure.IMPORT,
     ":3: ValueError: boom (while importing the model)"),
    ("import torch\n\nclass Needs(torch.nn.Module):\n    def __init__(self, n):\n"
     "        super().__init__()\n", LoadFailure.NO_TARGET, ""),
])
def test_load_failures(worker: Worker, tmp_path: Path, source: str, failure: LoadFailure,
                       start: str) -> None:
    path = write(tmp_path / "bad.py", source)
    report = script(worker, path)
    assert report.load_error is not None
    assert report.load_error.failure is failure
    assert "\n" not in report.load_error.message
    assert report.load_error.message.startswith(f"{path}{start}" if start else "no nn.Module")
    if failure is LoadFailure.IMPORT:
        assert "tsannotate/worker" not in report.load_error.details
        assert f'File "{path}", line 3' in report.load_error.details


def test_a_failing_probe_is_a_load_error_even_with_modules_to_script(worker: Worker, tmp_path: Path) -> None:
    path = write(tmp_path / "probefails.py", CLEAN + "\n\ndef probe():\n    raise RuntimeError('no data')\n")
    report = script(worker, path)
    assert report.load_error is not None and report.load_error.failure is LoadFailure.PROBE
    assert "probe() raised RuntimeError: no data" in report.load_error.message
    assert "--no-probe" in report.load_error.message
    without = worker.script(ScriptRequest(str(path), path.read_text(), no_probe=True))
    assert without.scripts and not without.targets[0].called


def test_a_probe_returning_the_wrong_shape_is_named(worker: Worker, tmp_path: Path) -> None:
    path = write(tmp_path / "shape.py", "import torch\n\ndef probe():\n    return torch.ones(1)\n")
    report = script(worker, path)
    assert report.load_error is not None and report.load_error.failure is LoadFailure.PROBE
    assert "it returned Tensor" in report.load_error.message


MASK = """
import torch
from torch import nn


class Net(nn.Module):
    def forward(self, x, mask=None):
        if mask is not None:
            x = x * mask
        return x


class Drift(nn.Module):
    def forward(self, x):
        if torch.jit.is_scripting():
            return x + 1
        return x


def probe():
    return [(Net(), [(torch.ones(2), None)]), (Drift(), [(torch.ones(2),)])]
"""


def test_call_check_catches_none_for_an_inferred_tensor_and_drift(worker: Worker,
                                                                  tmp_path: Path) -> None:
    report = script(worker, write(tmp_path / "mask.py", MASK))
    assert [(t.name, t.scripted, t.called) for t in report.targets] == [
        ("Net", True, False), ("Drift", True, False)]
    by_target = {d.target: d for d in report.diagnostics}
    assert by_target["Net"].kind in (DiagnosticKind.NONE_DEFAULT, DiagnosticKind.CALL_FAILED)
    assert by_target["Net"].symbol == "mask"
    assert by_target["Drift"].kind is DiagnosticKind.CALL_FAILED
    assert by_target["Drift"].message.startswith("scripted Drift returns a float32 tensor")


def test_eager_calls_do_not_change_what_scripting_sees(worker: Worker, tmp_path: Path) -> None:
    path = write(tmp_path / "attr.py", """
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.cache = None

            def forward(self, x):
                self.cache = x
                return x

        def probe():
            return Net(), [(torch.ones(2),)]
    """)
    report = script(worker, path)  # eager first must not turn `cache` into a Tensor attribute
    assert [d.kind for d in report.diagnostics] == [DiagnosticKind.ATTRIBUTE_TYPE_CHANGED]


def test_a_crash_is_reported_and_the_next_request_works(worker: Worker, tmp_path: Path) -> None:
    path = write(tmp_path / "segv.py", """
        import os
        import signal
        import torch

        class Net(torch.nn.Module):
            def forward(self, x):
                return x

        def probe():
            print("about to crash")
            os.kill(os.getpid(), signal.SIGSEGV)
    """)
    starts = worker.starts
    report = script(worker, path)
    assert report.load_error is not None and report.load_error.failure is LoadFailure.CRASH
    assert "SIGSEGV" in report.load_error.message and "\n" not in report.load_error.message
    assert "about to crash" in report.load_error.details
    assert script(worker, write(tmp_path / "after.py", CLEAN)).scripts
    assert worker.starts == starts + 1


def test_a_timeout_is_reported_and_the_next_request_works(worker: Worker, tmp_path: Path) -> None:
    path = write(tmp_path / "spin.py", CLEAN + "\n\ndef probe():\n    while True:\n        pass\n")
    worker.timeout = 3
    try:
        report = script(worker, path)
    finally:
        worker.timeout = 60
    assert report.load_error is not None and report.load_error.failure is LoadFailure.TIMEOUT
    assert "did not finish within 3 s" in report.load_error.message
    assert script(worker, write(tmp_path / "after.py", CLEAN)).scripts


def test_an_internal_error_is_a_report_not_a_dead_worker(worker: Worker) -> None:
    report = worker.script(cast(ScriptRequest, "not a request"))
    assert report.load_error is not None
    assert report.load_error.message.startswith("internal error in the tsannotate worker")
    assert "Traceback" in report.load_error.details


def test_the_cli_process_never_imports_torch(tmp_path: Path) -> None:
    path = write(tmp_path / "m.py", CLEAN)
    code = textwrap.dedent(f"""
        import sys
        from tsannotate.records import ScriptRequest
        from tsannotate.worker import Worker
        with Worker() as w:
            report = w.script(ScriptRequest({str(path)!r}, open({str(path)!r}).read()))
            assert report.scripts, report
            assert report.signatures
        assert "torch" not in sys.modules, sorted(m for m in sys.modules if "torch" in m)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_replies_may_only_name_record_classes() -> None:
    import os
    import pathlib
    import time

    from tsannotate.worker import protocol
    from tsannotate.worker.client import REPLY_MODULES

    read, write_fd = os.pipe()
    try:
        protocol.send(write_fd, ScriptReport(notes=("ok",)))
        assert protocol.receive(read, None, REPLY_MODULES) == ScriptReport(notes=("ok",))
        protocol.send(write_fd, pathlib.PurePosixPath("/x"))  # stands in for a torch object
        with pytest.raises(protocol.ForbiddenGlobal):
            protocol.receive(read, None, REPLY_MODULES)
        with pytest.raises(protocol.ChannelTimeout):
            protocol.receive(read, time.monotonic() + 0.05)
    finally:
        os.close(read)
        os.close(write_fd)


@pytest.mark.parametrize("environ, threads", [({}, "1"), ({"OMP_NUM_THREADS": "2"}, "2")])
def test_the_worker_computes_on_one_thread_unless_told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       environ: dict[str, str], threads: str) -> None:
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    seen = tmp_path / "threads.txt"
    path = write(tmp_path / "model.py", f"""
        import torch
        from torch import nn

        class Net(nn.Module):
            def forward(self, x):
                return x

        def probe():
            open({str(seen)!r}, "w").write(str(torch.get_num_threads()))
            return Net(), [(torch.ones(2),)]
    """)
    with Worker(timeout=60) as w:
        assert w.script(ScriptRequest(str(path), path.read_text())).scripts
    assert seen.read_text() == threads
