"""A caller's parameter made Optional in a pass is handed on, in the same pass, to the helper it
passes it to unguarded (rules/_optional_passed_on.py), where the source says TorchScript cannot
have refined it (source_narrowing.py). Rules on real source text; the end-to-end cases run the
real worker and torch.jit.script."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent

import pytest

from tsannotate import rules
from tsannotate.loop import Loop, Options
from tsannotate.records import (
    AnnotateParam,
    CompiledParam,
    CompiledSignature,
    Diagnostic,
    DiagnosticKind,
    Evidence,
    Location,
    Observation,
    Role,
)
from tsannotate.source import index_source, index_with_libcst
from tsannotate.source_narrowing import narrowings_of_text
from tsannotate.worker import Worker

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"


def narrowed(text: str, function: str, name: str, needle: str) -> bool:
    index = index_source("/p/m.py", dedent(text))
    line = next(i for i, l in enumerate(dedent(text).splitlines(), 1) if needle in l)
    return index.narrowed(function, name, line)


# --------------------------------------------------------------------------- narrowing facts


@pytest.mark.parametrize("body, refined", [
    ("if mask is not None:\n        y = f(mask)", True),
    ("if mask is None:\n        y = x\n    else:\n        y = f(mask)", True),
    ("y = f(mask) if mask is not None else x", True),
    ("y = mask is not None and f(mask)", True),
    ("assert mask is not None\n    y = f(mask)", True),
    ("if mask is None:\n        return x\n    y = f(mask)", True),
    ("if isinstance(mask, torch.Tensor):\n        y = f(mask)", True),
    ("ys = [f(mask) for _ in range(2) if mask is not None]", True),
    ("mask = mask.bool()\n    y = f(mask)", True),  # rebound: anything goes
    ("if flag:\n        y = f(mask)", False),
    ("has = mask is not None\n    y = f(mask)", False),  # TorchScript does not refine through a variable
    ("if mask is not None:\n        x = x + 1\n    y = f(mask)", False),  # the test's block ended
    ("y = f(mask)\n    if mask is None:\n        return x", False),  # the exit comes after
])
def test_a_call_is_narrowed_where_a_none_test_may_refine_the_parameter(body: str, refined: bool) -> None:
    text = f"import torch\n\n\ndef g(x, mask, flag):\n    {body}\n    return x\n"
    assert narrowed(text, "g", "mask", "f(mask)") is refined


def test_both_readers_read_the_same_narrowings_crlf_included() -> None:
    text = dedent('''\
        class A:
            def forward(self, x, mask=None):
                if mask is None:
                    return x
                return self.f(mask)

            class Inner:
                def g(self, y):
                    assert y is not None
                    return y
        ''')
    assert index_source("m.py", text).narrowings == index_with_libcst("m.py", text).narrowings
    assert {(n.function, n.name) for n in index_source("m.py", text).narrowings} == {
        ("A.forward", "mask"), ("A.Inner.g", "y")}
    crlf = text.replace("\n", "\r\n")
    assert index_source("m.py", crlf).narrowings == index_source("m.py", text).narrowings
    assert narrowings_of_text("def (:") == ()


# --------------------------------------------------------------------------- the rule

MODEL = dedent('''\
    import torch
    from torch import nn


    def pool(x, lengths):
        return x.sum(1) if lengths is None else x.sum(1) / lengths


    class Head(nn.Module):
        def merge(self, padding, extra):
            if padding is None:
                return extra
            return padding | extra

        def outer(self, padding, extra):
            return self.merge(padding, extra)

        def forward(self, x, padding=None, lengths=None, fused=False):
            if fused:
                x = x.masked_fill(self.outer(padding, x > 0), 0.0)
            return pool(x, lengths)
''')


def plan(text: str, *observations: Observation) -> dict[tuple[str, str], str]:
    fixes = rules.plan(Evidence(index_source("/p/model.py", text), (), observations=observations))
    return {(f.edit.function, f.edit.param): f.edit.annotation.text
            for f in fixes if isinstance(f.edit, AnnotateParam)}


def seen(qualname: str, name: str, t: str) -> Observation:
    return Observation(qualname, name, Role.ARG, t, count=2)


def test_an_optional_goes_on_through_every_unguarded_call_in_the_same_pass() -> None:
    found = plan(MODEL, seen("Head.forward", "padding", "Optional[Tensor]"),
                 seen("Head.forward", "lengths", "Optional[Tensor]"), seen("Head.forward", "fused", "bool"))
    assert found == {
        ("Head.forward", "padding"): "Optional[torch.Tensor]",
        ("Head.forward", "lengths"): "Optional[torch.Tensor]",
        ("Head.forward", "fused"): "bool",
        ("Head.outer", "padding"): "Optional[torch.Tensor]",  # forward → outer, under `if fused:`
        ("Head.merge", "padding"): "Optional[torch.Tensor]",  # outer → merge: the chain goes on
        ("pool", "lengths"): "Optional[torch.Tensor]",
    }


def test_a_guarded_call_a_users_annotation_and_other_probe_types_stop_it() -> None:
    guarded = MODEL.replace("return pool(x, lengths)",
                            "return pool(x, lengths) if lengths is not None else x.sum(1)")
    annotated = guarded.replace("def outer(self, padding, extra)", "def outer(self, padding: torch.Tensor, extra)")
    found = plan(annotated, seen("Head.forward", "padding", "Optional[Tensor]"),
                 seen("Head.forward", "lengths", "Optional[Tensor]"))
    assert found == {("Head.forward", "padding"): "Optional[torch.Tensor]",
                     ("Head.forward", "lengths"): "Optional[torch.Tensor]"}
    found = plan(MODEL, seen("Head.forward", "lengths", "Optional[Tensor]"), seen("pool", "lengths", "int"))
    assert found[("pool", "lengths")] == "int"  # the probe saw the helper take an int: not ours to widen


def test_a_helper_parameter_the_probe_typed_plainly_is_widened_to_the_optional() -> None:
    text = MODEL.replace("x.sum(1) / lengths", "x.sum(1) / lengths + 0").replace("padding=None", "padding")
    found = plan(text, seen("Head.forward", "lengths", "Optional[float]"), seen("pool", "lengths", "float"))
    assert found[("Head.forward", "lengths")] == "Optional[float]"
    assert found[("pool", "lengths")] == "Optional[float]"


ROTARY = dedent('''\
    import torch
    from torch import nn


    class Rotary(nn.Module):
        def __init__(self, dim=8):
            super().__init__()
            self.max_seq_len_cached = 4
            self.dim = dim

        def _set_cache(self, seq_len):
            self.max_seq_len_cached = seq_len
            return torch.arange(seq_len)

        def forward(self, x, seq_len=None):
            if seq_len > self.max_seq_len_cached:
                return self._set_cache(seq_len)
            return x
''')


def test_a_helper_that_uses_the_value_as_a_t_is_not_widened() -> None:
    """LLaMA's `_set_cos_sin_cache(seq_len)` stores it in an int attribute: an Optional there would
    outlive the `assert seq_len is not None` the caller needs (and is advised to write)."""
    found = plan(ROTARY, seen("Rotary.forward", "seq_len", "Optional[int]"), seen("Rotary._set_cache", "seq_len", "int"))
    assert found == {("Rotary.forward", "seq_len"): "Optional[int]", ("Rotary._set_cache", "seq_len"): "int"}
    index = index_source("/p/m.py", ROTARY)
    assert not index.tests_for_none("Rotary._set_cache", "seq_len") and not index.tests_for_none("Rotary.forward", "seq_len")
    assert index_source("/p/m.py", MODEL).tests_for_none("Head.merge", "padding")
    assert not index_source("/p/m.py", MODEL).tests_for_none("Head.outer", "padding")  # hands it on instead


def test_no_optional_in_the_pass_nothing_is_handed_on() -> None:
    assert plan(MODEL, seen("Head.forward", "fused", "bool")) == {("Head.forward", "fused"): "bool"}


LOCAL = dedent('''\
    import torch
    from torch import nn


    class Count(nn.Module):
        def forward(self, mask):
            return mask.sum(1)


    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.count = Count()
            self.proj = nn.Linear(4, 4)
            self.lstm = nn.LSTM(4, 4)

        def attend(self, x, bias):
            if bias is None:
                return x
            return x + bias

        def pool(self, x, lengths):
            return x.sum(1) if lengths is None else x.sum(1) / lengths

        def forward(self, x, mask=None):
            lengths = self.count(mask) if mask is not None else None
            bias = None if mask is None else mask.unsqueeze(1).float() * -1e4
            return self.attend(self.proj(x), bias), self.pool(x, lengths)
''')


# the model fails (a local is handed on only then): the compiler's first error, wherever it is
FAILED = Diagnostic(DiagnosticKind.UNKNOWN, "an error elsewhere", Location("/p/model.py", 1))


def plan_failing(text: str, *observations: Observation, signatures: tuple[CompiledSignature, ...] = ()
                 ) -> dict[tuple[str, str], str]:
    fixes = rules.plan(Evidence(index_source("/p/model.py", text), (FAILED,), signatures=signatures,
                                observations=observations))
    return {(f.edit.function, f.edit.param): f.edit.annotation.text
            for f in fixes if isinstance(f.edit, AnnotateParam)}


def test_an_optional_local_is_handed_on_when_its_value_is_plain_from_the_evidence() -> None:
    """`self.count(...)` is a module of this file (its forward's return: the compiled signature, the
    probe, else its annotation; here the compiler's own assumption for an unannotated `mask` does not
    say what `mask.sum(1)` gives, so a signature is needed); `mask.unsqueeze(1).float() * -1e4` is a
    Tensor because `mask` is one."""
    signature = CompiledSignature("Count.forward", (CompiledParam("mask", "Tensor", False),), "Tensor")
    fixes = rules.plan(Evidence(index_source("/p/model.py", LOCAL), (FAILED,), signatures=(signature,),
                                observations=(seen("Head.forward", "mask", "Optional[Tensor]"),)))
    found = {(f.edit.function, f.edit.param): f.edit.annotation.text for f in fixes if isinstance(f.edit, AnnotateParam)}
    assert found == {("Head.forward", "mask"): "Optional[torch.Tensor]",
                     ("Head.attend", "bias"): "Optional[torch.Tensor]",
                     ("Head.pool", "lengths"): "Optional[torch.Tensor]"}
    reason = next(f.reason for f in fixes if isinstance(f.edit, AnnotateParam) and f.edit.param == "lengths")
    assert "None or `self.count(mask)`" in reason
    # no signature, no probe: what `self.count(mask)` returns is unknown, and its local is left to the compiler
    assert ("Head.pool", "lengths") not in plan_failing(LOCAL, seen("Head.forward", "mask", "Optional[Tensor]"))
    # a model that scripts has compiled its calls: nothing to hand on
    assert ("Head.attend", "bias") not in plan(LOCAL, seen("Head.forward", "mask", "Optional[Tensor]"))
    # `mask` stays a plain Tensor (no None default, no probe saw None): TorchScript decides `mask is
    # None` when compiling, and `bias` is a Tensor
    assert ("Head.attend", "bias") not in plan_failing(LOCAL.replace("mask=None", "mask"),
                                                       seen("Head.forward", "mask", "Tensor"))
    assert ("Head.attend", "bias") in plan_failing(LOCAL.replace("mask=None", "mask: Optional[torch.Tensor] = None"))


@pytest.mark.parametrize("change", [
    ("        return self.attend(", "        bias = bias if bias is not None else x\n        return self.attend("),
    ("return self.attend(self.proj(x), bias),", "return (self.attend(self.proj(x), bias) if bias is not None else x),"),
    ("mask.unsqueeze(1).float() * -1e4", "mask.tolist()"),  # not a Tensor method that gives a Tensor
    ("mask.unsqueeze(1).float() * -1e4", "self.lstm(mask)"),  # a torch.nn layer that returns a tuple
    ("        bias = None if", "        bias: Optional[torch.Tensor] = None if"),  # the user's annotation
])
def test_an_optional_local_rebound_guarded_or_of_unknown_type_is_not_handed_on(change: tuple[str, str]) -> None:
    text = LOCAL.replace(*change)
    assert text != LOCAL
    assert ("Head.attend", "bias") not in plan_failing(text, seen("Head.forward", "mask", "Optional[Tensor]"))
    assert ("Head.attend", "bias") in plan_failing(LOCAL, seen("Head.forward", "mask", "Optional[Tensor]"))


def test_the_value_beside_none_of_a_layer_or_a_parameter() -> None:
    from tsannotate.rules._value_type import value_type
    index = index_source("/p/model.py", LOCAL)
    evidence = Evidence(index, (), observations=(seen("Head.forward", "mask", "Optional[Tensor]"),))
    forward = index.function("Head.forward")
    assert forward is not None
    assert str(value_type(evidence, forward, "self.proj(x)[:, 0]")) == "Tensor"
    assert str(value_type(evidence, forward, "~mask")) == "Tensor"
    assert str(value_type(evidence, forward, "x > 0")) == "Tensor"
    assert value_type(evidence, forward, "self.lstm(x)") is None
    assert value_type(evidence, forward, "self") is None
    assert value_type(evidence, forward, "mask.size(0)") is None
    assert value_type(evidence, forward, "len(x)") is None
    assert value_type(evidence, forward, "x +") is None


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker(timeout=60) as w:
        yield w


def test_optional_arg_from_caller_takes_one_pass_and_is_then_left_alone(worker: Worker, tmp_path: Path) -> None:
    case = CASES / "optional_arg_from_caller"
    path = tmp_path / "model.py"
    shutil.copyfile(case / "input.py", path)
    outcome = Loop(str(path), worker, Options(max_passes=10)).run(path.read_text())
    assert outcome.scripts and len(outcome.passes) == 1
    assert outcome.final == (case / "expected.py").read_text()
    path.write_text(outcome.final)
    again = Loop(str(path), worker, Options(max_passes=10)).run(outcome.final)
    assert again.scripts and not again.changed and again.passes == ()


def test_a_refined_call_is_not_widened(worker: Worker, tmp_path: Path) -> None:
    """inherited_method_param: `self.count(mask) if mask is not None else None` — count's `mask`
    must stay a Tensor (its `mask.sum(1)` would not compile on an Optional)."""
    case = CASES / "inherited_method_param"
    path = tmp_path / "model.py"
    shutil.copyfile(case / "input.py", path)
    outcome = Loop(str(path), worker, Options(max_passes=10)).run(path.read_text())
    assert outcome.scripts and outcome.final == (case / "expected.py").read_text()
    assert "    def forward(self, mask):\n" in outcome.final  # LengthCounter's, unchanged
    # `lengths = ... if mask is not None else None`, handed to `self.pool` (never run by the
    # probe): its Optional in the same pass as `mask`'s, from LengthCounter's compiled signature
    assert len(outcome.passes) == 1
