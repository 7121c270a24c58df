"""TS020 on the compiler's real words: each construct the issue lists, from the message
torch.jit.script wrote (fixtures/messages/, captured from fixtures/messages/capture.py), through the
parser and the rules, names the right refactor at the line of capture.py that holds the construct.
No torch: the texts are files."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest

from tsannotate import rules
from tsannotate.jit_messages import parse_call_error, parse_compile_error
from tsannotate.records import Diagnostic, Evidence, Fix, Safety
from tsannotate.source import index_source

MESSAGES = Path(__file__).resolve().parent.parent / "fixtures" / "messages"
CAPTURE = (MESSAGES / "capture.py").read_text()
INDEX = json.loads((MESSAGES / "index.json").read_text())["cases"]


def line_of(anchor: str, needle: str, text: str = CAPTURE) -> int:
    """The first line holding `needle` at or after the line holding `anchor`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if anchor in line)
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


def parsed(name: str) -> Diagnostic:
    text, info = (MESSAGES / f"{name}.txt").read_text(), INDEX[name]
    if info["stage"] == "call":
        return parse_call_error(text, "Model")
    return parse_compile_error(text, info["exception"], "Model")


def advice(d: Diagnostic, path: str, text: str) -> list[Fix]:
    return [f for f in rules.plan(Evidence(index_source(path, text), (d,))) if f.code == "TS020"]


@pytest.mark.parametrize(("message", "anchor", "needle", "refactor"), [
    ("var_kwargs", "class VarKwargs", "**kwargs", "**kwargs / *args"),
    ("var_args", "class VarArgs", "*args", "**kwargs / *args"),
    ("try_except", "class TryExcept", "try:", "try/except"),
    ("training_only_try", "class TrainingOnlyHelper", "try:", "try/except"),
    ("lambda", "class Lambda(", "lambda t", "lambda"),
    ("exported_lambda", "class ExportedLambda", "lambda t", "lambda"),
    ("generator_expr", "class GeneratorExpr", "sum(v for v", "generator expression"),
    ("range_loop_module_index", "class RangeLoopIndex", "self.layers[i](x)", "`self.layers[i]` with a variable index"),
    ("plain_list_of_modules", "class PlainListOfModules", "for b in self.blocks", "a plain Python list of modules"),
    ("global_dict", "class GlobalDict", 'TABLE["a"]', "a global dict"),
    ("item_as_int", "class ItemAsInt", "range(n)", "a number (`.item()`) where an int is needed"),
    ("recursion", "class Recursion", "self.walk(x, n - 1)", "recursion"),
    ("set_literal", "class SetLiteral", "{1, 2}", "a set"),
    ("call_set_constructor", "class SetConstructor", "set()", "a set"),
    ("super_forward", "class SuperForward", "super().forward(x)", "super().forward()"),
    ("return_types_differ", "class ReturnTypesDiffer", "return results", "return statements of different types"),
    ("optional_used_as_value", "class OptionalUsedAsValue", "if n > self.limit", "an Optional used as its value"),
])
def test_real_message_gets_the_refactor_at_its_line(message: str, anchor: str, needle: str, refactor: str) -> None:
    d = parsed(message)
    assert d.location is not None, d
    [fix] = advice(d, d.location.path, CAPTURE)
    assert fix.title == f"refactor: {refactor}"
    assert fix.edit is None and fix.safety is Safety.DISPLAY_ONLY
    assert fix.location is not None and fix.location.line == line_of(anchor, needle)
    assert d.message in fix.reason


DATACLASS = dedent('''\
    from dataclasses import dataclass

    import torch
    from torch import nn


    @dataclass
    class Config:
        scale: float = 2.0


    class Scaler(nn.Module):
        def forward(self, x):
            cfg = Config(3.0)
            return x * cfg.scale
    ''')
# torch.jit.script(Scaler()) with torch 2.13 raises OSError with this text, and no line
DATACLASS_ERROR = "Failed to get source for <function Config.__init__ at 0x7f265f0e99e0> using inspect.getsource"


def test_dataclass_advice_points_at_where_compiled_code_builds_it() -> None:
    d = parse_compile_error(DATACLASS_ERROR, "OSError", "Scaler")
    assert d.location is None
    [fix] = advice(d, "/p/model.py", DATACLASS)
    assert fix.title == "refactor: a dataclass" and "typing.NamedTuple" in fix.reason
    assert fix.location is not None and fix.location.line == line_of("class Scaler", "Config(3.0)", DATACLASS)


def test_dataclass_advice_points_at_the_class_when_nothing_here_builds_it() -> None:
    text = DATACLASS.replace("cfg = Config(3.0)", "cfg = make()")
    [fix] = advice(parse_compile_error(DATACLASS_ERROR, "OSError", "Scaler"), "/p/model.py", text)
    assert fix.location is not None and fix.location.line == line_of("@dataclass", "class Config", text)
