"""Rules are pure: evidence in (source facts, compiler diagnostics, probe observations), fixes out.

No torch and no files here: the evidence is built by hand, the way the worker reports it.
"""

from __future__ import annotations

from textwrap import dedent

import pytest

from tsannotate import rules
from tsannotate.records import (
    AnnotateAttribute,
    AnnotateEmpty,
    AnnotateLocal,
    AnnotateParam,
    CompiledParam,
    CompiledSignature,
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

PATH = "/p/model.py"
MODEL = dedent('''\
    import torch
    from torch import nn


    def helper(a, b):
        return a * b


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.cache = None
            self.names = []

        def forward(self, x, n, mask=None, limit=None, mode="sum"):
            y = None
            out = []
            groups = {"a": [], "b": []}
            for i in range(n):
                out.append(i)
            if x.sum() > 0:
                y = x
            return x

        @torch.jit.ignore
        def debug(self, value):
            return value
    ''')


def evidence(*items: Diagnostic | Observation | CompiledSignature, text: str = MODEL) -> Evidence:
    return Evidence(
        index_source(PATH, text),
        diagnostics=tuple(i for i in items if isinstance(i, Diagnostic)),
        signatures=tuple(i for i in items if isinstance(i, CompiledSignature)),
        observations=tuple(i for i in items if isinstance(i, Observation)),
    )


def obs(qualname: str, name: str, role: Role, type_: str, count: int = 2) -> Observation:
    return Observation(qualname, name, role, type_, count)


def edits(ev: Evidence) -> list[object]:
    return [f.edit for f in rules.plan(ev)]


def ann_text(edit: object) -> str:
    assert isinstance(edit, (AnnotateParam, AnnotateLocal, AnnotateEmpty, AnnotateAttribute))
    return edit.annotation.text


# --------------------------------------------------------------------------- from the probe


@pytest.mark.parametrize(
    ("observation", "expected"),
    [
        pytest.param(obs("Net.forward", "n", Role.ARG, "int"), AnnotateParam("Net.forward", "n", ...), id="int-param"),
        pytest.param(obs("Net.forward", "limit", Role.ARG, "Optional[int]"), AnnotateParam("Net.forward", "limit", ...),
                     id="optional-int-param"),
        pytest.param(obs("Net.forward", "mask", Role.ARG, "Optional[Tensor]"), AnnotateParam("Net.forward", "mask", ...),
                     id="optional-tensor-param"),
        pytest.param(obs("helper", "a", Role.ARG, "float"), AnnotateParam("helper", "a", ...), id="helper-float"),
        pytest.param(obs("Net.forward", "y", Role.LOCAL, "Optional[Tensor]"), AnnotateLocal("Net.forward", "y", ...),
                     id="optional-local"),
        pytest.param(obs("Net.forward", "out", Role.LOCAL, "List[int]"), AnnotateEmpty("Net.forward", "out", ...),
                     id="empty-list-local"),
        pytest.param(obs("Net", "cache", Role.ATTR, "Optional[Tensor]"), AnnotateAttribute("Net", "cache", ...),
                     id="optional-attribute"),
        pytest.param(obs("Net", "names", Role.ATTR, "List[str]"), AnnotateAttribute("Net", "names", ...),
                     id="empty-list-attribute"),
    ],
)
def test_probe_evidence_alone_proposes(observation: Observation, expected: object) -> None:
    [edit] = edits(evidence(observation))
    assert type(edit) is type(expected)
    texts = {"int": "int", "Optional[int]": "Optional[int]", "Optional[Tensor]": "Optional[torch.Tensor]",
             "float": "float", "List[int]": "List[int]", "List[str]": "List[str]"}
    assert ann_text(edit) == texts[observation.type]


def test_none_default_param_seen_as_int_is_optional() -> None:
    [edit] = edits(evidence(obs("Net.forward", "limit", Role.ARG, "int")))
    assert ann_text(edit) == "Optional[int]"


def test_dict_of_empty_lists_seen_filled_annotates_every_key() -> None:
    found = edits(evidence(obs("Net.forward", "groups", Role.LOCAL, "Dict[str, List[int]]")))
    assert found == [
        AnnotateEmpty("Net.forward", "groups", found[0].annotation, key='"a"'),  # type: ignore[union-attr]
        AnnotateEmpty("Net.forward", "groups", found[0].annotation, key='"b"'),  # type: ignore[union-attr]
    ]
    assert ann_text(found[0]) == "List[int]"


@pytest.mark.parametrize(
    "observation",
    [
        pytest.param(obs("Net.forward", "x", Role.ARG, "Tensor"), id="tensor-is-the-default"),
        pytest.param(obs("Net.forward", "out", Role.LOCAL, "List[Tensor]"), id="list-of-tensor-is-the-default"),
        pytest.param(obs("Net.forward", "out", Role.LOCAL, "List[Unknown]"), id="never-filled"),
        pytest.param(obs("Net.forward", "y", Role.LOCAL, "NoneType"), id="only-ever-none"),
        pytest.param(obs("Net.forward", "n", Role.ARG, ""), id="not-expressible"),
        pytest.param(obs("Net.debug", "value", Role.ARG, "int"), id="ignored-method"),
        pytest.param(obs("Net.forward", "mode", Role.ARG, "str"), id="str-default"),
    ],
)
def test_probe_evidence_noop(observation: Observation) -> None:
    found = edits(evidence(observation))
    if observation.name == "mode":  # `mode="sum"` unannotated is a real problem: str is proposed
        assert [ann_text(e) for e in found] == ["str"]
    else:
        assert found == []


def test_union_param_is_annotated_as_union() -> None:
    """TorchScript accepts Union (since 1.10); isinstance checks in the body refine it."""
    [edit] = edits(evidence(obs("Net.forward", "n", Role.ARG, "Union[int, str]")))
    assert ann_text(edit) == "Union[int, str]"


def test_already_annotated_is_left_alone() -> None:
    text = MODEL.replace("def forward(self, x, n,", "def forward(self, x, n: int,")
    assert edits(evidence(obs("Net.forward", "n", Role.ARG, "int"), text=text)) == []


# --------------------------------------------------------------------------- from the compiler


def compiled_plan(ev: Evidence) -> tuple[Fix, ...]:
    """The plan, less MODEL's `mode="sum"`: any failing model gets `mode: str` (see below)."""
    return tuple(f for f in rules.plan(ev) if not (isinstance(f.edit, AnnotateParam) and f.edit.param == "mode"))


def test_a_literal_default_in_compiled_code_is_typed_once_the_model_fails() -> None:
    """`mode="sum"`: TorchScript rejects the default of a parameter it takes for a Tensor; the
    compiler names such a parameter one function per pass, the source names them all at once."""
    d = diag(DiagnosticKind.INFERRED_TENSOR, 19, "n", "int")
    fixes = [f for f in rules.plan(evidence(d)) if isinstance(f.edit, AnnotateParam) and f.edit.param == "mode"]
    assert [(f.edit.function, ann_text(f.edit), f.evidence) for f in fixes] == [("Net.forward", "str", Source.SOURCE)]
    assert "rejects its default" in fixes[0].reason
    # nothing failed: nothing to say; the probe's type comes first; an ignored method is not compiled
    assert not [f for f in rules.plan(evidence(obs("Net.forward", "x", Role.ARG, "Tensor")))
                if isinstance(f.edit, AnnotateParam) and f.edit.param == "mode"]
    text = MODEL.replace("def debug(self, value)", "def debug(self, value, level=2)")
    assert not [f for f in rules.plan(evidence(d, text=text))
                if isinstance(f.edit, AnnotateParam) and f.edit.param == "level"]


def diag(kind: DiagnosticKind, line: int, symbol: str, *types: str, **kw: str) -> Diagnostic:
    return Diagnostic(kind, "message", Location(PATH, line, 8), symbol=symbol, types=types, **kw)


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        pytest.param(diag(DiagnosticKind.VARIABLE_TYPE_CHANGED, 22, "y", "NoneType", "Tensor"),
                     AnnotateLocal("Net.forward", "y", ...), id="TS002"),
        pytest.param(diag(DiagnosticKind.ATTRIBUTE_TYPE_CHANGED, 12, "cache", "NoneType", "Tensor"),
                     AnnotateAttribute("Net", "cache", ...), id="TS003"),
        pytest.param(diag(DiagnosticKind.EMPTY_CONTAINER, 20, "out", "List[int]"),
                     AnnotateEmpty("Net.forward", "out", ...), id="TS004"),
        pytest.param(diag(DiagnosticKind.INFERRED_TENSOR, 19, "n", "int"),
                     AnnotateParam("Net.forward", "n", ...), id="TS005"),
        pytest.param(diag(DiagnosticKind.ATTRIBUTE_CONVERSION, 20, "names", "list", owner="Net"),
                     AnnotateAttribute("Net", "names", ...), id="TS006"),
    ],
)
def test_compiler_evidence_proposes(d: Diagnostic, expected: object) -> None:
    [fix] = compiled_plan(evidence(d))
    assert type(fix.edit) is type(expected)
    assert fix.location == d.location
    assert fix.reason == "message"


