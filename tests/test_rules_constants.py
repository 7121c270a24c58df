"""TS007 (Final), TS008 (@torch.jit.ignore), TS009 (@torch.jit.unused), TS011-TS013 (mechanical refactors),
TS020 (refactor advice):
pure rules on evidence built by hand, the way the worker reports it. No torch."""

from __future__ import annotations

from textwrap import dedent

import pytest

from tsannotate import rules
from tsannotate.records import (
    AnnotateAttribute,
    AnnotateReturn,
    Decorate,
    EnumerateLoop,
    Diagnostic,
    DiagnosticKind,
    Evidence,
    Fix,
    Location,
    Observation,
    Role,
    ImportName,
    NamedTupleClass,
    Safety,
    Source,
    WrapValue,
)
from tsannotate.jit_messages import parse_compile_error
from tsannotate.source import index_source
from tsannotate.tstypes import TSType, namedtuple_note

K = DiagnosticKind
PATH = "/p/model.py"
MODEL = dedent('''\
    import random

    import torch
    from torch import nn


    class Net(nn.Module):
        SCALE = 2.5
        SIZES = (1, 2)

        def __init__(self, use_norm=False):
            super().__init__()
            self.use_norm = use_norm
            self.norm = nn.LayerNorm(4) if use_norm else None
            self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
            self.head = 2
            self.task = "a"
            self.steps = 0

        def jitter(self, x):
            return x * random.random()

        def augment(self, x):
            try:
                return x * 2
            except Exception:
                return x

        @torch.jit.export
        def viz(self, x):
            return list(map(lambda t: t, [x]))

        def forward(self, x):
            if self.training:
                x = self.augment(x)
            if self.use_norm:
                x = self.norm(x)
            x = self.layers[self.head](x)
            for i in range(len(self.layers)):
                x = self.layers[i](x)
            self.steps += 1
            return self.jitter(x) * self.SCALE

        @torch.jit.ignore
        def count(self, x):
            return int(x.numel())
    ''')


def line_of(needle: str, text: str = MODEL) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def diag(kind: DiagnosticKind, needle: str, message: str, **kw: object) -> Diagnostic:
    return Diagnostic(kind, message, Location(PATH, line_of(needle), 8), **kw)  # type: ignore[arg-type]


def plan(*items: Diagnostic | Observation, text: str = MODEL) -> list[Fix]:
    """The rules' fixes. MODEL's `use_norm` guards a submodule None when it is off: every plan
    also holds its Final, found from the code (Source.SOURCE); tests about other fixes skip it."""
    return list(rules.plan(Evidence(
        index_source(PATH, text),
        diagnostics=tuple(i for i in items if isinstance(i, Diagnostic)),
        observations=tuple(i for i in items if isinstance(i, Observation)))))


def edits(fixes: list[Fix]) -> list[object]:
    return [f.edit for f in fixes if f.edit is not None]


# --------------------------------------------------------------------------- TS007 Final

NONE_CALL = diag(K.UNKNOWN, "x = self.norm(x)", "cannot call a value of type 'NoneType'", symbol="self.norm")
LIST_INDEX = diag(K.CONSTANT_NEEDED, "self.layers[self.head]",
                  "ModuleList indexing needs an integer literal or constant, not a variable", symbol="self.head")
DICT_INDEX = diag(K.CONSTANT_NEEDED, "self.layers[self.head]",
                  "ModuleDict indexing needs a string literal or constant, not a variable", symbol="self.task")
CLASS_CONST = diag(K.UNKNOWN, "self.SCALE", "Module 'Net' has no attribute 'SCALE'", symbol="SCALE", owner="Net")


@pytest.mark.parametrize(("d", "attr", "text"), [
    pytest.param(NONE_CALL, "use_norm", "Final[bool]", id="flag-guarding-a-None-submodule"),
    pytest.param(LIST_INDEX, "head", "Final[int]", id="module-list-index"),
    pytest.param(DICT_INDEX, "task", "Final[str]", id="module-dict-key"),
    pytest.param(CLASS_CONST, "SCALE", "Final[float]", id="class-constant"),
])
def test_final(d: Diagnostic, attr: str, text: str) -> None:
    [fix] = [f for f in plan(d) if f.code == "TS007" and f.evidence is not Source.SOURCE]
    assert fix.edit == AnnotateAttribute("Net", attr, fix.edit.annotation)  # type: ignore[union-attr]
    assert fix.edit.annotation.text == text
    assert fix.safety is Safety.SAFE
    assert fix.location == d.location


