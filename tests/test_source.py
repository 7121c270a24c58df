"""index_source: functions, params, classes, assignments and import style from source text."""

from __future__ import annotations

from textwrap import dedent

import pytest

from tsannotate.records import (
    AttributeAssignment,
    ClassFacts,
    ImportStyle,
    LocalAssignment,
    ParamFacts,
    SourceIndex,
    ValueKind,
)
from tsannotate.source import SourceSyntaxError, index_source

MODEL = dedent(
    '''\
    """A model."""
    import torch
    from torch import nn


    def helper(x, n: int = -1, *args, scale=1.5, flag=False, name="a", **kw) -> int:
        return n


    class Net(nn.Module):
        """Net."""

        __constants__ = ["k", 'j']
        hidden: int
        k: int = 3

        def __init__(self, k=3):
            super().__init__()
            self.k = k
            self.cache = []  # filled later
            self.state = None

        @torch.jit.export
        def forward(self, x, mask=None):
            y = None
            if mask is not None:
                for i in range(2):
                    y = x * mask
            acc = {}
            groups = {"a": [], 'b': list()}
            z: int = 0
            a, b = x, x

            def inner():
                q = []
                return q

            return y

        class Inner(nn.Module):
            @staticmethod
            @torch.jit.ignore
            def build(cls, n):
                cls.n = n
                return n
    '''
)


@pytest.fixture(scope="module")
def index() -> SourceIndex:
    return index_source("model.py", MODEL)


def test_functions_qualnames_skip_nested_defs(index: SourceIndex) -> None:
    assert [f.qualname for f in index.functions] == [
        "helper",
        "Net.__init__",
        "Net.forward",
        "Net.Inner.build",
    ]
    build = index.function("Net.Inner.build")
    assert build is not None
    assert build.class_name == "Net.Inner"
    assert build.decorators == ("staticmethod", "torch.jit.ignore")
    assert (build.first_line, build.last_line) == (43, 45)


def test_function_lines_exclude_decorators(index: SourceIndex) -> None:
    forward = index.function("Net.forward")
    assert forward is not None
    assert forward.decorators == ("torch.jit.export",)
    assert (forward.first_line, forward.last_line) == (24, 38)
    assert index.function_at(34) is forward  # inside the nested def: still forward
    helper = index.function("helper")
    assert helper is not None
    assert (helper.first_line, helper.last_line, helper.returns) == (6, 7, "int")


def test_params(index: SourceIndex) -> None:
    helper = index.function("helper")
    assert helper is not None
    assert helper.params == (
        ParamFacts("x", None, None),
        ParamFacts("n", "int", "-1", ValueKind.INT),
        ParamFacts("args", None, None, star="*"),
        ParamFacts("scale", None, "1.5", ValueKind.FLOAT, keyword_only=True),
        ParamFacts("flag", None, "False", ValueKind.BOOL, keyword_only=True),
        ParamFacts("name", None, '"a"', ValueKind.STR, keyword_only=True),
        ParamFacts("kw", None, None, star="**"),
    )
    forward = index.function("Net.forward")
    assert forward is not None
    assert forward.param("mask") == ParamFacts("mask", None, "None", ValueKind.NONE)


def test_classes(index: SourceIndex) -> None:
    assert index.classes == (
        ClassFacts(
            name="Net",
            bases=("nn.Module",),
            first_line=10,
            last_line=45,
            annotations=(("hidden", "int"), ("k", "int")),
            constants=("k", "j"),
        ),
        ClassFacts(name="Net.Inner", bases=("nn.Module",), first_line=40, last_line=45, annotations=()),
    )


def test_locals(index: SourceIndex) -> None:
    forward = [(a.name, a.line, a.value, a.annotated) for a in index.locals if a.function == "Net.forward"]
    assert forward == [
        ("y", 25, ValueKind.NONE, False),
        ("y", 28, ValueKind.OTHER, False),
        ("acc", 29, ValueKind.EMPTY_DICT, False),
        ("groups", 30, ValueKind.DICT_OF_EMPTY_LISTS, False),
        ("z", 31, ValueKind.INT, True),
        ("a", 32, ValueKind.OTHER, False),
        ("b", 32, ValueKind.OTHER, False),
    ]
    groups = next(a for a in index.locals if a.name == "groups")
    assert groups.dict_keys == ('"a"', "'b'")
    assert not any(a.name == "q" for a in index.locals)  # nested def skipped


