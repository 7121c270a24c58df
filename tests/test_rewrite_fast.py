"""The shortcuts behind a fast `apply_edits` give what the whole-module LibCST passes give:
imports added and dropped over a few statements, the code rebuilt per statement, a cached parse."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import libcst as cst
import pytest
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from tsannotate import rewrite_imports, rewrite_text
from tsannotate.records import AnnotateParam, Annotation, ImportName, NamedTupleClass
from tsannotate.rewrite import apply_edits
from tsannotate.rewrite_imports import AddImportsTransformer, add_imports, drop_unused_namedtuple
from tsannotate.rewrite_text import Source

CASES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "cases"


def _read(path: Path) -> str:
    with path.open(newline="") as handle:
        return handle.read()


def _source(text: str) -> Source:
    return Source(text, cst.parse_module(text))


LAYOUTS = [
    "",
    "\n",
    "# only a comment\n",
    "x = 1",  # no trailing newline
    "x = 1\r\ny = 2\r\n",
    "class A:\n\tdef f(self):\n\t\treturn 1\n",
    '"""Doc."""\n',
    '"""Doc."""\nimport torch\n',
    '"""Doc."""\n\nfrom __future__ import annotations\n\nimport torch\n\n\nclass A:\n    pass\n',
    "#!/usr/bin/env python\n# header comment\n\nimport os\nimport torch\nfrom typing import List\n# a comment\nclass A:\n    pass\n",
    "import torch\nfrom typing import (\n    List,  # c\n    Tuple,\n)\n\n\ndef f():\n    pass\n",
    "class A:\n    pass\n\n\nimport torch\n",
    "def f():\n    import typing\n    return 1\n",
    "__strict__ = True\nimport torch\nx = 1\n",
    "import torch; import os\nx = 1\n",
    "from typing import *\n\n\ndef f(): pass\n",
    "if True:\n    import torch\n\n\ndef f():\n    pass\n",
]


@pytest.mark.parametrize("text", LAYOUTS + [_read(p) for p in sorted(CASES_DIR.glob("*/input.py"))[:20]])
def test_render_is_module_code(text: str) -> None:
    parsed = _source(text)
    assert parsed.render(parsed.module) == text
    body = list(parsed.module.body)
    if body:
        body[-1] = body[-1].with_changes(leading_lines=[cst.EmptyLine(comment=cst.Comment("# new"))])
        edited = parsed.module.with_changes(body=body)
        assert parsed.render(edited) == edited.code
        assert [parsed.code(s) for s in parsed.unchecked(edited)] == [edited.code_for_node(body[-1])]


NEEDED = [
    [ImportName("typing", "Optional")],
    [ImportName("torch")],
    [ImportName("typing", "Optional"), ImportName("typing", "Dict"), ImportName("torch"),
     ImportName("torch", "Tensor")],
    [ImportName("__future__", "annotations"), ImportName("typing", "List")],
]


@pytest.mark.parametrize("needed", NEEDED, ids=["optional", "torch", "several", "future"])
@pytest.mark.parametrize("text", LAYOUTS)
def test_add_imports_is_the_whole_module_pass(text: str, needed: list[ImportName]) -> None:
    parsed = _source(text)
    context = CodemodContext()
    for name in needed:
        AddImportsVisitor.add_needed_import(context, name.module, name.name or None)
    whole = AddImportsTransformer(context).transform_module(parsed.module)
    assert add_imports(parsed.module, needed, parsed).code == whole.code


UNUSED = [("collections", "namedtuple", None), ("collections", None, None)]

DROPS = [
    # (text, whether the code alone tells)
    ("import collections\nfrom collections import namedtuple\n\nP = collections.namedtuple('P', 'a')\n", True),
    ("from collections import namedtuple\n\n\nclass P:\n    pass\n", True),
    ("from collections import OrderedDict, namedtuple\n\nd = OrderedDict()\n", True),
    ("from collections import (\n    namedtuple,  # gone\n    OrderedDict,\n)\nd = OrderedDict()\n", True),
    ("import collections\n\n\ndef f():\n    return collections.OrderedDict()\n", False),
    ("import collections\n\n\ndef f():\n    return 1\n", True),
    ("import collections, os\n\nx = os.sep\n", True),
    (("# namedtuple and collections, only in comments\nimport collections\nfrom collections import namedtuple\n"
      "x = 1  # collections\n"), False),
    ("from collections import namedtuple\n__all__ = ['namedtuple']\n", False),
    ("from collections import namedtuple\nx: 'namedtuple' = 1\n", False),
    ("import collections\nx: 'collections.OrderedDict' = 1\n", False),
    ("from collections import namedtuple\n\n\ndef f(namedtuple):\n    return namedtuple\n", False),
    ("from collections import namedtuple\n\n\ndef f():\n    global namedtuple\n    namedtuple = 1\n", False),
    ("from collections import namedtuple as nt\nimport collections as c\n", True),
    ("x = collections.OrderedDict\nimport collections\n", False),
    ("import collections\nx = [collections.abc for _ in range(2)]\n", False),
    ("import collections\nx = lambda: collections.abc\n", False),
    ("import collections\nimport collections\nx = collections.abc\n", True),
    ("if True:\n    from collections import namedtuple\n", False),
    ("def f():\n    from collections import namedtuple\n    return 1\n", False),
    ("import collections; x = 1\n", False),
    ("from .collections import namedtuple\nimport collections.abc\n", True),
    ("from collections import *\n", True),
    ("import os\n\n\ndef f():\n    return 1\n", True),
]


@pytest.mark.parametrize(("text", "at_sight"), DROPS)
def test_drop_unused_namedtuple_is_the_whole_module_pass(text: str, at_sight: bool, monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    parsed = _source(text)
    whole = RemoveImportsVisitor(CodemodContext(), UNUSED).transform_module(parsed.module)
    assert drop_unused_namedtuple(parsed.module, parsed).code == whole.code
    body = list(parsed.module.body)
    read = [s for s in body if not isinstance(s, (cst.FunctionDef, cst.ClassDef))
            or parsed.may_match(s, rewrite_imports._COLLECTIONS)]
    assert (rewrite_imports._unused_at_sight(read, parsed) is not None) == at_sight
    monkeypatch.setattr(rewrite_imports, "_unused_at_sight", lambda read, source: None)  # the scope analysis
    assert drop_unused_namedtuple(parsed.module, _source(text)).code == whole.code


def test_may_match_skips_only_defs_without_the_name() -> None:
    text = "import os\n\n\ndef f():\n    return 1\n\n\nclass A:\n    x = collections\n"
    parsed = _source(text)
    f, a = parsed.module.body[1], parsed.module.body[2]
    assert not parsed.may_match(f, rewrite_imports._COLLECTIONS)
    assert parsed.may_match(a, rewrite_imports._COLLECTIONS)
    none = _source("import os\n\n\ndef f():\n    return 1\n")
    assert not none.may_match(none.module.body[1], rewrite_imports._COLLECTIONS)


NAMEDTUPLE = dedent('''\
    import collections
    from collections import namedtuple

    import torch

    Pair = collections.namedtuple("Pair", "a b")
    Output = namedtuple("Output", ["logits", "count"])


    def f(x, n):
        return Output(x, n)
''')


def test_namedtuple_drops_its_import_but_keeps_collections() -> None:
    edit = NamedTupleClass("Output", (("logits", "torch.Tensor"), ("count", "int")), "NamedTuple",
                           (ImportName("typing", "NamedTuple"),))
    result = apply_edits(NAMEDTUPLE, [edit])
    assert "from collections import namedtuple" not in result.text
    assert "import collections\n" in result.text
    assert "class Output(NamedTuple):\n    logits: torch.Tensor\n    count: int\n" in result.text


@pytest.mark.parametrize("case", sorted(p.parent.name for p in CASES_DIR.glob("*/input.py")))
def test_cached_parse_gives_a_fresh_parse_output(case: str) -> None:
    """The loop's next call edits the text this one wrote, from the tree it wrote: the same output
    as a parse of that text. Two calls per case: a return annotation on every def, then a param."""
    text = _read(CASES_DIR / case / "input.py")
    defs = [s for s in cst.parse_module(text).body if isinstance(s, (cst.FunctionDef, cst.ClassDef))]
    names = [d.name.value if isinstance(d, cst.FunctionDef) else f"{d.name.value}.forward" for d in defs]
    first = [AnnotateParam(n, "x", Annotation("Optional[int]", (ImportName("typing", "Optional"),))) for n in names]
    second = [AnnotateParam(n, "self", Annotation("Dict[str, int]", (ImportName("typing", "Dict"),))) for n in names]
    rewrite_text.forget()
    once = apply_edits(text, first).text
    cached = apply_edits(once, second)
    rewrite_text.forget()
    fresh = apply_edits(once, second)
    assert cached == fresh