def test_final_tuple_class_constant() -> None:
    d = diag(K.UNKNOWN, "self.SCALE", "Module 'Net' has no attribute 'SIZES'", symbol="SIZES", owner="Net")
    fix, sibling = [f for f in plan(d) if f.code == "TS007" and f.evidence is not Source.SOURCE]
    assert sibling.edit == AnnotateAttribute("Net", "SCALE", sibling.edit.annotation)  # type: ignore[union-attr]
    assert fix.edit.annotation.text == "Final[Tuple[int, int]]"  # type: ignore[union-attr]


@pytest.mark.parametrize(("imports", "spelled"), [
    pytest.param("from typing import Final\n", "Final[int]", id="from-typing"),
    pytest.param("import typing\n", "typing.Final[int]", id="typing-module"),
    pytest.param("", "torch.jit.Final[int]", id="torch-jit-final-in-file"),
])
def test_final_follows_the_files_spelling(imports: str, spelled: str) -> None:
    text = imports + MODEL
    if not imports:
        text = text.replace("    SCALE = 2.5\n", "    SCALE = 2.5\n    depth: torch.jit.Final[int]\n")
    d = Diagnostic(K.CONSTANT_NEEDED, LIST_INDEX.message, Location(PATH, line_of("self.layers[self.head]", text)),
                   symbol="self.head")
    [fix] = [f for f in plan(d, text=text) if f.code == "TS007" and f.evidence is not Source.SOURCE]
    assert fix.edit.annotation.text == spelled  # type: ignore[union-attr]


def test_reassigned_attribute_cannot_be_final_and_says_where() -> None:
    text = MODEL.replace("self.steps += 1", "self.head += 1")
    d = Diagnostic(K.CONSTANT_NEEDED, LIST_INDEX.message, Location(PATH, line_of("self.layers[self.head]", text)),
                   symbol="self.head")
    [fix] = [f for f in plan(d, text=text) if f.code == "TS007" and f.evidence is not Source.SOURCE]
    assert fix.edit is None and fix.safety is Safety.DISPLAY_ONLY
    assert fix.title == "`head` of Net cannot be Final"
    assert "Net.forward reassigns it" in fix.reason
    assert fix.location is not None and fix.location.line == line_of("self.head += 1", text)


def test_already_constant_is_left_alone() -> None:
    text = MODEL.replace("    SCALE = 2.5\n", "    SCALE = 2.5\n    __constants__ = [\"head\"]\n")
    d = Diagnostic(K.CONSTANT_NEEDED, LIST_INDEX.message, Location(PATH, line_of("self.layers[self.head]", text)),
                   symbol="self.head")
    assert [f for f in plan(d, text=text) if f.code == "TS007" and f.evidence is not Source.SOURCE] == []


def test_flag_that_is_not_bool_is_not_final() -> None:
    seen = Observation("Net", "use_norm", Role.ATTR, "int")
    assert [f for f in plan(NONE_CALL, seen) if f.code == "TS007" and f.evidence is not Source.SOURCE] == []


# --------------------------------------------------------------------------- TS008 / TS009

RANDOM = diag(K.UNSUPPORTED, "random.random()", "Python builtin <built-in method random> is currently not supported",
              function="Net.jitter")
TRY = diag(K.UNSUPPORTED, "        try:", "try blocks aren't supported")
LAMBDA = diag(K.UNSUPPORTED, "lambda t", "Lambda aren't supported")


def test_helper_called_from_forward_is_ignored_with_the_observed_return_type() -> None:
    fixes = plan(RANDOM, Observation("Net.jitter", "", Role.RETURN, "float"))
    [fix] = [f for f in fixes if f.code == "TS008"]
    assert fix.edit == Decorate("Net.jitter", "torch.jit.ignore", fix.edit.returns)  # type: ignore[union-attr]
    assert fix.edit.returns is not None and fix.edit.returns.text == "float"
    assert fix.safety is Safety.NEEDS_DECISION
    assert "the scripted model needs Python" in fix.reason and "cannot run from C++" in fix.reason
    assert "compiled code calls it from Net.forward:" in fix.reason