def test_parameter_passed_an_optional_value_is_optional_without_a_none_default() -> None:
    # `helper(a, b)` called with an Optional[Tensor]: `Tensor` would change nothing; a helper written
    # for None (it tests `a is None`) must accept it
    d = diag(DiagnosticKind.INFERRED_TENSOR, 5, "a", "Optional[Tensor]", function="helper")
    text = MODEL.replace("    return a * b\n", "    if a is None:\n        return b\n    return a * b\n", 1)
    assert text != MODEL
    [fix] = compiled_plan(evidence(d, text=text))
    assert fix.edit == AnnotateParam("helper", "a", fix.edit.annotation)  # type: ignore[union-attr]
    assert ann_text(fix.edit) == "Optional[torch.Tensor]"


def test_an_optional_a_helper_hands_on_by_keyword_to_torch_widens_the_helper() -> None:
    # fairseq's layer: `self.self_attn(x, x, x, key_padding_mask=a)`: torch's MultiheadAttention takes None
    d = diag(DiagnosticKind.INFERRED_TENSOR, 5, "a", "Optional[Tensor]", function="helper")
    text = MODEL.replace("    return a * b\n", "    return torch.nn.functional.layer_norm(b, [2], weight=a)\n", 1)
    assert text != MODEL
    [fix] = compiled_plan(evidence(d, text=text))
    assert ann_text(fix.edit) == "Optional[torch.Tensor]"


