"""Static evidence: mypy's types → TorchScript types, the private copy, and what mypy infers
about small models, read into Observations the rules use where no runtime value was seen.

Real mypy (its cache under the user cache directory: the first run on a machine reads torch's
types, about 2-5 s; after that each build of a small file takes ~0.1 s). No torch is imported.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from textwrap import dedent

import pytest

from tsannotate import rules, static
from tsannotate.records import AnnotateLocal, AnnotateParam, Evidence, Observation, Role, Source
from tsannotate.source import index_source


def inferred(text: str, tmp_path: object) -> dict[tuple[str, str, str], str]:
    result = static.infer(f"{tmp_path}/model.py", dedent(text))
    assert result.note == ""
    return {(o.qualname, o.name, o.role.value): o.type for o in result.observations}


def test_private_copy_types_literal_defaults_and_keeps_lines() -> None:
    source = 'def f(x, n=2, scale=-0.5, names=("a", "b"), flag=True, mask=None):\n    return x\n'
    copy = static.private_copy(source)
    first = copy.splitlines()[0]
    assert first == ('def f(x, n: int=2, scale: float=-0.5, names: tuple[str, ...]=("a", "b"), '
                     'flag: bool=True, mask=None):')
    assert copy.splitlines()[1] == "    return x"
    assert static.private_copy(source) != copy  # a fresh trailing comment: never a cache hit


def test_private_copy_carries_learned_parameters_and_returns() -> None:
    source = "def bucket(length, width):\n    return min(length // width, 7)\n"
    copy = static.private_copy(source, {("bucket", "length"): "int", ("bucket", "width"): "int",
                                        ("bucket", ""): "int"})
    assert copy.splitlines()[0] == "def bucket(length: int, width: int) -> int:"
    ast.parse(copy)


@pytest.mark.parametrize(("source", "expected"), [
    pytest.param("def f(x, steps):\n    for _ in range(steps):\n        x = x + 1\n    return x\n",
                 "def f(x, steps) -> int:\n    for _ in range(steps):\n        x = x + 1\n    return x\n",
                 id="for-body"),
    pytest.param("def f(\n    x,\n):\n    if x:\n        return x\n    return x\n",
                 "def f(\n    x,\n) -> int:\n    if x:\n        return x\n    return x\n", id="multi-line-header"),
    pytest.param("def f(x): return x\n", "def f(x): return x\n", id="one-line-left-alone"),
])
def test_learned_return_goes_on_the_def_never_on_the_body(source: str, expected: str) -> None:
    """The body's first statement ending in `:` (a for/if/with) is not the def's colon:
    `for _ in range(steps) -> int:` made mypy reject the whole file."""
    copy = static.private_copy(source, {("f", ""): "int"})
    assert copy.rsplit("# ", 1)[0] == expected
    ast.parse(copy)


def test_optional_local_and_filled_containers(tmp_path: object) -> None:
    seen = inferred('''
        def scan(n: int):
            first = None
            for i in range(n):
                first = i
            d = {}
            d["k"] = 1.0
            out = []
            for i in range(n):
                if i not in out:
                    out.append(i)
            return first, d, out
        ''', tmp_path)
    assert seen[("scan", "first", "local")] == "Optional[int]"
    assert seen[("scan", "d", "local")] == "Dict[str, float]"
    assert seen[("scan", "out", "local")] == "List[int]"  # used before filled: from what is stored
    assert seen[("scan", "", "return")] == "Tuple[Optional[int], Dict[str, float], List[int]]"


def test_helper_returning_int_types_its_callers_locals(tmp_path: object) -> None:
    seen = inferred('''
        def bucket_of(length, width):
            return min(length // width, 7)

        def histogram(values, width=4):
            counts = {}
            for v in values:
                b = bucket_of(int(v), width)
                counts[b] = 1
            return counts
        ''', tmp_path)
    assert seen[("bucket_of", "length", "arg")] == "int"
    assert seen[("bucket_of", "", "return")] == "int"  # learned by a second build
    assert seen[("histogram", "counts", "local")] == "Dict[int, int]"


def test_attributes_join_every_assignment_and_append(tmp_path: object) -> None:
    seen = inferred('''
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self, dim=4):
                super().__init__()
                self.history = []
                self.last = None
                self.dim = dim

            def forward(self, x):
                if self.training:
                    self.history.append(float(x.mean()))
                self.last = torch.zeros(self.dim)
                return x
        ''', tmp_path)
    assert seen[("Net", "history", "attr")] == "List[float]"
    assert seen[("Net", "last", "attr")] == "Optional[Tensor]"  # torch's own types, read by mypy
    assert seen[("Net", "dim", "attr")] == "int"


def test_call_sites_type_arguments_and_any_says_nothing(tmp_path: object) -> None:
    seen = inferred('''
        from torch import nn

        def scale(x, factor, unknown):
            return x

        class Block(nn.Module):
            def forward(self, x, k):
                return x

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.block = Block()

            def forward(self, x, arg):
                y = scale(x, 0.5, arg)
                return self.block(y, 3)
        ''', tmp_path)
    assert seen[("scale", "factor", "arg")] == "float"
    assert ("scale", "unknown", "arg") not in seen  # an unannotated parameter is Any: nothing
    assert seen[("Block.forward", "k", "arg")] == "int"  # calling a submodule reaches forward


def test_unobserved_keeps_runtime_evidence_first() -> None:
    runtime = (Observation("f", "x", Role.LOCAL, "Optional[Tensor]"),)
    inferred_ = (Observation("f", "x", Role.LOCAL, "Optional[int]", static=True),
                 Observation("f", "y", Role.LOCAL, "Optional[int]", static=True))
    assert static.unobserved(inferred_, runtime) == inferred_[1:]


def test_static_fix_says_mypy_and_is_tagged_static() -> None:
    text = ("import torch\n@torch.jit.script\ndef f(n: int):\n    first = None\n    for i in range(n):\n"
            "        first = i\n    return first\n")  # compiled: mypy's inferences count only there
    evidence = Evidence(index_source("/p/m.py", text), observations=(
        Observation("f", "first", Role.LOCAL, "Optional[int]", static=True),))
    (fix,) = rules.plan(evidence)
    assert isinstance(fix.edit, AnnotateLocal) and fix.edit.annotation.text == "Optional[int]"
    assert fix.evidence is Source.STATIC
    assert fix.reason.startswith("mypy infers local `first` as Optional[int] in f")


def test_static_argument_fix() -> None:
    text = ("import torch\ndef helper(a, b):\n    return a * b\n\n"
            "class Net(torch.nn.Module):\n    def forward(self, x):\n        return helper(x, 0.5)\n")
    evidence = Evidence(index_source("/p/m.py", text), observations=(
        Observation("helper", "b", Role.ARG, "float", count=2, static=True),))
    (fix,) = rules.plan(evidence)
    assert isinstance(fix.edit, AnnotateParam) and fix.edit.annotation.text == "float"
    assert "mypy infers `b` is passed float at the 2 call sites of helper in this file" in fix.reason


def test_mypy_trouble_is_a_note_not_a_crash(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object) -> tuple[Observation, ...]:
        raise RuntimeError("mypy exploded")

    monkeypatch.setattr(static, "_infer", boom)
    result = static.infer(f"{tmp_path}/model.py", "x = 1\n")
    assert result.observations == ()
    assert "mypy could not analyse the file (RuntimeError: mypy exploded)" in result.note


def test_static_does_not_import_torch(tmp_path: object) -> None:
    code = ("import sys; from tsannotate import static; "
            f"r = static.infer('{tmp_path}/model.py', 'import torch\\nx = torch.zeros(2)\\n'); "
            "assert r.note == '', r.note; assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_probe_inputs_are_read_not_run(tmp_path: object) -> None:
    """`--no-probe` does not run `probe()`, but its `return model, [(x, 3), (x, None)]` is
    code mypy can read: each input tuple is a call of the model's forward."""
    seen = inferred('''
        import torch
        from torch import nn

        class Net(nn.Module):
            def forward(self, x, limit=None, dims=None):
                return x

        def probe():
            x = torch.randn(2, 3)
            return Net(), [(x, 3, [0, 1]), (x, None, [1, 0]), (x,)]
        ''', tmp_path)
    assert seen[("Net.forward", "limit", "arg")] == "Optional[int]"
    assert seen[("Net.forward", "dims", "arg")] == "List[int]"
    assert seen[("Net.forward", "x", "arg")] == "Tensor"