def test_ignore_without_a_probe_says_a_tensor_is_assumed() -> None:
    [fix] = [f for f in plan(RANDOM) if f.code == "TS008"]
    assert fix.edit == Decorate("Net.jitter", "torch.jit.ignore", None)
    assert "TorchScript assumes it returns a Tensor" in fix.reason


def test_training_only_helper_is_unused() -> None:
    [fix] = [f for f in plan(TRY) if f.code in ("TS008", "TS009")]
    assert fix.code == "TS009"
    assert fix.edit == Decorate("Net.augment", "torch.jit.unused")
    assert "raises if it is reached" in fix.reason and "training-only" in fix.reason


def test_exported_helper_nobody_calls_is_unused() -> None:
    [fix] = [f for f in plan(LAMBDA) if f.code in ("TS008", "TS009")]
    assert (fix.code, fix.edit) == ("TS009", Decorate("Net.viz", "torch.jit.unused"))
    assert "exported helper" in fix.reason


def test_forward_itself_is_not_decorated() -> None:
    d = diag(K.UNSUPPORTED, "for i in range", "try blocks aren't supported")
    assert [f for f in plan(d) if f.code in ("TS008", "TS009")] == []


def test_ignored_function_seen_returning_int_gets_its_return_annotation() -> None:
    [fix] = [f for f in plan(Observation("Net.count", "", Role.RETURN, "int")) if f.code != "TS007"]
    assert fix.code == "TS008" and isinstance(fix.edit, AnnotateReturn)
    assert fix.edit.annotation.text == "int"


# --------------------------------------------------------------------------- TS020 advice


@pytest.mark.parametrize(("d", "refactor"), [
    pytest.param(diag(K.CONSTANT_NEEDED, "x = self.layers[i](x)", LIST_INDEX.message, symbol="i"),
                 "`self.layers[i]` with a variable index", id="range-loop-index"),
    pytest.param(TRY, "try/except", id="try"),
    pytest.param(LAMBDA, "lambda", id="lambda"),
    pytest.param(diag(K.UNSUPPORTED, "def forward", "Compiled functions can't take variable number of arguments"),
                 "**kwargs / *args", id="kwargs"),
    pytest.param(diag(K.UNSUPPORTED, "def forward", "generator expressions are not supported: aten::sum"),
                 "generator expression", id="generator"),
    pytest.param(diag(K.ATTRIBUTE_CONVERSION, "def forward", "Module 'Net' has no attribute 'blocks': its Python "
                      "value (a list of modules) of type 'list' could not be converted"),
                 "a plain Python list of modules", id="list-of-modules"),
    pytest.param(diag(K.UNSUPPORTED, "def forward", "python value of type 'dict' cannot be used as a value."),
                 "a global dict", id="global-dict"),
    pytest.param(diag(K.UNKNOWN, "def forward", "all inputs of range must be ints, found number in argument 0"),
                 "a number (`.item()`) where an int is needed", id="item"),
    pytest.param(diag(K.UNSUPPORTED, "def forward", "method 'walk' is called recursively. Recursive calls are not "
                      "supported"), "recursion", id="recursion"),
    pytest.param(diag(K.UNSUPPORTED, "def forward", "Failed to get source for <function Cfg.__init__> using "
                      "inspect.getsource"), "a dataclass", id="dataclass"),
    pytest.param(diag(K.UNSUPPORTED, "def forward", "Set aren't supported"), "a set", id="set"),
    pytest.param(diag(K.UNKNOWN, "def forward", "'Tensor' object has no attribute or method 'forward'"),
                 "super().forward()", id="super-forward"),
])
def test_advice_names_the_line_and_the_refactor(d: Diagnostic, refactor: str) -> None:
    [fix] = [f for f in plan(d) if f.code == "TS020"]
    assert fix.title == f"refactor: {refactor}"
    assert fix.location == d.location
    assert fix.edit is None and fix.safety is Safety.DISPLAY_ONLY