def test_an_optional_a_helper_hands_on_positionally_to_torch_widens_the_helper() -> None:
    # torch's own Conv2d._conv_forward(input, weight, bias): F.conv2d(input, weight, bias, ...) takes None
    d = diag(DiagnosticKind.INFERRED_TENSOR, 5, "a", "Optional[Tensor]", function="helper")
    text = MODEL.replace("    return a * b\n", "    return torch.nn.functional.linear(b, b, a)\n", 1)
    assert text != MODEL
    [fix] = compiled_plan(evidence(d, text=text))
    assert ann_text(fix.edit) == "Optional[torch.Tensor]"


def test_an_optional_passed_to_a_helper_that_uses_it_as_a_tensor_gets_advice_for_the_caller() -> None:
    # FT-Transformer's `self.num_tokenizer(x_num)`: widening `a` would move the error into `a * b`
    d = diag(DiagnosticKind.INFERRED_TENSOR, 5, "a", "Optional[Tensor]", function="helper")
    [fix] = compiled_plan(evidence(d))
    assert fix.edit is None and fix.safety is Safety.DISPLAY_ONLY
    assert fix.title == "rule out None before passing it to helper" and "assert <value> is not None" in fix.reason


def test_signature_evidence_for_none_default() -> None:
    sig = CompiledSignature("Net.forward", (CompiledParam("x", "Tensor"), CompiledParam("mask", "Tensor", True)),
                            "Tensor")
    [fix] = rules.plan(evidence(sig))
    assert fix.code == "TS001"
    assert fix.edit == AnnotateParam("Net.forward", "mask", fix.edit.annotation)  # type: ignore[union-attr]
    assert "fails when called with None" in fix.reason


def test_signature_evidence_for_a_parameter_seen_only_as_none() -> None:
    # no None default: the probe passed None through (`helper(x, None)`), and it compiled as a Tensor
    sig = CompiledSignature("helper", (CompiledParam("a", "Tensor"), CompiledParam("b", "Tensor")), "Tensor")
    [fix] = rules.plan(evidence(sig, obs("helper", "b", Role.ARG, "NoneType")))
    assert fix.code == "TS001"
    assert fix.edit == AnnotateParam("helper", "b", fix.edit.annotation)  # type: ignore[union-attr]
    assert ann_text(fix.edit) == "Optional[torch.Tensor]"
    assert "passed `b` only as None" in fix.reason


def test_a_none_default_the_probe_passed_an_empty_dict_gets_advice_not_a_tensor() -> None:
    """fairseq's `incremental_state=None`, given `{}` by the probe: Optional[Tensor] would contradict
    what ran, and the items' types are unknown: advice, no edit."""
    sig = CompiledSignature("Net.forward", (CompiledParam("x", "Tensor"), CompiledParam("mask", "Tensor", True)),
                            "Tensor")
    [fix] = rules.plan(evidence(sig, obs("Net.forward", "mask", Role.ARG, "Optional[Dict[Unknown, Unknown]]")))
    assert fix.code == "TS001" and fix.edit is None and fix.safety is Safety.DISPLAY_ONLY
    assert "Optional[Dict[..., ...]] with no items" in fix.reason
    assert rules.plan(evidence(sig, Observation("Net.forward", "mask", Role.ARG, "", 2, note="a Config object"))) == ()