def test_attributes(index: SourceIndex) -> None:
    assert index.attributes == (
        AttributeAssignment("Net", "k", "Net.__init__", 19, ValueKind.OTHER, "k"),
        AttributeAssignment("Net", "cache", "Net.__init__", 20, ValueKind.EMPTY_LIST, "[]"),
        AttributeAssignment("Net", "state", "Net.__init__", 21, ValueKind.NONE, "None"),
    )  # `cls.n = n` in a staticmethod is not a `self` attribute


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        pytest.param("None", ValueKind.NONE, id="none"),
        pytest.param("[]", ValueKind.EMPTY_LIST, id="empty-list"),
        pytest.param("list()", ValueKind.EMPTY_LIST, id="list-call"),
        pytest.param("{}", ValueKind.EMPTY_DICT, id="empty-dict"),
        pytest.param("dict()", ValueKind.EMPTY_DICT, id="dict-call"),
        pytest.param("{'a': [], 'b': []}", ValueKind.DICT_OF_EMPTY_LISTS, id="dict-of-empty-lists"),
        pytest.param("{'a': [], 'b': [1]}", ValueKind.OTHER, id="dict-mixed"),
        pytest.param("-3", ValueKind.INT, id="negative-int"),
        pytest.param("0x10", ValueKind.INT, id="hex"),
        pytest.param("-1e-3", ValueKind.FLOAT, id="negative-float"),
        pytest.param("True", ValueKind.BOOL, id="bool"),
        pytest.param("'s' 't'", ValueKind.STR, id="concatenated-str"),
        pytest.param("f'{x}'", ValueKind.STR, id="f-string"),
        pytest.param("b'x'", ValueKind.OTHER, id="bytes"),
        pytest.param("[1]", ValueKind.OTHER, id="list"),
        pytest.param("torch.zeros(1)", ValueKind.OTHER, id="call"),
    ],
)
def test_value_kinds(value: str, kind: ValueKind) -> None:
    index = index_source("m.py", f"def f(x=({value})):\n    v = {value}\n")
    assert index.locals == (LocalAssignment("f", "v", 2, kind, False, index.locals[0].dict_keys),)
    assert index.functions[0].params[0].default_kind == kind


@pytest.mark.parametrize(
    ("src", "style"),
    [
        pytest.param("x = 1\n", ImportStyle(), id="nothing"),
        pytest.param(
            "import torch\nfrom torch import Tensor\n",
            ImportStyle(tensor="Tensor"),
            id="from-torch-import-tensor",
        ),
        pytest.param("import torch as th\n", ImportStyle(tensor="th.Tensor", torch_alias="th"), id="torch-alias"),
        pytest.param(
            "import typing as t\nimport torch.nn as nn\n", ImportStyle(typing_module="t"), id="typing-alias"
        ),
        pytest.param(
            "import typing\nfrom typing import List, Optional as Opt, Dict\n",
            ImportStyle(typing_module="typing", typing_names=frozenset({"List", "Dict"})),
            id="typing-names",
        ),
        pytest.param(
            "try:\n    from typing import List\nexcept ImportError:\n    pass\n\ndef f():\n    from torch import Tensor\n",
            ImportStyle(typing_names=frozenset({"List"})),
            id="module-level-only",
        ),
    ],
)
def test_style(src: str, style: ImportStyle) -> None:
    assert index_source("m.py", src).style == style


def test_crlf_and_tabs() -> None:
    src = "class A:\r\n\tdef f(self, x=None):\r\n\t\ty = []\r\n\t\treturn y\r\n"
    index = index_source("m.py", src)
    f = index.function("A.f")
    assert f is not None
    assert (f.first_line, f.last_line) == (2, 4)
    assert index.locals == (LocalAssignment("A.f", "y", 3, ValueKind.EMPTY_LIST, False),)


def test_syntax_error() -> None:
    with pytest.raises(SourceSyntaxError) as info:
        index_source("m.py", "def f(:\n    pass\n")
    err = info.value
    assert (err.line, err.column) == (2, 0)
    assert str(err) == f"line 2:1: {err.message}"
    assert err.message and not err.message.startswith("parser error")


def test_call_arguments_and_truth_uses() -> None:
    index = index_source("m.py", dedent('''\
        def f(a, b=None, c=None, d=None, e=None):
            flag = a is True
            if b or e == False:
                pass
            assert not c
            g(a, b, *d, k=c, **e)
            return 1 if d else 2
    '''))
    assert [(u.name, u.line) for u in index.truth_uses] == [("a", 2), ("b", 3), ("e", 3), ("c", 5), ("d", 7)]
    [call] = index.calls
    assert (call.callee, call.args, call.keywords) == ("g", ("a", "b"), (("k", "c"),))


def test_style_leaves_out_imports_below_the_code() -> None:
    # an annotation in `f` cannot read `typing.` bound below it: the rules spell `Optional` and import it
    index = index_source("m.py", "import torch\n\n\ndef f(x, n=None):\n    return x\n\n\nimport typing\n")
    assert index.style.typing_module is None
    assert index_source("m.py", "import typing\n\n\ndef f(x):\n    return x\n").style.typing_module == "typing"