def test_no_advice_for_an_attribute_index() -> None:
    assert [f for f in plan(LIST_INDEX) if f.code == "TS020"] == []


# --------------------------------------------------------------------------- TS011 / TS012 refactors


def test_plain_list_of_modules_is_wrapped_in_module_list() -> None:
    text = MODEL.replace("self.steps = 0", "self.blocks = [nn.Linear(4, 4), nn.Linear(4, 4)]")
    d = Diagnostic(K.ATTRIBUTE_CONVERSION, "Module 'Net' has no attribute 'blocks': its Python value (a list of "
                   "modules) of type 'list' could not be converted", Location(PATH, 5), symbol="blocks", owner="Net")
    [fix] = [f for f in plan(d, text=text) if f.code == "TS011"]
    assert fix.edit == WrapValue("Net.__init__", "self.blocks", "nn.ModuleList")
    assert fix.safety is Safety.NEEDS_DECISION and "state_dict()" in fix.reason


def test_range_loop_index_is_iterated() -> None:
    d = diag(K.CONSTANT_NEEDED, "x = self.layers[i](x)", LIST_INDEX.message, symbol="i")
    [fix] = [f for f in plan(d) if f.code == "TS012"]
    assert fix.edit == EnumerateLoop("Net.forward", "i")
    assert fix.safety is Safety.NEEDS_DECISION and fix.location == d.location


def test_helper_called_only_under_a_flag_makes_the_flag_final_instead_of_ignoring_it() -> None:
    text = MODEL.replace("        if self.training:\n            x = self.augment(x)\n",
                         "        if self.use_norm:\n            x = self.augment(x)\n")
    d = Diagnostic(K.UNSUPPORTED, "try blocks aren't supported", Location(PATH, line_of("        try:", text)))
    fixes = plan(d, text=text)
    assert [f.code for f in fixes if f.edit is not None] == ["TS007"]
    assert "which is called only in a branch on `self.use_norm`" in fixes[0].reason


@pytest.mark.parametrize(("d", "says"), [
    pytest.param(Diagnostic(K.UNKNOWN, "Tried to set nonexistent attribute: head", Location(PATH, 40), symbol="head",
                            function="Net.forward"), "cannot assign to it", id="reassigned-constant"),
    pytest.param(Diagnostic(K.ATTRIBUTE_CONVERSION, "'dict' object in attribute 'Net.head' is not a valid constant.",
                            None, symbol="head", owner="Net"), "its value cannot be a constant", id="invalid-constant"),
])
def test_names_in_constants_that_cannot_be_constants_get_advice(d: Diagnostic, says: str) -> None:
    text = MODEL.replace("    SCALE = 2.5\n", "    SCALE = 2.5\n    __constants__ = [\"head\"]\n")
    [fix] = [f for f in plan(d, text=text) if f.code == "TS007" and f.evidence is not Source.SOURCE]
    assert fix.edit is None and fix.safety is Safety.DISPLAY_ONLY
    assert fix.title == "`head` of Net cannot be a constant" and says in fix.reason


def test_helper_under_a_flag_on_by_default_is_still_ignored() -> None:
    text = MODEL.replace("        if self.training:\n            x = self.augment(x)\n",
                         "        if self.use_norm:\n            x = self.augment(x)\n").replace("use_norm=False", "use_norm=True")
    d = Diagnostic(K.UNSUPPORTED, "try blocks aren't supported", Location(PATH, line_of("        try:", text)))
    assert sorted(f.code for f in plan(d, text=text) if f.edit is not None) == ["TS007", "TS008"]


# --------------------------------------------------------------------------- found from the code, not the compiler

CONSTANTS = dedent('''\
    import torch
    from torch import nn


    class Norm(nn.Module):
        NAME = "norm"
        EPS = 1e-5
        CLIP = 6.0
        PAD = 1
        SIZES = (1, 2)

        def forward(self, x):
            x = x.clamp(min=self.EPS).log()
            x = x.clamp(-self.CLIP, self.CLIP)
            return nn.functional.pad(x, (self.PAD, self.PAD))

        @torch.jit.ignore
        def sizes(self):
            return self.SIZES
    ''')