PROPERTY_MODEL = dedent('''\
    import torch
    from torch import nn


    class Net(nn.Module):
        @property
        def layers(self):
            return [getattr(self, n) for n in self.names]

        def forward(self, x):
            return x
    ''')


@pytest.mark.parametrize("reads", [False, True], ids=["unread", "read-by-forward"])
def test_uncompilable_property_is_unused_only_when_compiled_code_does_not_read_it(reads: bool) -> None:
    text = PROPERTY_MODEL.replace("return x", "return x * len(self.layers)") if reads else PROPERTY_MODEL
    d = Diagnostic(DiagnosticKind.UNSUPPORTED, "getattr's second argument must be a string literal",
                   Location(PATH, 8, 16))
    fixes = rules.plan(evidence(d, text=text))
    decorated = [f for f in fixes if f.code in ("TS008", "TS009")]
    if reads:  # @torch.jit.ignore does not apply to a property
        assert decorated == []
    else:
        [fix] = decorated
        assert fix.code == "TS009" and "compiles every property" in fix.reason


def test_compiler_and_probe_disagreeing_is_said() -> None:
    d = diag(DiagnosticKind.INFERRED_TENSOR, 19, "n", "int")
    [fix] = compiled_plan(evidence(d, obs("Net.forward", "n", Role.ARG, "float")))
    assert ann_text(fix.edit) == "int"
    assert "the compiler and the probe disagree: the probe run passed `n` as float" in fix.reason


def test_compiler_and_probe_agreeing_gives_one_fix() -> None:
    d = diag(DiagnosticKind.INFERRED_TENSOR, 19, "n", "int")
    [fix] = compiled_plan(evidence(d, obs("Net.forward", "n", Role.ARG, "int")))
    assert fix.reason == "message"


BOOL_FLAG_MODEL = dedent('''\
    import torch
    from torch import nn


    def detect(mask, is_causal=None):
        return is_causal is True


    def scale(x, factor: torch.Tensor):
        return x * factor


    class Block(nn.Module):
        def forward(self, x, mask=None, is_causal=None, gate=None, weight=None):
            causal = detect(mask, is_causal)
            if gate:
                x = x + 1
            x = scale(x, weight)
            if weight:
                x = x + 1
            return x


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()

        def forward(self, x, src_is_causal=None):
            return self.block(x, is_causal=src_is_causal)
''')


@pytest.mark.parametrize(("qualname", "param", "expected"), [
    ("detect", "is_causal", "Optional[bool]"),  # `is_causal is True`
    ("Block.forward", "is_causal", "Optional[bool]"),  # passed on to detect's bool
    ("Net.forward", "src_is_causal", "Optional[bool]"),  # to self.block, a Block: Block.forward's bool
    ("Block.forward", "gate", "Optional[bool]"),  # `if gate:`
    ("Block.forward", "weight", "Optional[torch.Tensor]"),  # tested, but passed where a Tensor is declared
    ("Block.forward", "mask", "Optional[torch.Tensor]"),  # no bool use: today's Tensor
])
def test_none_default_used_as_a_bool_is_optional_bool(qualname: str, param: str, expected: str) -> None:
    # no probe input sets them: the compiled signature shows only TorchScript's Tensor assumption
    sig = CompiledSignature(qualname, (CompiledParam(param, "Tensor", True),), "Tensor")
    found = [f for f in rules.plan(evidence(sig, text=BOOL_FLAG_MODEL))
             if isinstance(f.edit, AnnotateParam) and f.edit.param == param and f.edit.function == qualname]
    assert [ann_text(f.edit) for f in found] == [expected]


def test_none_default_used_as_a_bool_but_seen_as_a_tensor_stays_tensor() -> None:
    sig = CompiledSignature("Block.forward", (CompiledParam("gate", "Tensor", True),), "Tensor")
    seen = obs("Block.forward", "gate", Role.ARG, "Optional[Tensor]")
    found = [f for f in rules.plan(evidence(sig, seen, text=BOOL_FLAG_MODEL)) if isinstance(f.edit, AnnotateParam)]
    assert {ann_text(f.edit) for f in found} == {"Optional[torch.Tensor]"}
