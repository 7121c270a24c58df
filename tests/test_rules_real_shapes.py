"""Shapes found by running tsannotate on models in the style of popular code, from the compiler's
real words (fixtures/messages/, captured from fixtures/messages/capture.py) through the parser and
the rules: a HuggingFace-style output tuple that grows under a config flag (TS007 Final), a
detection stride `2 ** i` that TorchScript computes as a float (TS005), and a train/eval pair of
returns of different types (TS020 advice). No torch: the texts are files."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

from tsannotate import rules
from tsannotate.jit_messages import parse_compile_error
from tsannotate.records import (
    AnnotateAttribute,
    AnnotateParam,
    Diagnostic,
    DiagnosticKind,
    Evidence,
    Fix,
    Location,
    Observation,
    Role,
    Safety,
    Source,
)
from tsannotate.source import index_source

K = DiagnosticKind
MESSAGES = Path(__file__).resolve().parent.parent / "fixtures" / "messages"
CAPTURE = (MESSAGES / "capture.py").read_text()
INDEX = json.loads((MESSAGES / "index.json").read_text())["cases"]


def parsed(name: str) -> Diagnostic:
    return parse_compile_error((MESSAGES / f"{name}.txt").read_text(), INDEX[name]["exception"], "Model")


def plan(d: Diagnostic, text: str = CAPTURE, *observations: Observation) -> list[Fix]:
    path = d.location.path if d.location else "/p/model.py"
    return [f for f in rules.plan(Evidence(index_source(path, text), (d,), observations=observations))
            if f.evidence is not Source.SOURCE]


def line_of(anchor: str, needle: str, text: str = CAPTURE) -> int:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if anchor in line)
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


# --------------------------------------------------------------------------- F1: a tuple grows under a flag


def test_tuple_growing_under_a_config_flag_makes_the_flag_final() -> None:
    d = parsed("var_tuple_grows_under_flag")
    [fix] = plan(d)
    assert fix.code == "TS007" and fix.safety is Safety.SAFE
    assert fix.edit == AnnotateAttribute("TupleGrowsUnderFlag", "output_attentions", fix.edit.annotation)  # type: ignore[union-attr]
    assert fix.edit.annotation.text == "Final[bool]"  # type: ignore[union-attr]
    assert "in a branch on `self.output_attentions`" in fix.reason and d.message in fix.reason


MODEL = dedent('''\
    import torch
    from torch import nn


    class Attention(nn.Module):
        def __init__(self, output_attentions=False, return_dict=False):
            super().__init__()
            self.output_attentions = output_attentions
            self.return_dict = return_dict

        def forward(self, x):
            outputs = (x,)
            if self.output_attentions:
                outputs = outputs + (x,)
            if self.return_dict:
                pair = (x, x)
            else:
                pair = (x,)
            if self.training:
                return {"loss": x}
            y = None
            if self.output_attentions:
                y = x
            return outputs

        def reset(self):
            self.return_dict = True
''')
PATH = "/p/model.py"


def at(needle: str, kind: DiagnosticKind, message: str, types: tuple[str, ...], symbol: str) -> Diagnostic:
    return Diagnostic(kind, message, Location(PATH, line_of("def forward", needle, MODEL), 12), symbol=symbol,
                      types=types)


GROWS = at("outputs = outputs", K.VARIABLE_TYPE_CHANGED, "Variable 'outputs' previously had type Tuple[Tensor] "
           "but is now being assigned to a value of type Tuple[Tensor, Tensor]", ("Tuple[Tensor]", "Tuple[Tensor, Tensor]"),
           "outputs")


def test_flag_read_from_an_init_parameter_defaulting_to_a_bool_is_final() -> None:
    [fix] = plan(GROWS, MODEL)
    assert fix.edit == AnnotateAttribute("Attention", "output_attentions", fix.edit.annotation)  # type: ignore[union-attr]


def test_branches_of_different_types_under_a_flag_the_code_reassigns_get_advice_naming_where() -> None:
    d = at("if self.return_dict:", K.VARIABLE_TYPE_CHANGED, "Type mismatch: pair is set to type Tuple[Tensor, Tensor] "
           "in the true branch and type Tuple[Tensor] in the false branch", ("Tuple[Tensor, Tensor]", "Tuple[Tensor]"),
           "pair")
    [fix] = plan(d, MODEL)
    assert fix.code == "TS007" and fix.edit is None and fix.safety is Safety.DISPLAY_ONLY
    assert "Attention.reset reassigns it" in fix.reason
    assert fix.location is not None and fix.location.line == line_of("def reset", "self.return_dict = True", MODEL)


def test_a_return_of_another_type_under_self_training_is_not_made_final() -> None:
    d = at("return outputs", K.RETURN_TYPE_CHANGED, "Previous return statement returned a value of type "
           "Dict[str, Tensor] but this return statement returns a value of type Tuple[Tensor]",
           ("Dict[str, Tensor]", "Tuple[Tensor]"), "outputs")
    assert [f.code for f in plan(d, MODEL)] == ["TS020"]


def test_none_then_a_value_under_a_flag_stays_optional_not_final() -> None:
    d = at("y = x", K.VARIABLE_TYPE_CHANGED, "Variable 'y' previously had type NoneType but is now being assigned "
           "to a value of type Tensor", ("NoneType", "Tensor"), "y")
    [fix] = plan(d, MODEL)
    assert fix.code == "TS002"


# --------------------------------------------------------------------------- F2: `2 ** i` is a float


def seen(kind: str) -> Observation:
    return Observation("PowerArgument.scale", "stride", Role.ARG, kind, count=2)


def test_int_annotation_from_the_probe_gives_way_to_the_float_torchscript_computes() -> None:
    d = parsed("argument_power_float")
    assert d.kind is K.ARGUMENT_TYPE
    [fix] = plan(d, CAPTURE, seen("int"))
    assert fix.code == "TS005" and fix.safety is Safety.SAFE and fix.evidence is Source.COMPILER
    assert fix.edit == AnnotateParam("PowerArgument.scale", "stride", fix.edit.annotation)  # type: ignore[union-attr]
    assert fix.edit.annotation.text == "float"  # type: ignore[union-attr]
    assert "(passed `2 ** i`)" in fix.reason and "the probe run passed `stride` as int" in fix.reason


def test_annotation_the_probe_does_not_explain_gets_advice_to_convert_at_the_call() -> None:
    d = parsed("argument_power_float")
    for observations in ((), (seen("str"),)):
        [fix] = plan(d, CAPTURE, *observations)
        assert fix.code == "TS005" and fix.edit is None and fix.safety is Safety.DISPLAY_ONLY
        assert "`int(2 ** i)`" in fix.reason and "annotate the parameter float" in fix.reason
        assert fix.location == d.location


POWERS = dedent('''\
    import torch
    from torch import nn


    def centers(size, stride):
        return (torch.arange(size).float() + 0.5) * stride


    class Head(nn.Module):
        def decode(self, x, stride, level):
            return x * stride + centers(x.shape[-1], stride) + level

        def forward(self, xs):
            out = []
            for i, x in enumerate(xs):
                out.append(self.decode(x, 2 ** i, i + 1))
            return out
''')


def probe_saw_ints(*where: tuple[str, str]) -> tuple[Observation, ...]:
    return tuple(Observation(q, name, Role.ARG, "int", count=3) for q, name in where)


def test_an_int_the_code_computes_as_a_power_is_a_float_in_the_same_pass() -> None:
    """Before the compiler says so (it stops at an earlier error; the next pass would name it):
    the probe saw ints, TorchScript computes `2 ** i` as a float; the float follows `stride`
    into the helper it is passed on to; `i + 1` stays an int."""
    observations = probe_saw_ints(("Head.decode", "stride"), ("Head.decode", "level"), ("centers", "stride"))
    fixes = {(f.edit.function, f.edit.param): f for f in rules.plan(  # type: ignore[union-attr]
        Evidence(index_source("/p/model.py", POWERS), (), observations=observations))}
    assert {k: f.edit.annotation.text for k, f in fixes.items()} == {  # type: ignore[union-attr]
        ("Head.decode", "stride"): "float", ("Head.decode", "level"): "int", ("centers", "stride"): "float"}
    assert "Head.forward passes `2 ** i` (line 16)" in fixes[("Head.decode", "stride")].reason
    assert "Head.decode passes it its `stride`" in fixes[("centers", "stride")].reason
    assert all(f.evidence is Source.PROBE for f in fixes.values())


def test_without_a_power_the_probes_int_stands() -> None:
    text = POWERS.replace("2 ** i", "2 * i")
    observations = probe_saw_ints(("Head.decode", "stride"), ("centers", "stride"))
    found = {(f.edit.function, f.edit.param): f.edit.annotation.text  # type: ignore[union-attr]
             for f in rules.plan(Evidence(index_source("/p/model.py", text), (), observations=observations))}
    assert found == {("Head.decode", "stride"): "int", ("centers", "stride"): "int"}


# --------------------------------------------------------------------------- F3: returns of different types


def test_returns_of_different_types_get_advice_at_the_later_return() -> None:
    d = parsed("return_types_differ")
    assert d.kind is K.RETURN_TYPE_CHANGED and d.types == ("Dict[str, Tensor]", "Dict[str, Tuple[Tensor, Tensor, Tensor]]")
    [fix] = plan(d)
    assert fix.code == "TS020" and fix.title == "refactor: return statements of different types"
    assert fix.location is not None and fix.location.line == line_of("class ReturnTypesDiffer", "return results")
    assert "torch.jit.is_scripting()" in fix.reason and "@torch.jit.unused" in fix.reason


OPTIONAL_INTO_HELPER = '''

repeat(Tensor x, int n) -> Tensor:
Expected a value of type 'int' for argument 'n' but instead found type 'Optional[int]'.
:
  File "/p/model.py", line 11
    def forward(self, x, n: Optional[int] = None):
        return repeat(x, n)
               ~~~~~~ <--- HERE
'''


def test_an_optional_handed_to_a_helper_needs_refinement_not_a_wider_parameter() -> None:
    d = parse_compile_error(OPTIONAL_INTO_HELPER, "RuntimeError", "Model")
    assert (d.kind, d.symbol, d.types) == (K.OPTIONAL_USED, "n", ("Optional[int]",))
    text = "import torch\nfrom typing import Optional\n\n\ndef repeat(x, n: int):\n    return x * n\n\n\n" \
           "class M(torch.nn.Module):\n    def forward(self, x, n: Optional[int] = None):\n        return repeat(x, n)\n"
    [fix] = plan(d, text)
    assert fix.code == "TS020" and fix.title == "refactor: an Optional used as its value"
    assert "`assert n is not None`" in fix.reason and fix.location is not None and fix.location.line == 11


DECODER = dedent('''\
    import torch
    from torch import nn


    def cell_centers(size: int, stride: int):
        return (torch.arange(size).float() + 0.5) * stride


    class Head(nn.Module):
        def decode(self, deltas, stride: int, scale: int):
            return deltas * stride + cell_centers(deltas.shape[-1], stride=stride) * scale

        def forward(self, x):
            return self.decode(x, 2 ** 3, 4)
''')


def test_the_float_follows_the_parameter_into_the_helper_it_is_passed_to_in_the_same_pass() -> None:
    d = Diagnostic(K.ARGUMENT_TYPE, "decode(): Expected a value of type 'int' for argument 'stride' but instead found "
                   "type 'float' (passed `2 ** 3`)", Location(PATH, line_of("def forward", "self.decode", DECODER), 15),
                   symbol="stride", types=("int", "float", "2 ** 3"), function="Head.decode", owner="Head")
    seen = [Observation("Head.decode", "stride", Role.ARG, "int"), Observation("Head.decode", "scale", Role.ARG, "int"),
            Observation("cell_centers", "stride", Role.ARG, "int"), Observation("cell_centers", "size", Role.ARG, "int")]
    fixes = plan(d, DECODER, *seen)
    assert [(f.edit.function, f.edit.param, f.edit.annotation.text) for f in fixes] == [  # type: ignore[union-attr]
        ("Head.decode", "stride", "float"), ("cell_centers", "stride", "float")]
    assert "Head.decode passes its `stride`, now float, on unchanged as `stride`" in fixes[1].reason