def test_every_class_constant_compiled_code_reads_is_final_in_the_pass_the_compiler_names_one() -> None:
    d = Diagnostic(K.UNKNOWN, "Module 'Norm' has no attribute 'EPS'", Location(PATH, line_of("self.EPS", CONSTANTS)),
                   symbol="EPS", owner="Norm")
    fixes = [f for f in plan(d, text=CONSTANTS) if f.code == "TS007"]
    # NAME is never read; SIZES only by an ignored method: neither needs to be a constant
    assert [(f.edit.attr, f.edit.annotation.text) for f in fixes] == [  # type: ignore[union-attr]
        ("EPS", "Final[float]"), ("CLIP", "Final[float]"), ("PAD", "Final[int]")]
    assert [f.location.line for f in fixes] == [  # type: ignore[union-attr]
        line_of(n, CONSTANTS) for n in ("self.EPS", "self.CLIP", "self.PAD")]
    assert "the compiler named `EPS` first" in fixes[1].reason


def test_a_reassigned_sibling_constant_is_not_proposed() -> None:
    text = CONSTANTS.replace("        return nn.functional.pad", "        self.PAD = 2\n        return nn.functional.pad")
    d = Diagnostic(K.UNKNOWN, "Module 'Norm' has no attribute 'EPS'", Location(PATH, line_of("self.EPS", text)),
                   symbol="EPS", owner="Norm")
    assert [f.edit.attr for f in plan(d, text=text) if f.code == "TS007"] == ["EPS", "CLIP"]  # type: ignore[union-attr]


FLAG_ON = dedent('''\
    import torch
    from torch import nn


    class Head(nn.Module):
        def __init__(self, use_proj=False, use_gate=False):
            super().__init__()
            self.use_proj = use_proj
            self.use_gate = use_gate
            self.proj = nn.Linear(4, 4) if use_proj else None
            self.gate = None
            if use_gate:
                self.gate = nn.Linear(4, 4)
            self.out = nn.Linear(4, 2)

        def forward(self, x):
            if self.use_proj:
                x = self.proj(x)
            if not self.use_gate:
                x = x * 2
            else:
                x = x * self.gate(x).sigmoid()
            return self.out(x)
    ''')


def test_flags_guarding_a_submodule_none_when_off_are_final_although_nothing_failed() -> None:
    """The probe built Head(use_proj=True, use_gate=True): it scripts, and no compiler error says
    the flags must be constants; with either flag off it would not."""
    seen = (Observation("Head", "use_proj", Role.ATTR, "bool"), Observation("Head", "use_gate", Role.ATTR, "bool"))
    fixes = plan(*seen, text=FLAG_ON)
    assert [(f.edit.attr, f.edit.annotation.text) for f in fixes] == [  # type: ignore[union-attr]
        ("use_proj", "Final[bool]"), ("use_gate", "Final[bool]")]
    assert all(f.safety is Safety.SAFE and f.evidence is Source.SOURCE for f in fixes)
    assert [f.location.line for f in fixes] == [  # type: ignore[union-attr]
        line_of("x = self.proj(x)", FLAG_ON), line_of("self.gate(x)", FLAG_ON)]
    assert "`self.proj` is None when `use_proj` is off" in fixes[0].reason


def test_a_submodule_created_only_under_the_flag_makes_it_final() -> None:
    text = FLAG_ON.replace("        self.gate = None\n", "")
    seen = Observation("Head", "use_gate", Role.ATTR, "bool")
    [fix] = [f for f in plan(seen, text=text) if f.edit is not None and f.edit.attr == "use_gate"]  # type: ignore[union-attr]
    assert fix.edit.annotation.text == "Final[bool]" and "`self.gate` is not set when `use_gate` is off" in fix.reason  # type: ignore[union-attr]