def test_static_completes_what_the_probe_saw_only_empty() -> None:
    """A training-only branch fills `self.history`; the probe (in eval) saw it empty."""
    runtime = (Observation("Net", "history", Role.ATTR, "List[Unknown]"),
               Observation("Net", "names", Role.ATTR, "List[Unknown]"))
    inferred_ = (Observation("Net", "history", Role.ATTR, "List[float]", static=True),
                 Observation("Net", "names", Role.ATTR, "Dict[str, int]", static=True))
    (done,) = static.unobserved(inferred_, runtime)
    assert (done.name, done.type, done.static) == ("history", "List[float]", True)
    assert done.note == "the probe saw it only as List[Unknown]"


def test_mypy_build_graphs_are_freed_every_few_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A build's graph sits in reference cycles until a full collection: `fix DIR` on 73 models
    grew to 6.6 GB. The loop frees them (on its _Ahead thread) once a few builds are waiting."""
    from tsannotate import static

    collected: list[int] = []
    monkeypatch.setattr(static.gc, "collect", lambda *a: collected.append(1) or 0)
    monkeypatch.setattr(static, "_garbage", 0)
    monkeypatch.setattr(static, "_COLLECT_AT", 4)  # 12 in use: fewer builds keep the test quick
    text = "def f(x):\n    return x + 1\n"
    static.infer("/tmp/tsannotate_gc_probe.py", text)
    static.collect_garbage()
    assert collected == []  # one build waiting: not yet worth a full collection
    for _ in range(4):
        static.infer("/tmp/tsannotate_gc_probe.py", text.replace("1", str(_ + 2)))
    static.collect_garbage()
    assert collected == [1] and static._garbage == 0
    static.collect_garbage()
    assert collected == [1]  # nothing waits any more
