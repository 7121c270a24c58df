"""tsannotate.jit_messages against real TorchScript error texts.

The texts in fixtures/messages/ were written by fixtures/messages/capture.py (see its
docstring).  Locations are given as (anchor, needle): the expected line is the first
line of capture.py at or after the line containing `anchor` that contains `needle`,
and the expected column is where `needle` starts on it; so the table survives edits
to capture.py as long as the fixtures are re-captured.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tsannotate.jit_messages import locations, parse_call_error, parse_compile_error
from tsannotate.records import Diagnostic, DiagnosticKind, Location

K = DiagnosticKind
HERE = Path(__file__).resolve().parent.parent / "fixtures" / "messages"
CAPTURE = HERE / "capture.py"
INDEX: dict[str, Any] = json.loads((HERE / "index.json").read_text())
SOURCE = CAPTURE.read_text().splitlines()

Spot = tuple[str, str]


def spot(anchor: str, needle: str) -> tuple[int, int]:
    start = next(i for i, line in enumerate(SOURCE) if anchor in line)
    line = next(i for i in range(start, len(SOURCE)) if needle in SOURCE[i])
    return line + 1, SOURCE[line].index(needle)


def case(kind: DiagnosticKind, symbol: str | None = None, types: tuple[str, ...] = (),
         at: Spot | None = None, function: str | None = None, owner: str | None = None,
         chain: tuple[Spot, ...] = ()) -> dict[str, Any]:
    return dict(kind=kind, symbol=symbol, types=types, at=at, function=function, owner=owner, chain=chain)


C = "class "
EXPECTED: dict[str, dict[str, Any]] = {
    # 1. variables
    "var_none_then_tensor": case(K.VARIABLE_TYPE_CHANGED, "y", ("NoneType", "Tensor"), (C + "VarNoneThenTensor", "y = x * 2")),
    "var_tensor_then_none": case(K.VARIABLE_TYPE_CHANGED, "y", ("Tensor", "NoneType"), (C + "VarTensorThenNone", "y = None")),
    "var_int_then_float": case(K.VARIABLE_TYPE_CHANGED, "scale", ("int", "float"), (C + "VarIntThenFloat", "scale = 0.5")),
    "chain_submodule": case(K.VARIABLE_TYPE_CHANGED, "y", ("NoneType", "Tensor"), (C + "Submodule", "y = x")),
    # 2. attributes
    "attr_none_then_tensor": case(K.ATTRIBUTE_TYPE_CHANGED, "cache", ("NoneType", "Tensor"), (C + "AttrNoneThenTensor", "self.cache = x")),
    # 3. containers
    "list_append_int": case(K.EMPTY_CONTAINER, "out", ("List[int]",), (C + "ListAppendInt", "out.append")),
    "list_append_float": case(K.EMPTY_CONTAINER, "vals", ("List[float]",), (C + "ListAppendFloat", "vals.append")),
    "list_append_list": case(K.EMPTY_CONTAINER, "shapes", ("List[List[int]]",), (C + "ListAppendList", "shapes.append")),
    "list_append_tuple": case(K.EMPTY_CONTAINER, "pairs", ("List[Tuple[int, int]]",), (C + "ListAppendTuple", "pairs.append")),
    "list_append_tensor_list": case(K.EMPTY_CONTAINER, "groups", ("List[List[Tensor]]",), (C + "ListAppendTensorList", "groups.append")),
    "dict_set_int": case(K.EMPTY_CONTAINER, "d", ("Dict[str, int]",), (C + "DictSetInt", 'd["a"] = 1')),
    "dict_of_lists_append": case(K.EMPTY_CONTAINER, 'd["a"]', ("List[int]",), (C + "DictOfListsAppend", 'd["a"].append')),
    "dict_int_key": case(K.EMPTY_CONTAINER, "d", (), (C + "DictIntKey", "d[1] = ")),
    "empty_list_passed": case(K.EMPTY_CONTAINER, "sizes", ("List[int]",), (C + "EmptyListPassed", "x.reshape")),
    "list_returned_as_int": case(K.EMPTY_CONTAINER, "out", ("List[int]",), (C + "ListReturnedAsInt", "return out")),
    # 4. attributes TorchScript cannot type
    "attr_object": case(K.ATTRIBUTE_CONVERSION, "foo", ("object",), ("class G(", "self.foo is"), owner="G"),
    "attr_empty_list": case(K.ATTRIBUTE_CONVERSION, "names", ("list",), (C + "AttrEmptyList(", "self.names:"), owner="AttrEmptyList"),
    "attr_empty_list_of_str": case(K.ATTRIBUTE_CONVERSION, "names", ("list",), (C + "AttrEmptyListOfStr", "self.names:"), owner="AttrEmptyListOfStr"),
    "attr_list_append": case(K.ATTRIBUTE_CONVERSION, "items", ("list",), (C + "AttrListAppend(", "self.items.append"), owner="AttrListAppend"),
    "attr_list_append_tensor": case(K.ATTRIBUTE_CONVERSION, "items", ("list",), (C + "AttrListAppendTensor", "self.items.append"), owner="AttrListAppendTensor"),
    "attr_empty_dict": case(K.ATTRIBUTE_CONVERSION, "table", ("dict",), (C + "AttrEmptyDict", 'self.table["a"]'), owner="AttrEmptyDict"),
    "bad_constant": case(K.ATTRIBUTE_CONVERSION, "foo", ("object",), None, owner="BadConstant"),
    "attr_missing": case(K.UNKNOWN, "missing", (), (C + "AttrMissing", "self.missing"), owner="AttrMissing"),
    "attr_none_used": case(K.UNKNOWN, "scale", (), (C + "AttrNoneUsed", "x * self.scale")),
    "attr_wrong_annotation": case(K.UNKNOWN, "names", ("List[int]",), None),
    # 5. parameters inferred as Tensor
    "range_of_param": case(K.INFERRED_TENSOR, "n", ("int",), (C + "RangeOfParam", "range(n)")),
    "call_helper_floats": case(K.INFERRED_TENSOR, "a", ("float",), (C + "CallHelperWithFloats", "helper(1.5"), function="helper"),
    "method_helper_float": case(K.INFERRED_TENSOR, "factor", ("float",), (C + "MethodHelper", "self.scale(x"),
                                function="MethodHelper.scale", owner="MethodHelper"),
    "compare_str": case(K.INFERRED_TENSOR, "name", ("str",), (C + "CompareStr", 'name == "a"')),
    "param_as_index": case(K.INFERRED_TENSOR, "dim", ("int",), (C + "ParamAsIndex", "x.sum(dim)")),
    "param_in_list": case(K.INFERRED_TENSOR, "h", ("int",), (C + "ParamInList", "x.reshape")),
    "param_attribute": case(K.INFERRED_TENSOR, "opts", (), (C + "ParamAttribute", "opts.scale")),
    # 6. defaults
    "default_int_function": case(K.DEFAULT_TYPE, "b", ("Tensor",), ("def f(a, b=2)", "def f"), function="f"),
    "default_int_forward": case(K.DEFAULT_TYPE, "k", ("Tensor",), (C + "DefaultIntOnForward", "def forward")),
    "default_str": case(K.DEFAULT_TYPE, "mode", ("Tensor",), (C + "DefaultStr", "def forward")),
    # 7. unsupported
    "var_kwargs": case(K.UNSUPPORTED, "kwargs", (), (C + "VarKwargs", "*kwargs")),
    "var_args": case(K.UNSUPPORTED, "args", (), (C + "VarArgs", "*args")),
    "try_except": case(K.UNSUPPORTED, None, (), (C + "TryExcept", "try:")),
    "lambda": case(K.UNSUPPORTED, None, (), (C + "Lambda(", "lambda t")),
    "generator_expr": case(K.UNSUPPORTED, None, (), (C + "GeneratorExpr", "sum(v")),
    "with_statement": case(K.UNSUPPORTED, "open", (), (C + "WithStatement", "open(")),
    "python_builtin_call": case(K.UNSUPPORTED, "time.time", (), (C + "PythonBuiltinCall", "time.time")),
    "os_call": case(K.UNSUPPORTED, "os.getcwd", (), (C + "OsCall", "os.getcwd")),
    "fstring_format_spec": case(K.UNSUPPORTED, None, (), (C + "FStringFormatSpec", 'f"')),
    "global_statement": case(K.UNSUPPORTED, None, (), (C + "GlobalStatement", "global")),
    "yield_in_forward": case(K.UNSUPPORTED, None, (), (C + "YieldInForward", "yield")),
    "set_literal": case(K.UNSUPPORTED, None, (), (C + "SetLiteral", "{1, 2}")),
    "starred_call": case(K.UNSUPPORTED, None, (), (C + "StarredCall", "*sizes")),
    "isinstance_unknown": case(K.UNSUPPORTED, "nn.Linear", (), (C + "IsinstanceUnknown", "nn.Linear")),
    "async_forward": case(K.UNSUPPORTED, None, (), (C + "AsyncForward", "    async def")),
    "attr_lambda": case(K.UNSUPPORTED, "fn", (), (C + "AttrLambda", "self.fn(x)"), owner="AttrLambda"),
    "not_defined_in_branch": case(K.UNKNOWN, "y", (), (C + "NotDefinedInBranch", "if c:")),
    # 8. call time
    "call_none_mask": case(K.NONE_DEFAULT, "mask", ("Optional[Tensor]",), (C + "NoneMask", "x * mask"), function="forward"),
    "call_none_no_default": case(K.NONE_DEFAULT, "mask", ("Optional[Tensor]",), (C + "NoneWithoutDefault", "x * mask"), function="forward"),
    "call_int_argument": case(K.INFERRED_TENSOR, "n", ("int",), None, function="IntArgument.forward", owner="IntArgument"),
    "call_annotated_int": case(K.CALL_FAILED, "n", ("str",), None, function="AnnotatedInt.forward", owner="AnnotatedInt"),
    "call_interpreter_shape": case(K.CALL_FAILED, None, (), (C + "InterpreterShape", "x.view"), function="forward"),
    "call_interpreter_deep": case(K.CALL_FAILED, None, (), ("def deep_inner", "x.view"), function="deep_inner",
                                  chain=((C + "InterpreterDeep", "deep_inner(x)"),)),
    "call_raise": case(K.CALL_FAILED, None, (), (C + "RaiseInForward", "raise"), function="forward"),
    "call_assert": case(K.CALL_FAILED, None, (), (C + "AssertInForward", "assert"), function="forward"),
    "call_library_frame": case(K.CALL_FAILED, None, (), None, function="interpolate",
                               chain=((C + "LibraryFrame", "nn.functional.interpolate"),)),
    # 9. call chains
    "chain_function": case(K.INFERRED_TENSOR, "n", ("int",), ("def chain_inner", "range(n)"), function="chain_inner",
                           chain=(("def chain_middle", "chain_inner("), (C + "ChainModel", "chain_middle(x)"))),
    "chain_method": case(K.EMPTY_CONTAINER, "out", ("List[int]",), (C + "ChainMethod", "out.append"),
                         function="ChainMethod.build", chain=((C + "ChainMethod", "self.build(x)"),)),
    # 10. constants and methods that cannot compile
    "final_flag_none_submodule": case(K.UNKNOWN, "self.norm", (), (C + "FlagNoneSubmodule", "self.norm(x)")),
    "final_module_list_index": case(K.CONSTANT_NEEDED, "self.head", (), (C + "ModuleListIndex", "self.layers[self.head]")),
    "final_module_dict_index": case(K.CONSTANT_NEEDED, "self.task", (), (C + "ModuleDictIndex", "self.heads[self.task]")),
    "final_class_constant": case(K.UNKNOWN, "SCALE", (), (C + "ClassConstant", "self.SCALE"), owner="ClassConstant"),
    "range_loop_module_index": case(K.CONSTANT_NEEDED, "i", (), (C + "RangeLoopIndex", "self.layers[i]")),
    "plain_list_of_modules": case(K.ATTRIBUTE_CONVERSION, "blocks", ("list",), (C + "PlainListOfModules", "self.blocks:"),
                                  owner="PlainListOfModules"),
    "chain_random_helper": case(K.UNSUPPORTED, "random.random", (), (C + "RandomHelper", "random.random()"),
                                function="RandomHelper.jitter", chain=((C + "RandomHelper", "self.jitter(x)"),)),
    "training_only_try": case(K.UNSUPPORTED, None, (), (C + "TrainingOnlyHelper", "try:")),
    "exported_lambda": case(K.UNSUPPORTED, None, (), (C + "ExportedLambda", "lambda t")),
    "recursion": case(K.UNSUPPORTED, None, (), ("class Recursion", "self.walk"), function="Recursion.walk",
                      chain=(("class Recursion", "self.walk(x, 2)"),)),
    "global_dict": case(K.UNSUPPORTED, None, (), (C + "GlobalDict", 'TABLE["a"]')),
    "super_forward": case(K.UNKNOWN, None, (), (C + "SuperForward", "super().forward")),
    "item_as_int": case(K.UNKNOWN, None, (), (C + "ItemAsInt", "range(n)")),
    "call_ignored_returns_int": case(K.CALL_FAILED, None, (), (C + "IgnoredReturnsInt", "self.count(x)"), function="forward"),
    "call_set_constructor": case(K.CALL_FAILED, None, (), (C + "SetConstructor", "set()"), function="forward"),
    "constant_reassigned": case(K.UNKNOWN, "k", (), (C + "ConstantReassigned", "self.k = 3")),
    # the chain names the calling method; the error is in the helper whose `def` it shows
    "default_int_helper_from_method": case(K.DEFAULT_TYPE, "dim", ("Tensor",), ("def permute(x, order, dim=1)", "def permute"),
                                           function="permute", chain=((C + "DefaultIntInHelperFromMethod", "self.reorder(x"),)),
    "property_dynamic_getattr": case(K.UNSUPPORTED, None, (), (C + "PropertyDynamicGetattr", "getattr(self, n)")),
    # 11. shapes found on real models (HuggingFace outputs tuples, detection strides, train/eval returns)
    "var_tuple_grows_under_flag": case(K.VARIABLE_TYPE_CHANGED, "outputs", ("Tuple[Tensor]", "Tuple[Tensor, Tensor]"),
                                       (C + "TupleGrowsUnderFlag", "outputs = outputs +")),
    "argument_power_float": case(K.ARGUMENT_TYPE, "stride", ("int", "float", "2 ** i"), (C + "PowerArgument", "self.scale(x, 2"),
                                 function="PowerArgument.scale", owner="PowerArgument"),
    "int_literal_for_float": case(K.ARGUMENT_TYPE, "value", ("Optional[float]", "int", "0"),
                                  (C + "IntLiteralPad", "torch.nn.functional.pad("), function="pad"),
    "int_literal_for_float_overloads": case(K.ARGUMENT_TYPE, "scale_factor", ("Optional[float]", "int", "2"),
                                            (C + "IntLiteralInterpolate", "torch.nn.functional.interpolate("),
                                            function="interpolate"),
    "return_types_differ": case(K.RETURN_TYPE_CHANGED, "results", ("Dict[str, Tensor]", "Dict[str, Tuple[Tensor, Tensor, Tensor]]"),
                                (C + "ReturnTypesDiffer", "return results")),
    "none_default_left_out": case(K.NONE_DEFAULT, None, ("Optional[Tensor]",), None),
    "optional_used_as_value": case(K.OPTIONAL_USED, "n", ("Optional[int]",), (C + "OptionalUsedAsValue", "n > self.limit")),
    # a boolean-dispatch flag (F.max_pool2d's return_indices) must be a constant: TS007 makes it Final[bool]
    "dispatch_flag_keyword": case(K.CONSTANT_NEEDED, "self.return_indices", ("bool",),
                                  (C + "DispatchFlagKeyword", "torch.nn.functional.max_pool2d")),
    "dispatch_flag_positional": case(K.CONSTANT_NEEDED, "self.return_indices", ("bool",),
                                     (C + "DispatchFlagPositional", "torch.nn.functional.max_pool2d")),
    # tolist() needs its result's type written: the local it is assigned to, when it is the whole value
    "tolist_assigned": case(K.TOLIST_HINT, "seq", (), (C + "TolistAssigned", "best.tolist")),
    "tolist_iterated": case(K.TOLIST_HINT, None, (), (C + "TolistIterated", "x.argmax(-1).tolist")),
    "tolist_returned": case(K.TOLIST_HINT, None, (), (C + "TolistReturned", "x.tolist")),
    "tolist_indexed": case(K.TOLIST_HINT, None, (), (C + "TolistIndexed", "x.tolist")),
    # the annotation is checked against the tensor's dtype when the call runs; the interpreter shows no frame
    "call_tolist_wrong_dtype": case(K.CALL_FAILED, None, (), None),
}

MESSAGES = {
    "argument_power_float": "scale(): Expected a value of type 'int' for argument 'stride' but instead found type 'float' "
                            "(passed `2 ** i`)",
    "int_literal_for_float_overloads": "interpolate(): Expected a value of type 'Optional[float]' for argument "
                                       "'scale_factor' but instead found type 'int' (passed `2`)",
    "var_none_then_tensor": "Variable 'y' previously had type NoneType but is now being assigned to a value of type Tensor",
    "call_none_mask": "Expected a proper Tensor but got None (or an undefined Tensor in C++) for argument #1 'other'",
    "call_raise": "ValueError: positive input",
    "call_assert": "AssertionError: expected a 3-d input",
    "call_interpreter_shape": "shape '[3, 7]' is invalid for input of size 6",
    "tolist_assigned": "Expected type hint for result of tolist() (`best.tolist()`)",
    "tolist_iterated": "Expected type hint for result of tolist() (`x.argmax(-1).tolist()`)",
    "call_tolist_wrong_dtype": "Output annotation element type and runtime tensor element type must match for "
                               "tolist(): Long vs Int",
}


def parse(name: str, text: str | None = None) -> Diagnostic:
    meta = INDEX["cases"][name]
    text = (HERE / f"{name}.txt").read_text() if text is None else text
    if meta["stage"] == "call":
        return parse_call_error(text, "Target")
    return parse_compile_error(text, meta["exception"], "Target")


def test_table_covers_every_captured_case() -> None:
    assert sorted(EXPECTED) == sorted(INDEX["cases"])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_captured_message(name: str) -> None:
    want = EXPECTED[name]
    d = parse(name)
    assert (d.kind, d.symbol, d.types) == (want["kind"], want["symbol"], want["types"])
    assert (d.function, d.owner) == (want["function"], want["owner"])
    assert d.target == "Target" and d.raw == (HERE / f"{name}.txt").read_text()
    assert d.message.strip() and "\n" not in d.message
    if want["at"] is None:
        if name == "call_library_frame":
            assert d.location is not None and os.path.basename(d.location.path) == "functional.py"
        else:
            assert d.location is None
    else:
        assert d.location is not None and os.path.basename(d.location.path) == "capture.py"
        assert (d.location.line, d.location.column) == spot(*want["at"])
    assert [(os.path.basename(c.path), c.line, c.column) for c in d.call_chain] == [
        ("capture.py", *spot(*s)) for s in want["chain"]
    ]
    if name in MESSAGES:
        assert d.message == MESSAGES[name]


def test_types_never_mention_inferred() -> None:
    for name in EXPECTED:
        assert not any("inferred" in t for t in parse(name).types), name


def test_locations_lists_every_file_line_in_order() -> None:
    text = (HERE / "chain_function.txt").read_text()
    found = locations(text)
    assert [(loc.line, loc.column) for loc in found] == [
        spot("def chain_inner", "range(n)"), spot("def chain_middle", "chain_inner("), spot(C + "ChainModel", "chain_middle(x)"),
    ]
    assert locations("no location here") == ()
    assert locations('  File "/a/b.py", line 3\n') == (Location("/a/b.py", 3, 0),)


def test_not_defined_in_branch_keeps_the_use_site_out_of_the_chain() -> None:
    assert parse("not_defined_in_branch").call_chain == ()
    assert len(locations((HERE / "not_defined_in_branch.txt").read_text())) == 2


@pytest.mark.parametrize("exc_type", ["RuntimeError", "NotSupportedError", "", "Weird"])
def test_never_raises_on_odd_text(exc_type: str) -> None:
    samples = ["", ":", "\n\n", "  File \"x.py\", line", "Arguments for call are not valid.\n  aten::x(", "~~~~ <--- HERE"]
    for name in sorted(EXPECTED):
        text = (HERE / f"{name}.txt").read_text()
        samples += [text[:cut] for cut in range(0, len(text), max(1, len(text) // 7))]
    for text in samples:
        for d in (parse_compile_error(text, exc_type, "T"), parse_call_error(text, "T")):
            assert d.message.strip() and d.raw == text and d.target == "T"
    assert parse_compile_error("", "RuntimeError", "T").kind is K.UNKNOWN
    assert parse_compile_error("something new:\n", "NotSupportedError", "T").kind is K.UNSUPPORTED
    assert parse_call_error("boom", "T").kind is K.CALL_FAILED


def test_saved_model_traceback_prefers_original_code() -> None:
    text = (
        "The following operation failed in the TorchScript interpreter.\n"
        "Traceback of TorchScript, serialized code (most recent call last):\n"
        '  File "code/__torch__.py", line 9, in forward\n'
        "    _1 = _0(x)\n"
        "         ~~ <--- HERE\n"
        "\n"
        "Traceback of TorchScript, original code (most recent call last):\n"
        '  File "/m/model.py", line 7, in forward\n'
        "    def forward(self, x, mask=None):\n"
        "        return x * mask\n"
        "               ~~~~~~~~ <--- HERE\n"
        "RuntimeError: Expected a proper Tensor but got None (or an undefined Tensor in C++) for argument #1 'other'\n"
    )
    d = parse_call_error(text, "Net")
    assert d.kind is K.NONE_DEFAULT and d.symbol == "mask"
    assert d.location == Location("/m/model.py", 7, 15) and d.function == "forward"


def test_schema_spellings_become_typing_spellings() -> None:
    from tsannotate.jit_text import typing_name

    assert typing_name("int[]") == "List[int]"
    assert typing_name("Tensor?") == "Optional[Tensor]"
    assert typing_name("Dict(str, t)(a!)") == "Dict[str, T]"
    assert typing_name("(int, int)") == "Tuple[int, int]"
    assert typing_name("t[](a!)") == "List[T]"
    assert typing_name("int[1]?") == "Optional[List[int]]"
    assert typing_name("SymInt[]") == "List[int]"
    assert typing_name("__torch__.pkg.Net") == "Net"
    assert typing_name("Dict(str, int[])") == "Dict[str, List[int]]"


@pytest.mark.slow
def test_recapture_parses_to_the_same_kinds(tmp_path: Path) -> None:
    """Torch-version drift guard: run capture.py afresh and compare with the fixtures."""
    proc = subprocess.run([sys.executable, str(CAPTURE), str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    fresh = json.loads((tmp_path / "index.json").read_text())
    assert sorted(fresh["scripted_fine"]) == sorted(INDEX["scripted_fine"])
    assert fresh["cases"] == INDEX["cases"]
    for name in sorted(INDEX["cases"]):
        new = parse(name, (tmp_path / f"{name}.txt").read_text())
        old = parse(name)
        assert (new.kind, new.symbol, new.types) == (old.kind, old.symbol, old.types), name