@pytest.mark.parametrize("change", [
    pytest.param(("self.proj = nn.Linear(4, 4) if use_proj else None", "self.proj = nn.Linear(4, 4)"), id="never-None"),
    pytest.param(("            x = self.proj(x)\n", "            x = self.proj(x)\n            self.use_proj = False\n"),
                 id="flag-reassigned"),
    pytest.param(("        super().__init__()\n", "        super().__init__()\n        self.use_proj: int = 0\n"),
                 id="not-a-bool"),
])
def test_no_latent_final_when(change: tuple[str, str]) -> None:
    text = FLAG_ON.replace(*change).replace("self.use_gate = use_gate", "self.use_gate = True")
    text = text.replace("self.gate = None", "self.gate = nn.Linear(4, 4)")
    seen = Observation("Head", "use_proj", Role.ATTR, "int") if change[1].endswith("= 0\n") else None
    fixes = plan(*([seen] if seen else []), text=text)
    assert [f for f in fixes if f.code == "TS007" and f.edit is not None] == []


def test_helper_under_a_default_off_flag_the_probe_turned_on_is_ignored_too() -> None:
    """The probe ran the helper, so its configuration has the flag on: Final alone would leave the
    branch (and the helper) compiled there."""
    text = MODEL.replace("        if self.training:\n            x = self.augment(x)\n",
                         "        if self.use_norm:\n            x = self.augment(x)\n")
    d = Diagnostic(K.UNSUPPORTED, "try blocks aren't supported", Location(PATH, line_of("        try:", text)))
    ran = Observation("Net.augment", "x", Role.ARG, "Tensor")
    assert sorted(f.code for f in plan(d, ran, text=text) if f.edit is not None) == ["TS007", "TS008"]


# --------------------------------------------------------------------------- TS013 namedtuple → NamedTuple

HEAD = dedent('''\
    from collections import namedtuple

    import torch
    from torch import nn

    HeadOutput = namedtuple("HeadOutput", ["scores", "num_boxes", "threshold"])


    class DetectionHead(nn.Module):
        def forward(self, x):
            scores = torch.sigmoid(x).squeeze(-1)
            return HeadOutput(scores, int((scores > 0.5).sum()), 0.5)
    ''')
# What torch.jit.script says (torch 2.13), with the path and line of HEAD's return
NAMEDTUPLE_ERROR = '''

HeadOutput(Tensor scores, Tensor num_boxes, Tensor threshold) -> ():
Expected a value of type 'Tensor (inferred)' for argument 'num_boxes' but instead found type 'int'.
Inferred 'num_boxes' to be of type 'Tensor' because it was not annotated with an explicit type.
:
  File "/p/model.py", line 12
    def forward(self, x):
        scores = torch.sigmoid(x).squeeze(-1)
        return HeadOutput(scores, int((scores > 0.5).sum()), 0.5)
               ~~~~~~~~~~ <--- HERE
'''
CLASS_FIELD_ERROR = '''

HeadOutput(Tensor scores, int num_boxes, Tensor threshold) -> ():
Expected a value of type 'Tensor' for argument 'threshold' but instead found type 'float'.
:
  File "/p/model.py", line 16
    def forward(self, x):
        scores = torch.sigmoid(x).squeeze(-1)
        return HeadOutput(scores, int((scores > 0.5).sum()), 0.5)
               ~~~~~~~~~~ <--- HERE
'''


def namedtuple_fixes(*observations: Observation, text: str = HEAD, error: str = NAMEDTUPLE_ERROR) -> list[Fix]:
    d = parse_compile_error(error, "RuntimeError", "DetectionHead")
    return [f for f in plan(d, *observations, text=text) if f.code == "TS013"]


def test_namedtuple_becomes_a_named_tuple_class_with_the_field_types_the_probe_saw() -> None:
    note = namedtuple_note("HeadOutput", [("scores", TSType("Tensor")), ("num_boxes", TSType("int")),
                                          ("threshold", TSType("float"))])
    [fix] = namedtuple_fixes(Observation("DetectionHead.forward", "", Role.RETURN, "", 2, note))
    assert fix.edit == NamedTupleClass("HeadOutput", (("scores", "torch.Tensor"), ("num_boxes", "int"),
                                                      ("threshold", "float")), "NamedTuple",
                                       (ImportName("typing", "NamedTuple"), ImportName("torch")))
    assert fix.safety is Safety.NEEDS_DECISION and fix.evidence is Source.PROBE
    assert fix.location is not None and fix.location.line == line_of("return HeadOutput", HEAD)
    assert "the probe saw HeadOutput(scores: Tensor, num_boxes: int, threshold: float)" in fix.reason


