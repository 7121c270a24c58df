"""index_source's two readers agree: the stdlib-`ast` fast path (`source_ast.gather`) gives the
libcst reader's SourceIndex field for field (texts as libcst prints them, lines, list order), on
every golden case and on snippets chosen for where the two parsers differ."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from textwrap import dedent

import pytest

from tsannotate.records import SourceIndex
from tsannotate.source import SourceSyntaxError, index_source, index_with_libcst
from tsannotate.source_ast import gather

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"
FILES = sorted([*CASES.glob("*/input.py"), *CASES.glob("*/expected.py")])


def _differences(want: SourceIndex, got: SourceIndex) -> list[str]:
    out: list[str] = []
    for f in dataclasses.fields(want):
        a, b = getattr(want, f.name), getattr(got, f.name)
        if a != b:
            out.append(f"{f.name}:\n  libcst {a}\n  ast    {b}")
    return out


def _same(text: str) -> SourceIndex:
    got = gather("m.py", text)
    assert got is not None, "the fast path fell back to libcst"
    want = index_with_libcst("m.py", text)
    assert not _differences(want, got), "\n".join(_differences(want, got))
    return got


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden_cases_index_the_same(path: Path) -> None:
    _same(path.read_text())


SNIPPETS = {
    "parentheses owned by the node": '''\
        import torch
        from typing import Optional as Opt, List


        class Net(torch.nn.Module, metaclass=Meta):
            __constants__ = ["a", "b" "c", f"d", b"e", *"g"]
            n: (int) = 3
            scale = (2.0)
            names = ("x",  # comment
                     "y")

            def __init__(self, a: (int) = (1), *args: int, b: Opt[int] = -1, **kw: (float)) -> (None):
                super().__init__()
                self.a = (a)
                self.b, (self.c), *self.d = b, 2, 3
                self.e: ((List[int])) = []
                self.steps += 1
                self.table = {"k": [], ("j"): list()}
                x = {"k": [], **self.table}
                (y) = None
                z = -True
                w = -"s"

            @(torch.jit.export)
            def f(self, x):
                return g((x)) + h((x), (y)) + k(((x))) + self.m(*x, (y), z=(1), **x)
        ''',
    "multi-line texts lose the block's indentation": '''\
        import torch


        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = torch.nn.Sequential(
                    torch.nn.Linear(2, 2),  # first
                    # between
                  torch.nn.ReLU(),

                )
                self.doc = """a
            b""" + (
                    "c")
                self.cont = 1 + \\
                    2
                table = {
                    "a": [],
                    "b": [],
                }

            def forward(self, x: Tuple[
                    int, int] = (1,
                                 2)) -> Tuple[int,
                                              int]:
                if (x is not None  # why
                        and self.flag):
                    return x
                return x
        ''',
    "calls, generators and keywords in source order": '''\
        def f(xs, *rest, **kw):
            a = g(x for x in xs)
            b = g(  x for x in xs  )
            c = g(  # leading
                x for x in xs)
            d = g((x for x in xs))
            e = g(1, (x for x in xs), key=lambda v: h(v))
            k(*rest, 1, 2, a=3, *kw, b=4, **kw)
            (lambda q=m(): q)()
            return [n(i) for i in xs if p(i)], {q(k): r(v) for k, v in kw.items()}
        ''',
    "truth uses, comparisons and branches": '''\
        class A:
            def f(self, x, y, flag=False):
                if x:
                    pass
                elif not y and (flag or self.z):
                    pass
                else:
                    if flag is True: return 1
                while x == False or y:
                    assert flag, "msg"
                v = x if not flag else y
                if True is flag:
                    return 2
                return x is not None

            @staticmethod
            def s(x):
                return x.y + self.z

            @classmethod
            def c(cls, x):
                cls.a = 1
                return cls.b
        ''',
    "nested functions and classes are skipped": '''\
        class A:
            class B:
                def g(self):
                    self.v = 1

            def f(self):
                def inner(a=self.q()):
                    self.w = 2
                class Local:
                    def m(self):
                        return self.r
                self.x = 3
                def f():
                    pass
                self.after = call()
                def later():
                    return self.s

            def h(self):
                return self.t


        def top():
            class Local:
                pass
            return g(1)
        ''',
    "f-strings, unicode and match": '''\
        class A:
            def f(self, x):
                s = "é" + f"{self.a(x)} and {self.b!r:>{width(2)}}"
                t = f"""é
          {self.c(1)} {h(2)}"""
                match x:
                    case {"k": self.d}:
                        pass
                    case A(y=1) if self.e:
                        pass
                return "ü", self.g(x, "ß")
        ''',
    "imports below the code and in blocks": '''\
        try:
            import torch as T
        except ImportError:
            from typing import *
        if T:
            from torch import Tensor as Tn, nn
            import typing as t, os.path


        def f(x):
            import numpy
            return x


        from typing import List
        import typing
        ''',
    "tabs, semicolons and suites": (
        "class A:\n\tdef f(self, x): self.a = (\n\t\t1); y = {\n\t\t'k': []}\n"
        "\tdef g(self): return h(x,\n\t\t\ty)\n"
    ),
}


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippets_index_the_same(name: str) -> None:
    _same(dedent(SNIPPETS[name]))


def test_a_class_inside_a_function_no_longer_breaks_the_index() -> None:
    """The flow visitor popped the class path when it left a class it had skipped (IndexError)."""
    text = "class A:\n    def f(self):\n        class B:\n            pass\n        return self.y\n\n    def g(self):\n        return self.z(1)\n"
    index = _same(text)
    assert [r.attr for r in index.reads] == ["y", "z"]
    assert [c.function for c in index.calls] == ["A.g"]


def test_what_the_fast_path_leaves_to_libcst() -> None:
    crlf = "def f(x):\r\n    return g(x)\r\n"
    assert gather("m.py", crlf) is None
    assert index_source("m.py", crlf) == index_with_libcst("m.py", crlf)
    assert [c.callee for c in index_source("m.py", crlf).calls] == ["g"]
    with pytest.raises(SourceSyntaxError) as err:
        index_source("m.py", "def f(:\n    pass\n")
    assert "expected one of" in err.value.message  # libcst's own message, as before


def test_the_users_invalid_escapes_are_not_reported() -> None:
    """`ast.parse` warns about `"\\d"` (libcst does not): the index stays quiet."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        index = _same('import re\n\n\ndef f(x):\n    return re.match("\\d+", x)\n')
    assert index.calls[0].args == ('"\\d+"', "x")
