"""apply_edits: before/after pairs per Edit kind, no-ops, and run-twice idempotence."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import libcst as cst
import pytest

from tsannotate.records import (
    AnnotateAttribute,
    AnnotateEmpty,
    AnnotateLocal,
    AnnotateParam,
    AnnotateReturn,
    Annotation,
    Decorate,
    Edit,
    ConvertDtype,
    EnumerateLoop,
    FloatLiteral,
    FunctionalActivation,
    GuardBranch,
    IsinstanceTensor,
    NoGradBlock,
    ImportName,
    NamedTupleClass,
    WrapValue,
)
from tsannotate import rewrite_text
from tsannotate.rewrite import RewriteResult, apply_edits
from tsannotate.source import SourceSyntaxError

OPTIONAL = ImportName("typing", "Optional")
LIST = ImportName("typing", "List")
DICT = ImportName("typing", "Dict")
TUPLE = ImportName("typing", "Tuple")
TORCH = ImportName("torch")
TENSOR = ImportName("torch", "Tensor")


def ann(text: str, *imports: ImportName) -> Annotation:
    return Annotation(text, imports)


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def check(src: str, edits: list[Edit], expected: str) -> RewriteResult:
    result = apply_edits(src, edits)
    assert result.text == expected
    assert result.applied == tuple(edits)
    assert result.skipped == ()
    cst.parse_module(result.text)
    return result


def check_twice(src: str, edits: list[Edit]) -> None:
    once = apply_edits(src, edits)
    assert once.applied
    twice = apply_edits(once.text, edits)
    assert twice.text == once.text
    assert twice.applied == ()
    assert [reason for _, reason in twice.skipped] == ["already annotated"] * len(once.applied)


def check_noop(src: str, edits: list[Edit], reasons: list[str]) -> None:
    result = apply_edits(src, edits)
    assert result.text == src
    assert result.applied == ()
    assert [reason for _, reason in result.skipped] == reasons


# --------------------------------------------------------------------------- AnnotateParam

NET = dedent(
    '''\
    """A model."""
    import torch
    from torch import nn


    class Net(nn.Module):
        def forward(self, x, mask=None):  # the mask is optional
            # comment kept
            return x if mask is None else x * mask
    '''
)

PARAM_CASES = [
    pytest.param(
        NET,
        [AnnotateParam("Net.forward", "mask", ann("Optional[torch.Tensor]", OPTIONAL, TORCH))],
        dedent(
            '''\
            """A model."""
            import torch
            from torch import nn
            from typing import Optional


            class Net(nn.Module):
                def forward(self, x, mask: Optional[torch.Tensor] = None):  # the mask is optional
                    # comment kept
                    return x if mask is None else x * mask
            '''
        ),
        id="none-default",
    ),
    pytest.param(
        "def f(x: int, *args, k=1, **kw):\n    return x\n",
        [
            AnnotateParam("f", "x", ann("float")),
            AnnotateParam("f", "args", ann("int")),
            AnnotateParam("f", "k", ann("int")),
            AnnotateParam("f", "kw", ann("str")),
        ],
        "def f(x: float, *args: int, k: int = 1, **kw: str):\n    return x\n",
        id="replace-star-keyword-only",
    ),
    pytest.param(
        dedent(
            """\
            class Outer:
                class Inner:
                    @torch.jit.ignore
                    def f(self, a, b=2.0):
                        return a
            """
        ),
        [AnnotateParam("Outer.Inner.f", "b", ann("float"))],
        dedent(
            """\
            class Outer:
                class Inner:
                    @torch.jit.ignore
                    def f(self, a, b: float = 2.0):
                        return a
            """
        ),
        id="decorated-method-of-nested-class",
    ),
    pytest.param(
        "from typing import List\nimport torch\n\ndef f(x=None):\n    pass\n",
        [AnnotateParam("f", "x", ann("Optional[List[int]]", OPTIONAL, LIST))],
        "from typing import List, Optional\nimport torch\n\ndef f(x: Optional[List[int]] = None):\n    pass\n",
        id="merge-into-from-typing",
    ),
    pytest.param(
        "import typing\nimport torch\n\ndef f(x=None):\n    pass\n",
        [AnnotateParam("f", "x", ann("typing.Optional[torch.Tensor]", ImportName("typing"), TORCH))],
        "import typing\nimport torch\n\ndef f(x: typing.Optional[torch.Tensor] = None):\n    pass\n",
        id="import-typing-present",
    ),
    pytest.param(
        "import torch as th\n\ndef f(x=None):\n    pass\n",
        [AnnotateParam("f", "x", ann("Optional[th.Tensor]", OPTIONAL, TORCH))],
        "import torch as th\nfrom typing import Optional\n\ndef f(x: Optional[th.Tensor] = None):\n    pass\n",
        id="torch-alias",
    ),
    pytest.param(
        "from torch import Tensor\n\ndef f(x, y):\n    pass\n",
        [AnnotateParam("f", "x", ann("Tensor", TENSOR)), AnnotateParam("f", "y", ann("torch.Tensor", TENSOR))],
        "from torch import Tensor\n\ndef f(x: Tensor, y: torch.Tensor):\n    pass\n",
        id="from-torch-import-tensor",
    ),
    pytest.param(
        '"""Doc."""\n\n\ndef f(x=None):\n    pass\n',
        [AnnotateParam("f", "x", ann("Optional[int]", OPTIONAL))],
        '"""Doc."""\nfrom typing import Optional\n\n\ndef f(x: Optional[int] = None):\n    pass\n',
        id="no-imports-yet",
    ),
    pytest.param(
        crlf("import torch\n\n\ndef f(x=None):\n    return x  # c\n"),
        [AnnotateParam("f", "x", ann("Optional[int]", OPTIONAL))],
        crlf("import torch\nfrom typing import Optional\n\n\ndef f(x: Optional[int] = None):\n    return x  # c\n"),
        id="crlf",
    ),
    pytest.param(
        "class A:\n\tdef f(self, x=0):\n\t\tif x:\n\t\t\treturn x\n",
        [AnnotateParam("A.f", "x", ann("int"))],
        "class A:\n\tdef f(self, x: int = 0):\n\t\tif x:\n\t\t\treturn x\n",
        id="tabs",
    ),
]


@pytest.mark.parametrize(("src", "edits", "expected"), PARAM_CASES)
def test_annotate_param(src: str, edits: list[Edit], expected: str) -> None:
    check(src, edits, expected)


@pytest.mark.parametrize(("src", "edits", "expected"), PARAM_CASES)
def test_annotate_param_twice(src: str, edits: list[Edit], expected: str) -> None:
    check_twice(src, edits)


@pytest.mark.parametrize(
    ("src", "edits", "reasons"),
    [
        pytest.param(
            "def f(x: Optional[ int ]=None):\n    pass\n",
            [AnnotateParam("f", "x", ann("Optional[int]", OPTIONAL))],
            ["already annotated"],
            id="already",
        ),
        pytest.param(
            NET,
            [AnnotateParam("Net.forward", "maks", ann("int"))],
            ["no parameter 'maks' in Net.forward"],
            id="no-param",
        ),
        pytest.param(
            NET,
            [AnnotateParam("Net.backward", "x", ann("int")), AnnotateParam("forward", "x", ann("int"))],
            ["no function 'Net.backward'", "no function 'forward'"],
            id="no-function",
        ),
        pytest.param(
            "def outer():\n    def inner(x):\n        pass\n",
            [AnnotateParam("inner", "x", ann("int")), AnnotateParam("outer.inner", "x", ann("int"))],
            ["no function 'inner'", "no function 'outer.inner'"],
            id="nested-def-not-addressable",
        ),
        pytest.param(
            "def f(x):\n    pass\n",
            [AnnotateParam("f", "x", ann("List[int"))],
            ["annotation 'List[int' is not a Python expression"],
            id="bad-annotation",
        ),
    ],
)
def test_annotate_param_noop(src: str, edits: list[Edit], reasons: list[str]) -> None:
    check_noop(src, edits, reasons)


# --------------------------------------------------------------------------- AnnotateReturn

RETURN_CASES = [
    pytest.param(
        "def f(x):  # c\n    return 1\n",
        [AnnotateReturn("f", ann("int"))],
        "def f(x) -> int:  # c\n    return 1\n",
        id="add",
    ),
    pytest.param(
        "def f(x) ->  float :\n    return 1\n",
        [AnnotateReturn("f", ann("int"))],
        "def f(x) ->  int :\n    return 1\n",
        id="replace",
    ),
    pytest.param(
        "from typing import List\n\nclass A:\n    class B:\n        @staticmethod\n        def g():\n            return []\n",
        [AnnotateReturn("A.B.g", ann("Tuple[int, int]", ImportName("typing", "Tuple")))],
        "from typing import List, Tuple\n\nclass A:\n    class B:\n        @staticmethod\n"
        "        def g() -> Tuple[int, int]:\n            return []\n",
        id="nested-class-decorated",
    ),
]


@pytest.mark.parametrize(("src", "edits", "expected"), RETURN_CASES)
def test_annotate_return(src: str, edits: list[Edit], expected: str) -> None:
    check(src, edits, expected)


@pytest.mark.parametrize(("src", "edits", "expected"), RETURN_CASES)
def test_annotate_return_twice(src: str, edits: list[Edit], expected: str) -> None:
    check_twice(src, edits)


@pytest.mark.parametrize(
    ("src", "edits", "reasons"),
    [
        pytest.param("def f() -> int:\n    return 1\n", [AnnotateReturn("f", ann("int"))], ["already annotated"], id="already"),
        pytest.param("def f():\n    return 1\n", [AnnotateReturn("g", ann("int"))], ["no function 'g'"], id="missing"),
    ],
)
def test_annotate_return_noop(src: str, edits: list[Edit], reasons: list[str]) -> None:
    check_noop(src, edits, reasons)


# --------------------------------------------------------------------------- AnnotateLocal

LOCAL_CASES = [
    pytest.param(
        dedent(
            """\
            import torch


            class Net(torch.nn.Module):
                def forward(self, x):
                    for i in range(3):
                        if i:
                            y = None  # first
                        else:
                            y = x
                    y = x
                    return y
            """
        ),
        [AnnotateLocal("Net.forward", "y", ann("Optional[torch.Tensor]", OPTIONAL, TORCH))],
        dedent(
            """\
            import torch
            from typing import Optional


            class Net(torch.nn.Module):
                def forward(self, x):
                    for i in range(3):
                        if i:
                            y: Optional[torch.Tensor] = None  # first
                        else:
                            y = x
                    y = x
                    return y
            """
        ),
        id="first-in-nested-block",
    ),
    pytest.param(
        "def f():\n    def g():\n        n = 1\n    n=0; m = 1\n    n: float = 2\n",
        [AnnotateLocal("f", "n", ann("int"))],
        "def f():\n    def g():\n        n = 1\n    n: int=0; m = 1\n    n: float = 2\n",
        id="skips-nested-def-keeps-spacing",
    ),
    pytest.param(
        "def f():\n    n: float = 0\n",
        [AnnotateLocal("f", "n", ann("int"))],
        "def f():\n    n: int = 0\n",
        id="replace-annotation",
    ),
    pytest.param(
        crlf("def f():\r\n\tn = None\r\n\tn = 1\r\n".replace("\r\n", "\n")),
        [AnnotateLocal("f", "n", ann("Optional[int]", OPTIONAL))],
        crlf("from typing import Optional\n\ndef f():\n\tn: Optional[int] = None\n\tn = 1\n"),
        id="crlf-tabs",
    ),
]


@pytest.mark.parametrize(("src", "edits", "expected"), LOCAL_CASES)
def test_annotate_local(src: str, edits: list[Edit], expected: str) -> None:
    check(src, edits, expected)


@pytest.mark.parametrize(("src", "edits", "expected"), LOCAL_CASES)
def test_annotate_local_twice(src: str, edits: list[Edit], expected: str) -> None:
    check_twice(src, edits)


@pytest.mark.parametrize(
    ("src", "edits", "reasons"),
    [
        pytest.param(
            "def f():\n    y: int = 1\n    y = 2\n", [AnnotateLocal("f", "y", ann("int"))], ["already annotated"], id="already"
        ),
        pytest.param(
            "def f():\n    x = 1\n", [AnnotateLocal("f", "y", ann("int"))], ["no assignment to 'y' in f"], id="no-assignment"
        ),
        pytest.param(
            "def f():\n    def g():\n        y = 1\n",
            [AnnotateLocal("f", "y", ann("int"))],
            ["no assignment to 'y' in f"],
            id="only-in-nested-def",
        ),
        pytest.param(
            "def f():\n    y = z = 1\n",
            [AnnotateLocal("f", "y", ann("int"))],
            ["the first assignment to 'y' in f is a chained assignment"],
            id="chained",
        ),
    ],
)
def test_annotate_local_noop(src: str, edits: list[Edit], reasons: list[str]) -> None:
    check_noop(src, edits, reasons)


# --------------------------------------------------------------------------- AnnotateEmpty

EMPTY_CASES = [
    pytest.param(
        "import torch\n\ndef f(x):\n    out = []  # results\n    out = []\n    return out\n",
        [AnnotateEmpty("f", "out", ann("List[int]", LIST))],
        "import torch\nfrom typing import List\n\ndef f(x):\n    out = torch.jit.annotate(List[int], [])  # results\n"
        "    out = []\n    return out\n",
        id="list",
    ),
    pytest.param(
        "import torch as th\nfrom typing import Dict\n\ndef f():\n    a = dict()\n    b = list()\n    c = {}\n",
        [
            AnnotateEmpty("f", "a", ann("Dict[str, th.Tensor]", DICT, TORCH)),
            AnnotateEmpty("f", "b", ann("List[str]", LIST)),
            AnnotateEmpty("f", "c", ann("Dict[str, int]", DICT)),
        ],
        "import torch as th\nfrom typing import Dict, List\n\ndef f():\n"
        "    a = th.jit.annotate(Dict[str, th.Tensor], {})\n"
        "    b = th.jit.annotate(List[str], [])\n"
        "    c = th.jit.annotate(Dict[str, int], {})\n",
        id="torch-alias-and-calls",
    ),
    pytest.param(
        "from typing import List\n\ndef f():\n    d = {\"a\": [], 'b': []}\n    return d\n",
        [AnnotateEmpty("f", "d", ann("List[int]", LIST), key="'b'")],
        "from typing import List\nimport torch\n\ndef f():\n"
        "    d = {\"a\": [], 'b': torch.jit.annotate(List[int], [])}\n    return d\n",
        id="dict-key-adds-import-torch",
    ),
    pytest.param(
        "import torch\nfrom typing import List\n\ndef f():\n    d = {\"a\": [], \"b\": []}\n",
        [AnnotateEmpty("f", "d", ann("List[int]"), key="'a'"), AnnotateEmpty("f", "d", ann("List[str]"), key='"b"')],
        "import torch\nfrom typing import List\n\ndef f():\n"
        "    d = {\"a\": torch.jit.annotate(List[int], []), \"b\": torch.jit.annotate(List[str], [])}\n",
        id="dict-both-keys",
    ),
    pytest.param(
        dedent(
            """\
            import torch
            from typing import List


            class Net(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.cache = None
                    self.cache = []
            """
        ),
        [AnnotateEmpty("Net.__init__", "self.cache", ann("List[torch.Tensor]", LIST, TORCH))],
        dedent(
            """\
            import torch
            from typing import List


            class Net(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.cache = None
                    self.cache = torch.jit.annotate(List[torch.Tensor], [])
            """
        ),
        id="self-attribute",
    ),
    pytest.param(
        "import torch\n\ndef f():\n    out = torch.jit.annotate(List[str], [])\n",
        [AnnotateEmpty("f", "out", ann("List[int]"))],
        "import torch\n\ndef f():\n    out = torch.jit.annotate(List[int], [])\n",
        id="retype-wrapped",
    ),
    pytest.param(
        '"""Doc."""\n\ndef f():\n    out = []\n',
        [AnnotateEmpty("f", "out", ann("List[int]", LIST))],
        '"""Doc."""\nimport torch\nfrom typing import List\n\ndef f():\n    out = torch.jit.annotate(List[int], [])\n',
        id="no-imports-yet",
    ),
    pytest.param(
        "# header\nfrom __future__ import annotations\nimport torch.nn as nn\n\n# section\ndef f():\n    out = []\n",
        [AnnotateEmpty("f", "out", ann("List[int]", LIST))],
        "# header\nfrom __future__ import annotations\nimport torch.nn as nn\nimport torch\nfrom typing import List\n\n"
        "# section\ndef f():\n    out = torch.jit.annotate(List[int], [])\n",
        id="torch-nn-alias-does-not-bind-torch",
    ),
    pytest.param(
        "import torch.nn\n\ndef f():\n    out = []\n",
        [AnnotateEmpty("f", "out", ann("List[int]"))],
        "import torch.nn\n\ndef f():\n    out = torch.jit.annotate(List[int], [])\n",
        id="import-torch-nn-binds-torch",
    ),
]


@pytest.mark.parametrize(("src", "edits", "expected"), EMPTY_CASES)
def test_annotate_empty(src: str, edits: list[Edit], expected: str) -> None:
    check(src, edits, expected)


@pytest.mark.parametrize(("src", "edits", "expected"), EMPTY_CASES)
def test_annotate_empty_twice(src: str, edits: list[Edit], expected: str) -> None:
    check_twice(src, edits)


@pytest.mark.parametrize(
    ("src", "edits", "reasons"),
    [
        pytest.param(
            "import torch\n\ndef f():\n    out = torch.jit.annotate(List[int], [])\n",
            [AnnotateEmpty("f", "out", ann("List[int]"))],
            ["already annotated"],
            id="already",
        ),
        pytest.param(
            "def f():\n    out = [1]\n",
            [AnnotateEmpty("f", "out", ann("List[int]"))],
            ["no assignment `out = []` / `out = {}` in f"],
            id="not-empty",
        ),
        pytest.param(
            "def f():\n    d = {'a': []}\n",
            [AnnotateEmpty("f", "d", ann("List[int]"), key="'z'")],
            ["no assignment `d = {'z': [], ...}` in f"],
            id="no-such-key",
        ),
        pytest.param(
            "def f():\n    pass\n",
            [AnnotateEmpty("g", "d", ann("List[int]"))],
            ["no function 'g'"],
            id="missing-function",
        ),
    ],
)
def test_annotate_empty_noop(src: str, edits: list[Edit], reasons: list[str]) -> None:
    check_noop(src, edits, reasons)


# --------------------------------------------------------------------------- AnnotateAttribute

MODULE_CLASS = dedent(
    '''\
    import torch
    from typing import Optional


    class Net(torch.nn.Module):
        """Docstring."""

        def __init__(self):
            super().__init__()
            self.state = None  # set later
    '''
)

ATTRIBUTE_CASES = [
    pytest.param(
        MODULE_CLASS,
        [AnnotateAttribute("Net", "state", ann("Optional[torch.Tensor]", OPTIONAL, TORCH))],
        dedent(
            '''\
            import torch
            from typing import Optional


            class Net(torch.nn.Module):
                """Docstring."""
                state: Optional[torch.Tensor]

                def __init__(self):
                    super().__init__()
                    self.state = None  # set later
            '''
        ),
        id="after-docstring",
    ),
    pytest.param(
        dedent(
            """\
            class Net(Module):
                __constants__ = ["k"]
                a: int
                k = 3
                # about init
                def __init__(self):
                    self.b = None
            """
        ),
        [AnnotateAttribute("Net", "b", ann("Optional[int]", OPTIONAL)), AnnotateAttribute("Net", "c", ann("int"))],
        dedent(
            """\
            from typing import Optional

            class Net(Module):
                __constants__ = ["k"]
                a: int
                b: Optional[int]
                c: int
                k = 3
                # about init
                def __init__(self):
                    self.b = None
            """
        ),
        id="after-existing-declarations",
    ),
    pytest.param(
        "class Net(Module):\n    a: float = 1.0\n",
        [AnnotateAttribute("Net", "a", ann("int"))],
        "class Net(Module):\n    a: int = 1.0\n",
        id="replace",
    ),
    pytest.param(
        "class Outer:\n    class Inner:\n        # comment\n        def f(self):\n            pass\n",
        [AnnotateAttribute("Outer.Inner", "x", ann("int"))],
        "class Outer:\n    class Inner:\n        x: int\n        # comment\n        def f(self):\n            pass\n",
        id="nested-class-before-def",
    ),
    pytest.param(
        "class A:\n    pass\n\n\nclass B: pass  # empty\n",
        [AnnotateAttribute("A", "x", ann("int")), AnnotateAttribute("B", "y", ann("int"))],
        "class A:\n    x: int\n    pass\n\n\nclass B:  # empty\n    y: int\n    pass\n",
        id="pass-only",
    ),
    pytest.param(
        "class A(Module):\n    def __init__(self):\n        self.c = None\n",
        [AnnotateAttribute("A", "c", ann("int"))],
        "class A(Module):\n    c: int\n\n    def __init__(self):\n        self.c = None\n",
        id="blank-line-before-first-method",
    ),
    pytest.param(
        crlf("class A:\n\t'''Doc.'''\n\n\tdef f(self):\n\t\tpass\n"),
        [AnnotateAttribute("A", "x", ann("int"))],
        crlf("class A:\n\t'''Doc.'''\n\tx: int\n\n\tdef f(self):\n\t\tpass\n"),
        id="crlf-tabs",
    ),
]


@pytest.mark.parametrize(("src", "edits", "expected"), ATTRIBUTE_CASES)
def test_annotate_attribute(src: str, edits: list[Edit], expected: str) -> None:
    check(src, edits, expected)


@pytest.mark.parametrize(("src", "edits", "expected"), ATTRIBUTE_CASES)
def test_annotate_attribute_twice(src: str, edits: list[Edit], expected: str) -> None:
    check_twice(src, edits)


@pytest.mark.parametrize(
    ("src", "edits", "reasons"),
    [
        pytest.param(
            "class A:\n    x:  List[ int ]\n", [AnnotateAttribute("A", "x", ann("List[int]"))], ["already annotated"], id="already"
        ),
        pytest.param(
            "class A:\n    pass\n", [AnnotateAttribute("B", "x", ann("int"))], ["no class 'B'"], id="missing-class"
        ),
        pytest.param(
            "def f():\n    class A:\n        pass\n",
            [AnnotateAttribute("A", "x", ann("int"))],
            ["no class 'A'"],
            id="class-in-function",
        ),
    ],
)
def test_annotate_attribute_noop(src: str, edits: list[Edit], reasons: list[str]) -> None:
    check_noop(src, edits, reasons)


# --------------------------------------------------------------------------- Decorate and Final

FINAL = ImportName("typing", "Final")
HELPER = "import torch\n\n\nclass Net:\n    # the helper\n    def count(self, x):\n        return int(x)\n"

DECORATE_CASES = [
    pytest.param(
        HELPER,
        [Decorate("Net.count", "torch.jit.ignore", ann("int"))],
        HELPER.replace("    def count(self, x):", "    @torch.jit.ignore\n    def count(self, x) -> int:"),
        id="ignore-with-return",
    ),
    pytest.param(
        HELPER,
        [Decorate("Net.count", "torch.jit.unused")],
        HELPER.replace("    def count", "    @torch.jit.unused\n    def count"),
        id="unused",
    ),
    pytest.param(
        "import torch\n\n\nclass Net:\n    @torch.jit.export\n    def viz(self, x):\n        pass\n",
        [Decorate("Net.viz", "torch.jit.unused")],
        "import torch\n\n\nclass Net:\n    @torch.jit.unused\n    @torch.jit.export\n    def viz(self, x):\n        pass\n",
        id="above-export",
    ),
    pytest.param(
        "import torch\n\n\ndef helper(x) -> float:\n    return 1.0\n",
        [Decorate("helper", "torch.jit.ignore", ann("int"))],
        "import torch\n\n\n@torch.jit.ignore\ndef helper(x) -> float:\n    return 1.0\n",
        id="keeps-existing-return",
    ),
    pytest.param(
        crlf("import torch\n\n\nclass Net:\n\tdef f(self):\n\t\tpass\n"),
        [Decorate("Net.f", "torch.jit.ignore", ann("List[int]", LIST))],
        crlf("import torch\nfrom typing import List\n\n\nclass Net:\n\t@torch.jit.ignore\n\tdef f(self) -> List[int]:\n\t\tpass\n"),
        id="crlf-tabs-import",
    ),
    pytest.param(
        "class Net:\n    SCALE = 2.5  # the scale\n",
        [AnnotateAttribute("Net", "SCALE", ann("Final[float]", FINAL))],
        "from typing import Final\n\nclass Net:\n    SCALE: Final[float] = 2.5  # the scale\n",
        id="class-constant-final-in-place",
    ),
]


@pytest.mark.parametrize(("src", "edits", "expected"), DECORATE_CASES)
def test_decorate(src: str, edits: list[Edit], expected: str) -> None:
    check(src, edits, expected)


@pytest.mark.parametrize(("src", "edits", "expected"), DECORATE_CASES)
def test_decorate_twice(src: str, edits: list[Edit], expected: str) -> None:
    check_twice(src, edits)


@pytest.mark.parametrize(
    ("src", "edits", "reasons"),
    [
        pytest.param("import torch\n\n@torch.jit.unused\ndef f():\n    pass\n",
                     [Decorate("f", "torch.jit.ignore")], ["already decorated @torch.jit.unused"], id="other-modifier"),
        pytest.param("import torch as T\n\n@T.jit.ignore(drop=False)\ndef f() -> int:\n    pass\n",
                     [Decorate("f", "T.jit.ignore", ann("int"))], ["already annotated"], id="alias-with-args"),
        pytest.param("def f():\n    pass\n", [Decorate("g", "torch.jit.ignore")], ["no function 'g'"], id="missing"),
    ],
)
def test_decorate_noop(src: str, edits: list[Edit], reasons: list[str]) -> None:
    check_noop(src, edits, reasons)


def test_decorate_adds_import_torch_when_unbound() -> None:
    result = apply_edits("def f():\n    pass\n", [Decorate("f", "torch.jit.ignore")])
    assert result.text == "import torch\n\n@torch.jit.ignore\ndef f():\n    pass\n"


# --------------------------------------------------------------------------- mechanical refactors

NAMEDTUPLE = dedent('''\
    """Outputs."""
    from collections import namedtuple

    import torch

    Output = namedtuple("Output", ["logits", "count"])  # what forward returns
    def f():
        return Output(torch.ones(1), 1)
    ''')
NAMEDTUPLE_CLASS = dedent('''\
    """Outputs."""

    import torch
    from typing import NamedTuple


    class Output(NamedTuple):  # what forward returns
        logits: torch.Tensor
        count: int


    def f():
        return Output(torch.ones(1), 1)
    ''')
OUTPUT = NamedTupleClass("Output", (("logits", "torch.Tensor"), ("count", "int")), "NamedTuple",
                         (ImportName("typing", "NamedTuple"),))

LOOP = dedent("""\
    class Net:
        def forward(self, x):
            for i in range(len(self.layers)):
                x = self.layers[i](x)  # each layer
            return x
    """)

HEAD = dedent("""\
    class Head:
        def forward(self, xs):
            for i in range(self.nl):
                xs[i] = self.convs[i](xs[i])
            return self.convs[len(xs) - 1](xs[-1]) + self.convs[0](xs[0])
    """)
HEAD_AT = dedent("""\
    class Head:
        def forward(self, xs):
            for i in range(self.nl):
                xs[i] = self._convs_at(i, xs[i])
            return self._convs_at(len(xs) - 1, xs[-1]) + self.convs[0](xs[0])

        def _convs_at(self, index: int, x):
            # `self.convs[index](x)`: TorchScript indexes a ModuleList only with constants, so
            # iterate it (the loop is unrolled) and call the item at `index`
            if index < 0:
                index += len(self.convs)
            for i, item in enumerate(self.convs):
                if i == index:
                    return item(x)
            raise IndexError("convs index out of range")
    """)

BOOL_MASK = "import torch\n\n\ndef keep(mask, x):\n    return x.masked_fill(~mask.bool(), 0.0).bool() | mask[0].bool()\n"

COND = dedent("""\
    class Emb:
        def forward(self, x, cond=None):
            if cond is not None:
                x = x + self.cond_proj(cond)
            return x
    """)

IS_TENSOR = "import torch\n\n\ndef f(t):\n    if not torch.is_tensor(t):\n        t = torch.tensor([t])\n    return t\n"

ACT = "import torch\n\n\ndef f(x):\n    return torch.nn.ReLU()(x) + torch.nn.GELU()(x[0]) * torch.nn.Softmax(dim=1)(x)\n"
FLOATS = dedent("""\
    import torch.nn.functional as F


    def up(x, pad_value: float):
        y = F.pad(x, (0, 1), value=0) + F.pad(x, (1, 0), value=-1) + F.pad(x, (1, 1), value=pad_value)
        return F.interpolate(y, scale_factor=2, mode="nearest") + F.pad(x, (0, 1), "constant", 0)
""")
ACT_ARGS = dedent("""\
    from torch import nn


    def f(x, self_dim: int):
        y = nn.LeakyReLU(0.2)(x) + nn.ELU(0.5, inplace=False)(x) + nn.Threshold(0.1, 20)(x)
        y = y + nn.GELU(approximate="tanh")(x) + nn.LogSoftmax(self_dim)(x)
        return y + nn.RReLU()(x) + nn.Softmax(1, 2)(x) + nn.Softmax(*self_dim)(x) + nn.Tanh(inplace=True)(x)
""")

NO_GRAD = dedent("""\
    class Net:
        @staticmethod
        def helper(x):
            return x

        @torch.no_grad()
        def forward(self, x):
            \"\"\"Teacher targets.\"\"\"
            y = x + 1  # shifted
            return y
    """)
NO_GRAD_WITH = dedent("""\
    class Net:
        @staticmethod
        def helper(x):
            return x

        def forward(self, x):
            \"\"\"Teacher targets.\"\"\"
            with torch.no_grad():
                y = x + 1  # shifted
                return y
    """)

REFACTOR_CASES = [
    pytest.param(NO_GRAD, [NoGradBlock("Net.forward", "torch.no_grad()")], NO_GRAD_WITH, id="no-grad-block"),
    pytest.param(NO_GRAD.replace("@torch.no_grad()", "@torch.no_grad"), [NoGradBlock("Net.forward", "torch.no_grad")],
                 NO_GRAD_WITH, id="no-grad-block-uncalled"),
    pytest.param(NO_GRAD.replace("    @torch.no_grad()\n", "    @torch.no_grad()\n    @other\n"),
                 [NoGradBlock("Net.forward", "torch.no_grad()")],
                 NO_GRAD_WITH.replace("    def forward", "    @other\n    def forward"), id="no-grad-block-other-decorator"),
    pytest.param(ACT, [FunctionalActivation("f")],
                 ACT.replace("torch.nn.ReLU()(x)", "torch.nn.functional.relu(x)")
                 .replace("torch.nn.GELU()(x[0])", "torch.nn.functional.gelu(x[0])")
                 .replace("torch.nn.Softmax(dim=1)(x)", "torch.nn.functional.softmax(x, dim=1)"),
                 id="functional-activation"),
    pytest.param(ACT.replace("import torch\n", "from torch import nn\n").replace("torch.nn.", "nn."),
                 [FunctionalActivation("f")],
                 ACT.replace("import torch\n", "from torch import nn\n").replace("torch.nn.", "nn.")
                 .replace("nn.ReLU()(x)", "nn.functional.relu(x)").replace("nn.GELU()(x[0])", "nn.functional.gelu(x[0])")
                 .replace("nn.Softmax(dim=1)(x)", "nn.functional.softmax(x, dim=1)"),
                 id="functional-activation-nn"),
    pytest.param(ACT.replace("import torch\n", "from torch.nn import ReLU, GELU, Softmax\n").replace("torch.nn.", ""),
                 [FunctionalActivation("f")],
                 ACT.replace("import torch\n", "from torch.nn import ReLU, GELU, Softmax\nimport torch\n")
                 .replace("torch.nn.", "").replace("ReLU()(x)", "torch.nn.functional.relu(x)")
                 .replace("GELU()(x[0])", "torch.nn.functional.gelu(x[0])")
                 .replace("Softmax(dim=1)(x)", "torch.nn.functional.softmax(x, dim=1)"), id="functional-activation-imported"),
    pytest.param(FLOATS, [FloatLiteral("up", "F.pad", "value", "0"), FloatLiteral("up", "F.pad", "value", "-1"),
                          FloatLiteral("up", "F.interpolate", "scale_factor", "2")],
                 FLOATS.replace("value=0)", "value=0.0)").replace("value=-1)", "value=-1.0)")
                 .replace("scale_factor=2,", "scale_factor=2.0,"), id="float-literal"),
    pytest.param(ACT_ARGS, [FunctionalActivation("f")],
                 ACT_ARGS.replace("nn.LeakyReLU(0.2)(x)", "nn.functional.leaky_relu(x, negative_slope=0.2)")
                 .replace("nn.ELU(0.5, inplace=False)(x)", "nn.functional.elu(x, alpha=0.5, inplace=False)")
                 .replace("nn.Threshold(0.1, 20)(x)", "nn.functional.threshold(x, threshold=0.1, value=20)")
                 .replace("nn.GELU(approximate=\"tanh\")(x)", "nn.functional.gelu(x, approximate=\"tanh\")")
                 .replace("nn.LogSoftmax(self_dim)(x)", "nn.functional.log_softmax(x, dim=self_dim)"),
                 id="functional-activation-arguments-by-name"),
    pytest.param(IS_TENSOR, [IsinstanceTensor("f")],
                 IS_TENSOR.replace("torch.is_tensor(t)", "isinstance(t, torch.Tensor)"), id="is-tensor"),
    pytest.param(IS_TENSOR.replace("import torch\n", "import torch as th\n").replace("torch.", "th."),
                 [IsinstanceTensor("f")],
                 IS_TENSOR.replace("import torch\n", "import torch as th\n").replace("torch.", "th.")
                 .replace("th.is_tensor(t)", "isinstance(t, th.Tensor)"), id="is-tensor-alias"),
    pytest.param(COND, [GuardBranch("Emb.forward", "cond is not None", "cond_proj")],
                 COND.replace("if cond is not None:", "if cond is not None and self.cond_proj is not None:"),
                 id="guard-branch"),
    pytest.param(COND.replace("if cond is not None:", "if cond is not None or x.dim() > 2:"),
                 [GuardBranch("Emb.forward", "cond is not None or x.dim() > 2", "cond_proj")],
                 COND.replace("if cond is not None:",
                              "if (cond is not None or x.dim() > 2) and self.cond_proj is not None:"),
                 id="guard-branch-or"),
    pytest.param(BOOL_MASK, [ConvertDtype("keep", "bool")], BOOL_MASK.replace(".bool()", ".to(torch.bool)"),
                 id="dtype-method"),
    pytest.param(BOOL_MASK.replace("import torch\n", "import torch as T\n"), [ConvertDtype("keep", "bool")],
                 BOOL_MASK.replace("import torch\n", "import torch as T\n").replace(".bool()", ".to(T.bool)"),
                 id="dtype-method-torch-alias"),
    pytest.param(BOOL_MASK.replace("import torch\n", "from torch import nn\n").replace(".bool()", ".bfloat16()"),
                 [ConvertDtype("keep", "bfloat16")],
                 BOOL_MASK.replace("import torch\n", "from torch import nn\nimport torch\n")
                 .replace(".bool()", ".to(torch.bfloat16)"), id="dtype-method-imports-torch"),
    pytest.param(HEAD, [EnumerateLoop("Head.forward", "i", "Head", "convs")], HEAD_AT, id="module-list-helper"),
    pytest.param(HEAD.replace("    ", "\t"), [EnumerateLoop("Head.forward", "len(xs) - 1", "Head", "convs")],
                 HEAD_AT.replace("    ", "\t"), id="module-list-helper-tabs"),
    pytest.param(HEAD.replace("(xs[i])", "(xs[i], 2)").replace("(xs[-1])", "(xs[-1], 3)").replace("(xs[0])", "(xs[0], 4)"),
                 [EnumerateLoop("Head.forward", "i", "Head", "convs")],
                 HEAD_AT.replace("(i, xs[i])", "(i, xs[i], 2)").replace("xs[-1])", "xs[-1], 3)")
                 .replace("(xs[0])", "(xs[0], 4)").replace("x):", "x1, x2):").replace("](x)", "](x1, x2)")
                 .replace("item(x)", "item(x1, x2)"), id="module-list-helper-two-arguments"),
    pytest.param(LOOP, [EnumerateLoop("Net.forward", "i", "Net", "layers")],
                 LOOP.replace("for i in range(len(self.layers)):", "for layer in self.layers:")
                     .replace("self.layers[i](x)", "layer(x)"), id="module-list-loop-first"),
    pytest.param(LOOP, [EnumerateLoop("Net.forward", "i")],
                 LOOP.replace("for i in range(len(self.layers)):", "for layer in self.layers:")
                     .replace("self.layers[i](x)", "layer(x)"), id="iterate"),
    pytest.param(LOOP.replace("self.layers[i](x)", "self.layers[i](x) * i"), [EnumerateLoop("Net.forward", "i")],
                 LOOP.replace("for i in range(len(self.layers)):", "for i, layer in enumerate(self.layers):")
                     .replace("self.layers[i](x)", "layer(x) * i"), id="enumerate-when-the-index-is-used"),
    pytest.param(LOOP.replace("return x", "layer = 1\n        return x"), [EnumerateLoop("Net.forward", "i")],
                 LOOP.replace("for i in range(len(self.layers)):", "for layers_item in self.layers:")
                     .replace("self.layers[i](x)", "layers_item(x)").replace("return x", "layer = 1\n        return x"),
                 id="free-name"),
    pytest.param("class Net:\n    def __init__(self):\n        self.blocks = [nn.Linear(2, 2), nn.ReLU()]  # two\n",
                 [WrapValue("Net.__init__", "self.blocks", "nn.ModuleList")],
                 "class Net:\n    def __init__(self):\n        self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])  # two\n",
                 id="module-list"),
    pytest.param(NAMEDTUPLE, [OUTPUT], NAMEDTUPLE_CLASS, id="namedtuple"),
    pytest.param(NAMEDTUPLE.replace('["logits", "count"]', '"logits, count"'), [OUTPUT], NAMEDTUPLE_CLASS,
                 id="namedtuple-fields-in-one-string"),
    pytest.param(NAMEDTUPLE.replace("from collections import namedtuple", "import collections")
                 .replace("= namedtuple(", "= collections.namedtuple("), [OUTPUT], NAMEDTUPLE_CLASS,
                 id="collections-namedtuple"),
    pytest.param(NAMEDTUPLE.replace("import torch\n", "import torch\nimport typing\n"),
                 [NamedTupleClass("Output", OUTPUT.fields, "typing.NamedTuple")],
                 NAMEDTUPLE_CLASS.replace("import torch\n", "import torch\nimport typing\n")
                 .replace("from typing import NamedTuple\n", "").replace("(NamedTuple)", "(typing.NamedTuple)"),
                 id="namedtuple-typing-module"),
    pytest.param(NAMEDTUPLE.replace("def f():", "Pair = namedtuple(\"Pair\", \"a b\")\n\n\ndef f():"), [OUTPUT],
                 NAMEDTUPLE_CLASS.replace('"""\n\nimport torch\n', '"""\nfrom collections import namedtuple\n\nimport torch\n')
                 .replace("def f():", "Pair = namedtuple(\"Pair\", \"a b\")\n\n\ndef f():"),
                 id="namedtuple-import-still-used"),
]


@pytest.mark.parametrize(("src", "edits", "expected"), REFACTOR_CASES)
def test_refactor(src: str, edits: list[Edit], expected: str) -> None:
    check(src, edits, expected)


@pytest.mark.parametrize(("src", "edits", "expected"), REFACTOR_CASES)
def test_refactor_twice(src: str, edits: list[Edit], expected: str) -> None:
    check_twice(src, edits)


@pytest.mark.parametrize(
    ("src", "edits", "reasons"),
    [
        pytest.param(LOOP.replace("range(len(self.layers))", "range(3)"), [EnumerateLoop("Net.forward", "i")],
                     ["no `for i in range(len(...))` loop indexing its container in Net.forward"], id="not-range-len"),
        pytest.param(FLOATS, [FloatLiteral("up", "F.pad", "value", "1"), FloatLiteral("up", "pad", "value", "0"),
                              FloatLiteral("up", "F.pad", "mode", "0")],
                     ["no call of F.pad passing `value=1` in up", "no call of pad passing `value=0` in up",
                      "no call of F.pad passing `mode=0` in up"], id="float-literal-not-there"),
        pytest.param(ACT.replace("torch.nn.ReLU()(x) + torch.nn.GELU()(x[0]) * ", "").replace("Softmax", "ReLU"),
                     [FunctionalActivation("f")], ["no activation module built and called in f"],
                     id="functional-activation-unknown-argument"),
        pytest.param(ACT_ARGS.replace("y = nn.Leaky", "y = nn.RReLU()(x)  # nn.Leaky").replace("    y = y + nn.GELU", "    # nn.GELU"),
                     [FunctionalActivation("f")], ["no activation module built and called in f"],
                     id="functional-activation-none-that-bind"),
        pytest.param(NO_GRAD.replace("@torch.no_grad()", "@torch.inference_mode()"),
                     [NoGradBlock("Net.forward", "torch.no_grad()")], ["no `@torch.no_grad()` on Net.forward"],
                     id="no-grad-block-other-context"),
        pytest.param(IS_TENSOR.replace("torch.is_tensor(t)", "t.dim() == 0"), [IsinstanceTensor("f")],
                     ["no `torch.is_tensor(...)` call in f"], id="is-tensor-none"),
        pytest.param(COND.replace("self.cond_proj(cond)", "self.other(cond)"),
                     [GuardBranch("Emb.forward", "cond is not None", "cond_proj")],
                     ["no `if cond is not None:` calling `self.cond_proj` in Emb.forward"], id="guard-branch-no-call"),
        pytest.param(BOOL_MASK.replace(".bool()", ".bool(memory_format=torch.preserve_format)"),
                     [ConvertDtype("keep", "bool")], ["no `.bool()` call in keep"], id="dtype-method-with-arguments"),
        pytest.param(HEAD.replace("self.convs[i](xs[i])", "self.convs[i](xs[i], bias=1)"),
                     [EnumerateLoop("Head.forward", "i", "Head", "convs")],
                     ["the calls of `self.convs[...]` in Head.forward pass different or keyword arguments"],
                     id="module-list-helper-keywords"),
        pytest.param(HEAD.replace("xs[i] = self.convs[i](xs[i])", "conv = self.convs[i]\n            xs[i] = conv(xs[i])"),
                     [EnumerateLoop("Head.forward", "i", "Head", "convs")],
                     ["`self.convs[...]` is used other than called in Head.forward: iterate it with enumerate instead"],
                     id="module-list-helper-not-called"),
        pytest.param(HEAD + "\n    def _convs_at(self, index):\n        return index\n",
                     [EnumerateLoop("Head.forward", "i", "Head", "convs")],
                     ["Head already has a method '_convs_at' of its own"], id="module-list-helper-name-taken"),
        pytest.param("class Net:\n    def __init__(self):\n        self.blocks = make()\n",
                     [WrapValue("Net.__init__", "self.blocks", "nn.ModuleList")],
                     ["the first assignment to 'self.blocks' in Net.__init__ is not a list display or comprehension"],
                     id="not-a-list"),
        pytest.param(NAMEDTUPLE.replace('["logits", "count"])', '["logits", "count"], defaults=(0,))'), [OUTPUT],
                     ["namedtuple 'Output' takes more than a name and its fields (defaults, rename): left alone"],
                     id="namedtuple-with-defaults"),
        pytest.param(NAMEDTUPLE.replace('"count"]', '"total"]'), [OUTPUT],
                     ["the fields of namedtuple 'Output' differ"], id="namedtuple-other-fields"),
        pytest.param(NAMEDTUPLE.replace("Output = ", "def make():\n    Output = "), [OUTPUT],
                     ["no namedtuple 'Output'"], id="namedtuple-not-at-module-level"),
    ],
)
def test_refactor_noop(src: str, edits: list[Edit], reasons: list[str]) -> None:
    check_noop(src, edits, reasons)


# --------------------------------------------------------------------------- whole batches


def test_mixed_batch_applies_in_order_and_reports_skips() -> None:
    edits: list[Edit] = [
        AnnotateParam("Net.forward", "mask", ann("Optional[torch.Tensor]", OPTIONAL, TORCH)),
        AnnotateParam("Net.forward", "nope", ann("int")),
        AnnotateReturn("Net.forward", ann("torch.Tensor", TORCH)),
    ]
    result = apply_edits(NET, edits)
    assert result.applied == (edits[0], edits[2])
    assert result.skipped == ((edits[1], "no parameter 'nope' in Net.forward"),)
    assert "def forward(self, x, mask: Optional[torch.Tensor] = None) -> torch.Tensor:" in result.text


def test_imports_only_for_applied_edits() -> None:
    src = "def f(x: int):\n    pass\n"
    edits: list[Edit] = [
        AnnotateParam("f", "x", ann("int", OPTIONAL)),  # already: its import is not added
        AnnotateParam("g", "x", ann("Optional[int]", OPTIONAL)),  # missing
    ]
    assert apply_edits(src, edits).text == src


def test_star_import_covers_name() -> None:
    src = "from typing import *\n\ndef f(x=None):\n    pass\n"
    result = apply_edits(src, [AnnotateParam("f", "x", ann("Optional[int]", OPTIONAL))])
    assert result.text == "from typing import *\n\ndef f(x: Optional[int] = None):\n    pass\n"


def test_unparsable_source_raises() -> None:
    with pytest.raises(SourceSyntaxError):
        apply_edits("def f(:\n", [AnnotateReturn("f", ann("int"))])


# --------------------------------------------------------------------------- golden cases

CASES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "cases"
OPT_TENSOR = ann("Optional[torch.Tensor]", OPTIONAL, TORCH)

GOLDEN_EDITS: dict[str, list[Edit]] = {
    "crlf_newlines": [AnnotateParam("CalibratedClassifier.forward", "temperature", OPT_TENSOR)],
    "default_int": [AnnotateParam("Downsampler.pool", "kernel", ann("int"))],
    "dict_of_empty_lists": [
        AnnotateEmpty("NormRouter.forward", "routes", ann("List[int]", LIST), key='"small"'),
        AnnotateEmpty("NormRouter.forward", "routes", ann("List[int]", LIST), key='"large"'),
    ],
    "empty_dict_str_int": [AnnotateEmpty("SignCounter.forward", "counts", ann("Dict[str, int]", DICT))],
    "empty_list_attribute": [AnnotateAttribute("BranchRouter", "taken", ann("List[str]", LIST))],
    "empty_list_float": [AnnotateEmpty("ActivationMonitor.forward", "stds", ann("List[float]", LIST))],
    "empty_list_int": [AnnotateEmpty("Funnel.forward", "sizes", ann("List[int]", LIST))],
    "empty_list_tuple": [
        AnnotateEmpty("SpanTagger.forward", "spans", ann("List[Tuple[int, int]]", LIST, ImportName("typing", "Tuple")))
    ],
    "helper_float_params": [
        AnnotateParam("cosine_scale", "progress", ann("float")),
        AnnotateParam("cosine_scale", "floor", ann("float")),
    ],
    "inherited_method_param": [
        AnnotateParam("PoolBase.pool", "lengths", OPT_TENSOR),
        AnnotateParam("MeanPoolHead.forward", "mask", OPT_TENSOR),
        AnnotateParam("MeanPoolHead.forward", "scale", ann("int")),
    ],
    "none_passed_through_to_helper": [
        AnnotateParam("BiasedBlock._mix", "bias", OPT_TENSOR),
        AnnotateParam("BiasedBlock._mix", "padding", OPT_TENSOR),
        AnnotateParam("BiasedBlock.forward", "bias", OPT_TENSOR),
        AnnotateParam("BiasedBlock.forward", "padding", OPT_TENSOR),
    ],
    "tolist_ctc_greedy_decode": [
        AnnotateLocal("CTCGreedyDecoder.forward", "paths", ann("List[List[int]]", LIST)),
        AnnotateLocal("CTCGreedyDecoder.forward", "frames", ann("List[int]", LIST)),
        AnnotateEmpty("CTCGreedyDecoder.forward", "decoded", ann("List[List[int]]", LIST)),
        AnnotateEmpty("CTCGreedyDecoder.forward", "tokens", ann("List[int]", LIST)),
    ],
    "held_box_coder": [
        AnnotateParam("BoxCoder.__init__", "weights", ann("Tuple[float, float, float, float]", TUPLE)),
        AnnotateParam("BoxCoder.__init__", "bbox_xform_clip", ann("float")),
        AnnotateParam("BoxCoder.decode", "image_size", ann("Tuple[int, int]", TUPLE)),
        AnnotateParam("RegressionHead.forward", "image_size", ann("Tuple[int, int]", TUPLE)),
    ],
    "optional_arg_from_caller": [
        AnnotateParam("MaskedAttentionPool.merge_masks", "padding", OPT_TENSOR),
        AnnotateParam("MaskedAttentionPool.forward", "padding", OPT_TENSOR),
        AnnotateParam("MaskedAttentionPool.forward", "fused", ann("bool")),
    ],
    "optional_attribute_cache": [AnnotateAttribute("StreamingSmoother", "cache", OPT_TENSOR)],
    "optional_local_int": [AnnotateLocal("EosDetector.forward", "first", ann("Optional[int]", OPTIONAL))],
    "optional_local_tensor": [AnnotateLocal("GatedResidual.forward", "gate", OPT_TENSOR)],
    "optional_param_mask": [AnnotateParam("MaskedPooler.forward", "mask", OPT_TENSOR)],
    "param_int_range": [AnnotateParam("IterativeRefiner.forward", "steps", ann("int"))],
    "param_str_compare": [AnnotateParam("Readout.forward", "reduction", ann("str"))],
    "script_decorated_function": [AnnotateParam("relative_positions", "length", ann("int"))],
    "submodules_two_errors": [
        AnnotateLocal("Encoder.forward", "skip", OPT_TENSOR),
        AnnotateParam("TopKHead.forward", "k", ann("int")),
    ],
    "tab_indented": [AnnotateAttribute("RecurrentState", "state", OPT_TENSOR)],
    "tensor_imported_from_torch": [
        AnnotateAttribute("KeyValueMemory", "memory", ann("Optional[Tensor]", OPTIONAL)),
        AnnotateParam("KeyValueMemory.forward", "bias", ann("Optional[Tensor]", OPTIONAL)),
    ],
    "transformer_block": [
        AnnotateParam("attention_scale", "head_dim", ann("int")),
        AnnotateParam("attention_scale", "temperature", ann("float")),
        AnnotateAttribute("SelfAttention", "last_attn", OPT_TENSOR),
        AnnotateParam("SelfAttention.split_heads", "batch", ann("int")),
        AnnotateParam("SelfAttention.split_heads", "seq", ann("int")),
        AnnotateParam("SelfAttention.forward", "mask", OPT_TENSOR),
        AnnotateParam("EncoderBlock.forward", "mask", OPT_TENSOR),
    ],
    "typing_already_imported": [AnnotateParam("MultiScalePool.forward", "weights", OPT_TENSOR)],
    "bool_flag_param": [AnnotateParam("EmbeddingHead.forward", "normalize", ann("bool"))],
    "dict_of_lists_local": [AnnotateEmpty("GroupingClassifier.forward", "groups", ann(
        "Dict[str, List[int]]", DICT, LIST))],
    "float_param_scripts_but_differs": [AnnotateParam("SoftTargets.forward", "temperature", ann("float"))],
    "list_int_param": [AnnotateParam("ChannelsLastHead.forward", "dims", ann("List[int]", LIST))],
    "many_params_one_function": [
        AnnotateParam("smoothed_loss", "num_classes", ann("int")),
        AnnotateParam("smoothed_loss", "smoothing", ann("float")),
        AnnotateParam("smoothed_loss", "ignore_padding", ann("bool")),
        AnnotateParam("smoothed_loss", "reduction", ann("str")),
        AnnotateLocal("smoothed_loss", "weight", OPT_TENSOR),
    ],
    "none_then_list_attribute": [AnnotateAttribute("DriftMonitor", "history", ann(
        "Optional[List[float]]", OPTIONAL, LIST))],
    "optional_int_param": [AnnotateParam("PrefixEncoder.forward", "limit", ann("Optional[int]", OPTIONAL))],
    "tuple_return_mixed": [AnnotateParam("TopTokenPooler.select", "k", ann("int"))],
    "static_optional_local_list": [AnnotateLocal("ChangePoints.forward", "changes", ann(
        "Optional[List[int]]", LIST, OPTIONAL))],
    "static_dict_key_from_helper": [
        AnnotateParam("bucket_of", "length", ann("int")),
        AnnotateParam("bucket_of", "width", ann("int")),
        AnnotateEmpty("LengthHistogram.forward", "counts", ann("Dict[int, int]", DICT)),
    ],
    "static_list_checked_before_filled": [AnnotateEmpty("DistinctTokens.forward", "seen", ann("List[int]", LIST))],
    "static_training_only_branch": [AnnotateAttribute("ActivationStats", "history", ann("List[float]", LIST))],
    "final_flag_none_submodule": [AnnotateAttribute("ClassifierHead", "use_norm", ann("Final[bool]", FINAL))],
    "final_module_list_index": [AnnotateAttribute("MultiExit", "exit_at", ann("Final[int]", FINAL))],
    "final_dispatch_flag": [AnnotateAttribute("PoolStage", "return_indices", ann("Final[bool]", FINAL))],
    "optional_bool_flag_param": [
        AnnotateParam("detect_causal", "mask", OPT_TENSOR),
        AnnotateParam("detect_causal", "is_causal", ann("Optional[bool]", OPTIONAL)),
        AnnotateParam("detect_causal", "size", ann("Optional[int]", OPTIONAL)),
        AnnotateParam("Encoder.forward", "mask", OPT_TENSOR),
        AnnotateParam("Encoder.forward", "is_causal", ann("Optional[bool]", OPTIONAL)),
        AnnotateParam("Model.forward", "mask", OPT_TENSOR),
        AnnotateParam("Model.forward", "src_is_causal", ann("Optional[bool]", OPTIONAL)),
    ],
    "final_module_dict_key": [AnnotateAttribute("TaskModel", "task", ann("Final[str]", FINAL))],
    "final_class_constant": [AnnotateAttribute("PatchEmbed", "PATCH", ann("Final[int]", FINAL)),
                             AnnotateAttribute("PatchEmbed", "SCALE", ann("Final[float]", FINAL))],
    "ignore_random_helper": [Decorate("JitteredEncoder.noise_scale", "torch.jit.ignore", ann("float"))],
    "ignore_print_helper": [Decorate("LoggingRegressor.log_batch", "torch.jit.ignore", ann("None"))],
    "unused_training_only": [Decorate("AugmentedEncoder.augment", "torch.jit.unused")],
    "unused_exported_helper": [Decorate("Segmenter.palette", "torch.jit.unused")],
    "unused_property": [Decorate("GatedStack.gates", "torch.jit.unused")],
    "final_debug_flag_helper": [AnnotateAttribute("DebuggableEncoder", "debug", ann("Final[bool]", FINAL))],
    "refactor_module_list": [WrapValue("ResidualMLP.__init__", "self.blocks", "nn.ModuleList")],
    "refactor_range_loop_index": [EnumerateLoop("ScaledStack.forward", "i")],
    "none_submodule_guarded_by_input": [
        GuardBranch("TimestepEmbedding.forward", "condition is not None", "cond_proj"),
        AnnotateParam("TimestepEmbedding.forward", "condition", OPT_TENSOR)],
    "no_grad_decorated_forward": [NoGradBlock("Teacher.forward", "torch.no_grad()")],
    "dtype_bool_mask": [ConvertDtype("valid_positions", "bool"), ConvertDtype("MaskedPool.forward", "bool")],
    "int_literal_for_float": [FloatLiteral("Downsample2D.forward", "F.pad", "value", "0"),
                              FloatLiteral("Upsample2D.forward", "F.interpolate", "scale_factor", "2")],
    "activation_built_with_arguments": [FunctionalActivation("GraphAttention.forward"),
                                        FunctionalActivation("GraphAttention.scores")],
    "module_list_index_helper": [EnumerateLoop("PyramidHead.forward", "idx", "PyramidHead", "lateral"),
                                 EnumerateLoop("PyramidHead.forward", "i", "PyramidHead", "heads"),
                                 AnnotateParam("PyramidHead.forward", "feats", ann("List[torch.Tensor]", LIST, TORCH))],
    "final_flag_on_in_probe": [AnnotateAttribute("PooledHead", "use_proj", ann("Final[bool]", FINAL))],
    "final_flag_on_submodule_only_if_on": [AnnotateAttribute("GatedBlock", "use_gate", ann("Final[bool]", FINAL))],
    "final_flag_tuple_output": [AnnotateAttribute("SelfAttention", "output_attentions", ann("Final[bool]", FINAL)),
                                AnnotateParam("SelfAttention.forward", "attention_mask", OPT_TENSOR),
                                AnnotateParam("SelfAttention.forward", "head_mask", OPT_TENSOR),
                                AnnotateParam("EncoderLayer.forward", "attention_mask", OPT_TENSOR)],
    "attribute_none_then_filled_in_init": [AnnotateParam("RotaryEmbedding._set_cache", "seq_len", ann("int")),
                                           AnnotateParam("RotaryEmbedding.forward", "seq_len", ann("int"))],
    "float_stride_from_power": [AnnotateParam("cell_centers", "size", ann("int")),
                                AnnotateParam("cell_centers", "stride", ann("float")),
                                AnnotateParam("BoxHead.decode", "stride", ann("float"))],
    "final_flag_helper_on_in_probe": [AnnotateAttribute("TracingEncoder", "verbose", ann("Final[bool]", FINAL)),
                                      Decorate("TracingEncoder.report", "torch.jit.ignore", ann("None"))],
    "refactor_namedtuple": [NamedTupleClass("HeadOutput", (("scores", "torch.Tensor"), ("num_boxes", "int"),
                                                           ("threshold", "float")), "NamedTuple",
                                            (ImportName("typing", "NamedTuple"),))],
    "final_class_constants_one_pass": [AnnotateAttribute("LogMelNorm", name, ann(f"Final[{t}]", FINAL))
                                       for name, t in (("EPS", "float"), ("CLIP", "float"), ("PAD", "int"))],
}


def _read(path: Path) -> str:
    with path.open(newline="") as handle:  # keep CRLF as CRLF
        return handle.read()


@pytest.mark.parametrize("case", sorted(GOLDEN_EDITS))
def test_golden_case(case: str) -> None:
    """The edits the rules should emit turn input.py into expected.py, byte for byte."""
    src, expected = _read(CASES_DIR / case / "input.py"), _read(CASES_DIR / case / "expected.py")
    check(src, GOLDEN_EDITS[case], expected)
    check_twice(src, GOLDEN_EDITS[case])


@pytest.mark.parametrize("case", sorted(GOLDEN_EDITS))
def test_golden_case_in_two_calls_from_the_cached_tree(case: str) -> None:
    """The second call edits the tree the first wrote (rewrite_text's cache): what a fresh parse of
    the first's text gives, and the one-call output when the edits are independent."""
    src = _read(CASES_DIR / case / "input.py")
    edits = GOLDEN_EDITS[case]
    split = max(1, len(edits) // 2)
    rewrite_text.forget()
    first = apply_edits(src, edits[:split])
    cached = apply_edits(first.text, edits[split:] or edits)
    rewrite_text.forget()
    assert cached == apply_edits(first.text, edits[split:] or edits)


def test_golden_cases_all_covered() -> None:
    changed = {p.parent.name for p in CASES_DIR.glob("*/input.py") if _read(p) != _read(p.parent / "expected.py")}
    assert changed <= set(GOLDEN_EDITS)


@pytest.mark.parametrize(
    ("existing", "added", "merged"),
    [
        pytest.param("from typing import List", ["Optional"], "from typing import List, Optional", id="append"),
        pytest.param("from typing import Tuple", ["Optional"], "from typing import Optional, Tuple", id="prepend"),
        pytest.param(
            "from typing import List, Tuple", ["Optional", "Dict", "Union"],
            "from typing import Dict, List, Optional, Tuple, Union", id="interleave",
        ),
        pytest.param(
            "from typing import (\n    List,  # c\n    Tuple,\n)", ["Any", "Optional", "Union"],
            "from typing import (\n    Any,\n    List,  # c\n    Optional,\n    Tuple,\n    Union,\n)",
            id="parenthesized-one-per-line",
        ),
        pytest.param(
            "from typing import (List,\n                    Tuple)", ["Optional"],
            "from typing import (List,\n                    Optional,\n                    Tuple)",
            id="hanging-indent",
        ),
    ],
)
def test_typing_import_merge_keeps_names_sorted(existing: str, added: list[str], merged: str) -> None:
    text = f"Tuple[{', '.join(added)}]"
    edit = AnnotateReturn("f", ann(text, *(ImportName("typing", name) for name in added)))
    result = apply_edits(f"{existing}\n\ndef f():\n    pass\n", [edit])
    assert result.text == f"{merged}\n\ndef f() -> {text}:\n    pass\n"


# --------------------------------------------------------------------------- imports below the code

LATE_IMPORT = dedent('''\
    import torch


    def f(x, n=None):
        return x


    import typing
    from typing import Optional
''')


@pytest.mark.parametrize("edit", [
    AnnotateParam("f", "n", ann("Optional[int]", OPTIONAL)),
    AnnotateParam("f", "n", ann("typing.Optional[int]", ImportName("typing"))),
], ids=["from-import", "module-import"])
def test_import_below_the_code_is_not_in_effect_there(edit: AnnotateParam) -> None:
    # `import typing` / `from typing import Optional` run after `def f`: its annotation needs its own import above it
    module = "from typing import Optional" if edit.annotation.text.startswith("Optional") else "import typing"
    expected = LATE_IMPORT.replace("import torch\n", f"import torch\n{module}\n", 1).replace(
        "def f(x, n=None):", f"def f(x, n: {edit.annotation.text} = None):")
    check(LATE_IMPORT, [edit], expected)
    exec(compile(expected, "late.py", "exec"), {})  # no NameError at import
    check_twice(LATE_IMPORT, [edit])
    check_noop(expected, [edit], ["already annotated"])