def test_namedtuple_without_a_probe_takes_the_compilers_type_and_tensors() -> None:
    [fix] = namedtuple_fixes()
    assert isinstance(fix.edit, NamedTupleClass) and fix.evidence is Source.COMPILER
    assert fix.edit.fields == (("scores", "torch.Tensor"), ("num_boxes", "int"), ("threshold", "torch.Tensor"))


def test_a_named_tuple_class_field_the_compiler_rejects_is_annotated_with_what_it_found() -> None:
    text = HEAD.replace('HeadOutput = namedtuple("HeadOutput", ["scores", "num_boxes", "threshold"])\n', dedent('''\
        class HeadOutput(NamedTuple):
            scores: torch.Tensor
            num_boxes: int
            threshold: torch.Tensor
        ''')).replace("from collections import namedtuple\n", "from typing import NamedTuple\n")
    [fix] = namedtuple_fixes(text=text, error=CLASS_FIELD_ERROR)
    assert fix.edit == AnnotateAttribute("HeadOutput", "threshold", fix.edit.annotation)  # type: ignore[union-attr]
    assert fix.edit.annotation.text == "float" and fix.safety is Safety.SAFE  # type: ignore[union-attr]


def test_a_function_of_the_same_name_is_not_a_namedtuple() -> None:
    text = HEAD.replace('HeadOutput = namedtuple("HeadOutput", ["scores", "num_boxes", "threshold"])\n',
                        "def HeadOutput(scores, num_boxes, threshold):\n    return scores\n")
    assert namedtuple_fixes(text=text) == []


def test_namedtuple_field_types_are_joined_across_what_the_probe_saw() -> None:
    """Each note holds the first value seen where it was recorded; a field None in one is Optional."""
    first = namedtuple_note("HeadOutput", [("scores", TSType("NoneType")), ("num_boxes", TSType("int")),
                                           ("threshold", TSType("float"))])
    later = first.replace("scores: NoneType", "scores: Tensor")
    [fix] = namedtuple_fixes(Observation("DetectionHead.forward", "", Role.RETURN, "", 1, first),
                             Observation("DetectionHead.forward", "out", Role.LOCAL, "", 1, "a tuple holding " + later))
    assert fix.edit.fields[0] == ("scores", "Optional[torch.Tensor]")  # type: ignore[union-attr]


# torch 2.13, for a NamedTuple class whose field `threshold` was first seen None
NONE_FIELD_ERROR = CLASS_FIELD_ERROR.replace("Tensor threshold", "NoneType threshold").replace(
    "type 'Tensor' for argument 'threshold' but instead found type 'float'",
    "type 'NoneType' for argument 'threshold' but instead found type 'float'")


@pytest.mark.parametrize(("annotated", "error", "becomes"), [
    pytest.param("torch.Tensor", CLASS_FIELD_ERROR, "float", id="tensor-given-a-float"),
    pytest.param("None", NONE_FIELD_ERROR, "Optional[float]", id="none-given-a-float"),
    pytest.param("torch.Tensor", CLASS_FIELD_ERROR.replace("found type 'float'", "found type 'NoneType'"),
                 "Optional[torch.Tensor]", id="tensor-given-None"),
])
def test_a_named_tuple_class_field_is_corrected(annotated: str, error: str, becomes: str) -> None:
    text = HEAD.replace('HeadOutput = namedtuple("HeadOutput", ["scores", "num_boxes", "threshold"])\n', dedent(f'''\
        class HeadOutput(NamedTuple):
            scores: torch.Tensor
            num_boxes: int
            threshold: {annotated}
        ''')).replace("from collections import namedtuple\n", "from typing import NamedTuple\n")
    [fix] = namedtuple_fixes(text=text, error=error)
    assert fix.edit == AnnotateAttribute("HeadOutput", "threshold", fix.edit.annotation)  # type: ignore[union-attr]
    assert fix.edit.annotation.text == becomes  # type: ignore[union-attr]
