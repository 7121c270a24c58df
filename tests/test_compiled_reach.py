"""Evidence counts only for functions TorchScript compiles (rules._common.Reach).

Helpers that only `__init__`, the probe or a model factory call (timm's `to_2tuple`, YOLO's
`autopad`, torchvision's `_make_divisible`, DINO's `vit_tiny`) are never compiled: mypy's call-site
inferences about them (`to_2tuple(x: int)`, against its own `isinstance(x, (list, tuple))` branch)
are not proposed. Functions that compiled code reaches — directly, through a module-level helper,
a method passed as a value, an export — keep their static annotations.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent

import pytest

from tsannotate import rules
from tsannotate.loop import Loop, Options
from tsannotate.records import (
    AnnotateAttribute,
    AnnotateEmpty,
    AnnotateLocal,
    AnnotateParam,
    CompiledParam,
    CompiledSignature,
    Evidence,
    Fix,
    Observation,
    Role,
    Source,
)
from tsannotate.rules._common import Reach
from tsannotate.source import index_source
from tsannotate.worker import Worker

PATH = "/p/model.py"
MODEL = dedent('''\
    import torch
    from torch import nn


    def to_2tuple(x):
        if isinstance(x, (list, tuple)):
            return tuple(x)
        return (x, x)


    def autopad(k, p=None, d=1):
        if p is None:
            p = k // 2 if isinstance(k, int) else [x // 2 for x in k]
        return p


    def scale(x, factor):
        return x * factor


    def outer(x, factor):
        return scale(x, factor)


    class Config:
        def __init__(self):
            self.sizes = []

        def fill(self):
            self.sizes.append(3)


    class Patch(nn.Module):
        def __init__(self, patch_size=4, k=3):
            super().__init__()
            self.patch_size = to_2tuple(patch_size)
            self.pad = autopad(k)
            self.history = []
            self.proj = nn.Conv2d(3, 8, self.patch_size, self.patch_size)

        def forward(self, x):
            self.history.append(1.5)
            return outer(self.proj(x), 0.5)


    def vit_tiny(patch_size=16):
        return Patch(patch_size)
    ''')


def _static(qualname: str, name: str, role: Role, type_: str) -> Observation:
    return Observation(qualname, name, role, type_, static=True)


def _titles(fixes: tuple[Fix, ...]) -> set[str]:
    return {f.title for f in fixes}


def test_init_only_helpers_get_nothing_from_mypy_forward_helpers_keep_it() -> None:
    evidence = Evidence(index_source(PATH, MODEL), observations=(
        _static("to_2tuple", "x", Role.ARG, "int"),
        _static("autopad", "k", Role.ARG, "int"),
        _static("autopad", "p", Role.LOCAL, "int"),
        _static("vit_tiny", "patch_size", Role.ARG, "int"),
        _static("outer", "factor", Role.ARG, "float"),  # forward → outer
        _static("scale", "factor", Role.ARG, "float"),  # forward → outer → scale
        _static("Config", "sizes", Role.ATTR, "List[int]"),  # a class TorchScript never compiles
        _static("Patch", "history", Role.ATTR, "List[float]"),
    ))
    fixes = rules.plan(evidence)
    params = {(f.edit.function, f.edit.param): f.edit.annotation.text for f in fixes
              if isinstance(f.edit, AnnotateParam)}
    assert params == {("outer", "factor"): "float", ("scale", "factor"): "float"}
    assert all(f.evidence is Source.STATIC for f in fixes if isinstance(f.edit, AnnotateParam))
    attributes = {(f.edit.class_name, f.edit.attr) for f in fixes if isinstance(f.edit, AnnotateAttribute)}
    assert attributes == {("Patch", "history")}
    assert not any(getattr(f.edit, "function", "") in ("to_2tuple", "autopad", "vit_tiny") for f in fixes)


def test_reach_of_the_model() -> None:
    reach = Reach(Evidence(index_source(PATH, MODEL)))
    assert reach.reached == {"Patch.forward", "outer", "scale"}


def test_what_compiled_code_refers_to_is_reached() -> None:
    """A method passed as a value (mmdet's `multi_apply(self.forward_single, ...)`), an override
    `self.step` reaches in a subclass, an @torch.jit.export method and what it calls, a property, a
    TorchScript class called from compiled code, a function a module attribute holds; not through
    an ignored method."""
    text = dedent('''\
        import torch
        from torch import nn


        def gelu(x, approx):
            return x


        def apply_all(fn, xs):
            return [fn(x) for x in xs]


        def exported_helper(n):
            return n


        def ignored_helper(n):
            return n


        class Box:
            def __init__(self, w):
                self.w = w

            def area(self, h):
                return self.w * h


        class Base(nn.Module):
            def __init__(self):
                super().__init__()
                self.act = gelu

            def forward(self, xs):
                apply_all(self.single, xs)
                return self.step(xs[0]) + self.size

            def single(self, x, stride):
                return x

            def step(self, x):
                return x

            @property
            def size(self):
                return 1

            @torch.jit.export
            def info(self, n):
                return exported_helper(n) + Box(2).area(n)

            @torch.jit.ignore
            def debug(self, n):
                return ignored_helper(n)


        class Child(Base):
            def step(self, x, scale=2.0):
                return x * scale
        ''')
    reach = Reach(Evidence(index_source(PATH, text)))
    assert {"Base.single", "Child.step", "Base.step", "Base.size", "Base.info", "exported_helper", "Box.__init__",
            "Box.area", "apply_all", "gelu"} <= reach.reached
    assert "ignored_helper" not in reach.reached and "Base.debug" not in reach.reached
    assert "Base.__init__" not in reach.reached
    assert reach.python_only == {"Base.debug", "ignored_helper"}


def test_the_workers_evidence_adds_entry_points() -> None:
    """A function that compiled (a target the probe returns) and what it calls count."""
    text = "def helper(a, b):\n    return a * b\n\n\ndef target(x):\n    return helper(x, 0.5)\n"
    observations = (_static("helper", "b", Role.ARG, "float"),)
    assert not rules.plan(Evidence(index_source(PATH, text), observations=observations))
    signature = CompiledSignature("target", (CompiledParam("x", "Tensor"),), "Tensor")
    (fix,) = rules.plan(Evidence(index_source(PATH, text), signatures=(signature,), observations=observations))
    assert isinstance(fix.edit, AnnotateParam) and (fix.edit.function, fix.edit.param) == ("helper", "b")


def test_locals_of_uncompiled_functions_get_nothing() -> None:
    text = dedent('''\
        from torch import nn


        def make_divisible(v, divisor=8):
            found = None
            sizes = []
            for i in range(v):
                found = i
                sizes.append(i)
            return found


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.width = make_divisible(30)

            def forward(self, x):
                seen = []
                seen.append(1)
                return x
        ''')
    evidence = Evidence(index_source(PATH, text), observations=(
        _static("make_divisible", "found", Role.LOCAL, "Optional[int]"),
        _static("make_divisible", "sizes", Role.LOCAL, "List[int]"),
        _static("make_divisible", "v", Role.ARG, "int"),
        _static("Net.forward", "seen", Role.LOCAL, "List[int]"),
    ))
    fixes = rules.plan(evidence)
    assert [(type(f.edit), getattr(f.edit, "function", "")) for f in fixes] == [(AnnotateEmpty, "Net.forward")]
    assert not any(isinstance(f.edit, (AnnotateLocal, AnnotateParam)) for f in fixes)


def test_probe_evidence_of_a_helper_only_an_ignored_method_runs() -> None:
    """The probe saw it (the ignored method ran it in Python); TorchScript never compiles it. A
    function nothing in this file calls (another file's code does) keeps what the probe saw."""
    text = dedent('''\
        import torch
        from torch import nn


        def noise(scale):
            return scale


        def shared(scale):
            return scale


        class Net(nn.Module):
            def forward(self, x):
                return x + self.jitter(0.5)

            @torch.jit.ignore
            def jitter(self, s):
                return noise(s)
        ''')
    evidence = Evidence(index_source(PATH, text), observations=(
        Observation("noise", "scale", Role.ARG, "float"),
        Observation("shared", "scale", Role.ARG, "float"),
    ))
    fixes = rules.plan(evidence)
    assert _titles(fixes) == {"annotate parameter `scale` of shared as float"}


# --------------------------------------------------------------------------- the whole loop

REPRO = dedent('''\
    import torch
    import torch.nn as nn


    def to_2tuple(x):
        if isinstance(x, (list, tuple)):
            return tuple(x)
        return (x, x)


    def autopad(k, p=None, d=1):
        if d > 1:
            k = d * (k - 1) + 1 if isinstance(k, int) else [d * (x - 1) + 1 for x in k]
        if p is None:
            p = k // 2 if isinstance(k, int) else [x // 2 for x in k]
        return p


    def shift(x, amount):
        return x + amount


    class Patch(nn.Module):
        def __init__(self, patch_size=4, k=3):
            super().__init__()
            self.patch_size = to_2tuple(patch_size)
            self.proj = nn.Conv2d(3, 8, self.patch_size, self.patch_size)
            self.conv = nn.Conv2d(8, 8, k, 1, autopad(k, None, 1))

        def forward(self, x, flatten=True):
            x = shift(self.conv(self.proj(x)), 0.5)
            return x.flatten(2) if flatten else x


    def probe():
        return Patch(), [(torch.randn(1, 3, 8, 8),)]
    ''')


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker(timeout=60) as w:
        yield w


@pytest.mark.parametrize("no_probe", [False, True], ids=["probe", "no-probe"])
def test_init_only_helpers_are_untouched_and_the_model_scripts(worker: Worker, tmp_path: Path,
                                                               no_probe: bool) -> None:
    path = tmp_path / "model.py"
    path.write_text(REPRO)
    outcome = Loop(str(path), worker, Options(max_passes=10, no_probe=no_probe)).run(REPRO)
    assert outcome.load_error is None, outcome.load_error
    assert outcome.scripts, [d.message for d in outcome.remaining]
    final = outcome.final
    assert "def to_2tuple(x):" in final and "def autopad(k, p=None, d=1):" in final
    assert "def shift(x, amount: float):" in final  # forward's helper still gets its type
    assert "flatten: bool = True" in final
    assert not any(getattr(f.edit, "function", "") in ("to_2tuple", "autopad") for f in outcome.fixes)

