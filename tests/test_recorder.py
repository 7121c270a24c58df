"""The eager-run type recorder: real torch, small models written to tmp_path.

Most tests import the model file directly (its path is what the recorder matches on)
and call it under `recording`; the last ones go through the worker's request handler
in this process, so they can see the profile function it leaves behind.
"""

from __future__ import annotations

import collections
import importlib.util
import sys
import textwrap
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from tsannotate.records import Observation, Role, ScriptRequest
from tsannotate.worker import recorder as recorder_module
from tsannotate.worker.main import handle
from tsannotate.worker.recorder import MAX_CALLS, Recorder, recording
from tsannotate.worker.runtime_types import Opaque, type_of

_count = 0


def load(tmp_path: Path, source: str) -> tuple[types.ModuleType, str]:
    global _count
    _count += 1
    path = tmp_path / f"recorded_model_{_count}.py"
    path.write_text(textwrap.dedent(source).lstrip("\n"))
    spec = importlib.util.spec_from_file_location(f"recorded_model_{_count}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, str(path)


def observe(path: str, run: Callable[[], Any]) -> dict[tuple[str, str, Role], Observation]:
    with recording({path}) as rec:
        run()
    assert rec.notes() == ()
    return {(o.qualname, o.name, o.role): o for o in rec.observations()}


@pytest.fixture(autouse=True)
def no_profile_left_behind() -> Iterator[None]:
    before = sys.getprofile()
    yield
    assert sys.getprofile() is before


# --------------------------------------------------------------------------- runtime types


class Config:
    pass


Point = collections.namedtuple("Point", "x y")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(torch.zeros(2), "Tensor", id="tensor"),
        pytest.param(nn.Parameter(torch.zeros(2)), "Tensor", id="parameter"),
        pytest.param(True, "bool", id="bool-before-int"),
        pytest.param(3, "int", id="int"),
        pytest.param(0.5, "float", id="float"),
        pytest.param("a", "str", id="str"),
        pytest.param(None, "NoneType", id="none"),
        pytest.param(torch.device("cpu"), "Device", id="device"),
        pytest.param(torch.float16, "dtype", id="dtype"),
        pytest.param([1, 2], "List[int]", id="list"),
        pytest.param([1, 2.5], "List[float]", id="list-int-float"),
        pytest.param([1, "a"], "List[Union[int, str]]", id="list-union-kept"),
        pytest.param([None, torch.zeros(1)], "List[Optional[Tensor]]", id="list-optional"),
        pytest.param([], "List[Unknown]", id="empty-list"),
        pytest.param((torch.zeros(1), 3), "Tuple[Tensor, int]", id="tuple"),
        pytest.param({"a": [1.0], "b": []}, "Dict[str, List[float]]", id="dict-of-lists"),
        pytest.param({}, "Dict[Unknown, Unknown]", id="empty-dict"),
        pytest.param(torch.zeros(2, 3).shape, "List[int]", id="size"),
        pytest.param([[[[[[1]]]]]], "List[List[List[List[List[Unknown]]]]]", id="depth-bound"),
    ],
)
def test_type_of(value: object, expected: str) -> None:
    assert str(type_of(value)) == expected


@pytest.mark.parametrize(
    ("value", "note"),
    [
        pytest.param(Config(), "a Python object of type Config", id="object"),
        pytest.param(Point(1, 2), "a namedtuple Point(x: int, y: int) (use typing.NamedTuple)", id="namedtuple"),
        pytest.param(Point(1, Config()), "a namedtuple Point(x: int, y: ?) (use typing.NamedTuple)",
                     id="namedtuple-opaque-field"),
        pytest.param([1, Config()], "a list holding a Python object of type Config", id="in-list"),
        pytest.param({"k": Point(1, 2)}, "a dict holding a namedtuple Point(x: int, y: int) (use typing.NamedTuple)",
                     id="in-dict"),
    ],
)
def test_type_of_inexpressible(value: object, note: str) -> None:
    assert type_of(value) == Opaque(note)


def test_modules_are_not_typed() -> None:
    assert type_of(nn.Linear(2, 2)) is None
    assert type_of([nn.Linear(2, 2)]) is None


def test_type_of_looks_at_64_elements_and_never_iterates_a_tensor(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.Tensor, "__iter__", _refuse)
    monkeypatch.setattr(torch.Tensor, "__len__", _refuse)
    assert str(type_of(torch.zeros(10**6))) == "Tensor"
    assert str(type_of([1] * 64 + ["a"])) == "List[int]"  # the 65th is never looked at
    many = list(range(10**6))
    started = time.perf_counter()
    assert str(type_of(many)) == "List[int]"
    assert time.perf_counter() - started < 0.05  # looking at all of them takes ~0.5 s


def _refuse(self: object) -> Any:
    raise AssertionError("a tensor was iterated")


# --------------------------------------------------------------------------- recording

MODEL = """
import torch
from torch import nn


def helper(x, lo, hi):
    return x.clamp(lo, hi)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.cache = None
        self.names = []

    def forward(self, x, n, scale, dims, mask=None, mode="sum", groups=None):
        y = None
        if mask is not None:
            y = x * mask
        out = []
        for i in range(n):
            out.append(i)
        never = []
        h = helper(self.lin(x), -scale, scale)
        self.cache = h
        self.names.append(mode)
        return h, len(out)
"""


@pytest.fixture
def net_observed(tmp_path: Path) -> dict[tuple[str, str, Role], Observation]:
    module, path = load(tmp_path, MODEL)
    net = module.Net()
    x = torch.randn(2, 4)

    def run() -> None:
        net(x, 3, 1.0, [0, 1], None, "sum", {"a": [1, 2]})
        net(x, 2, 0.5, [1, 0], torch.ones(4), "max", {"b": []})

    return observe(path, run)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("x", "Tensor"),
        ("n", "int"),
        ("scale", "float"),
        ("dims", "List[int]"),
        ("mask", "Optional[Tensor]"),
        ("mode", "str"),
        ("groups", "Dict[str, List[int]]"),
    ],
)
def test_argument_types(net_observed: dict[tuple[str, str, Role], Observation], name: str,
                        expected: str) -> None:
    obs = net_observed["Net.forward", name, Role.ARG]
    assert (obs.type, obs.count, obs.note) == (expected, 2, "")


def test_self_is_not_an_argument(net_observed: dict[tuple[str, str, Role], Observation]) -> None:
    assert ("Net.forward", "self", Role.ARG) not in net_observed
    assert ("Net.forward", "self", Role.LOCAL) not in net_observed


def test_return_and_locals(net_observed: dict[tuple[str, str, Role], Observation]) -> None:
    def seen(name: str, role: Role = Role.LOCAL) -> str:
        return net_observed["Net.forward", name, role].type

    assert seen("", Role.RETURN) == "Tuple[Tensor, int]"
    assert seen("y") == "Optional[Tensor]"
    assert seen("out") == "List[int]"
    assert seen("never") == "List[Unknown]"
    assert seen("h") == "Tensor"
    assert ("Net.forward", "mask", Role.LOCAL) not in net_observed  # parameters are ARGs


def test_attributes(net_observed: dict[tuple[str, str, Role], Observation]) -> None:
    assert net_observed["Net", "cache", Role.ATTR].type == "Optional[Tensor]"
    assert net_observed["Net", "names", Role.ATTR].type == "List[str]"
    assert ("Net", "training", Role.ATTR) not in net_observed
    assert not any(name.startswith("_") or name == "lin" for _, name, _ in net_observed)


def test_helper_function(net_observed: dict[tuple[str, str, Role], Observation]) -> None:
    assert net_observed["helper", "lo", Role.ARG].type == "float"
    assert net_observed["helper", "hi", Role.ARG].type == "float"
    assert net_observed["helper", "", Role.RETURN].type == "Tensor"


def test_python_object_argument_is_a_note(tmp_path: Path) -> None:
    module, path = load(tmp_path, """
        class Config:
            depth = 2

        def build(x, config, scale=None):
            return x * config.depth
        """)
    seen = observe(path, lambda: module.build(torch.ones(2), module.Config(), 2))
    obs = seen["build", "config", Role.ARG]
    assert (obs.type, obs.note) == ("", "a Python object of type Config")
    assert seen["build", "scale", Role.ARG].type == "int"


def test_nested_functions_lambdas_and_comprehensions_are_skipped(tmp_path: Path) -> None:
    module, path = load(tmp_path, """
        def outer(xs, *rest, key=1, **options):
            def inner(v):
                return v + 1
            f = lambda v: v * 2
            return [inner(f(x)) for x in xs], sum(x for x in xs)
        """)
    seen = observe(path, lambda: module.outer([1, 2], 3, key=2, flag=True))
    assert {q for q, _, _ in seen} == {"outer"}
    assert seen["outer", "key", Role.ARG].type == "int"
    assert seen["outer", "inner", Role.LOCAL].note == "a Python object of type function"
    assert ("outer", "rest", Role.ARG) not in seen and ("outer", "rest", Role.LOCAL) not in seen
    assert ("outer", "options", Role.LOCAL) not in seen


def test_a_frame_unwinding_an_exception_is_not_a_return(tmp_path: Path) -> None:
    module, path = load(tmp_path, """
        def fails(x):
            partial = 1
            raise ValueError("no")

        def calls(x):
            try:
                return fails(x)
            except ValueError:
                return None
        """)
    seen = observe(path, lambda: module.calls(1))
    assert ("fails", "", Role.RETURN) not in seen
    assert ("fails", "partial", Role.LOCAL) not in seen
    assert seen["fails", "x", Role.ARG].type == "int"
    assert seen["calls", "", Role.RETURN].type == "NoneType"


def test_calls_are_recorded_up_to_the_cap(tmp_path: Path) -> None:
    module, path = load(tmp_path, """
        def tiny(x):
            return x + 1
        """)
    seen = observe(path, lambda: [module.tiny(i) for i in range(MAX_CALLS * 3)])
    assert seen["tiny", "x", Role.ARG].count == MAX_CALLS
    assert seen["tiny", "", Role.RETURN].count == MAX_CALLS


def test_each_activation_records_up_to_the_cap(tmp_path: Path) -> None:
    """Each probe input gets its own MAX_CALLS: a later one may pass other types."""
    module, path = load(tmp_path, """
        def tiny(x):
            return x
        """)
    rec = Recorder({path})
    with rec.active():
        for _ in range(MAX_CALLS * 2):
            module.tiny(1)
    with rec.active():
        for _ in range(MAX_CALLS * 2):
            module.tiny(None)
    (arg,) = [o for o in rec.observations() if o.role is Role.ARG]
    assert (arg.type, arg.count) == ("Optional[int]", 2 * MAX_CALLS)


def test_methods_calling_super_have_no_class_cell_local(tmp_path: Path) -> None:
    module, path = load(tmp_path, """
        from torch import nn

        class Base(nn.Module):
            def __init__(self):
                super().__init__()
                self.k = None

            def forward(self, x):
                self.k = 2
                return x

        class Child(Base):
            def forward(self, x):
                doubled = super().forward(x) * 2
                return doubled
        """)
    seen = observe(path, lambda: module.Child()(torch.ones(1)))
    assert seen["Child.forward", "doubled", Role.LOCAL].type == "Tensor"
    assert ("Child.forward", "__class__", Role.LOCAL) not in seen
    assert seen["Base.forward", "x", Role.ARG].type == "Tensor"
    # Base's method saw the attribute Base.__init__ sets: it counts for both classes
    assert seen["Child", "k", Role.ATTR].type == seen["Base", "k", Role.ATTR].type == "Optional[int]"


def test_other_files_are_not_recorded(tmp_path: Path) -> None:
    module, _ = load(tmp_path, MODEL)
    with recording({str(tmp_path / "elsewhere.py")}) as rec:
        module.Net()(torch.randn(2, 4), 1, 1.0, [0, 1])
    assert rec.observations() == ()


def test_the_previous_profile_function_comes_back(tmp_path: Path) -> None:
    module, path = load(tmp_path, MODEL)
    events: list[str] = []

    def previous(frame: types.FrameType, event: str, arg: Any) -> None:
        events.append(event)

    sys.setprofile(previous)
    try:
        with recording({path}) as rec:
            module.helper(torch.ones(2), 0.0, 1.0)
        assert sys.getprofile() is previous
    finally:
        sys.setprofile(None)
    assert rec.observations()


def test_a_failing_recorder_changes_nothing_and_says_so(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    module, path = load(tmp_path, MODEL)

    def broken(value: object) -> None:
        raise RuntimeError("recorder bug")

    monkeypatch.setattr(recorder_module, "type_of", broken)
    torch.manual_seed(0)
    net = module.Net()
    x = torch.randn(2, 4)
    expected = net(x, 2, 1.0, [0, 1], None, "sum")
    net.names.clear()
    with recording({path}) as rec:
        got = net(x, 2, 1.0, [0, 1], None, "sum")
    assert torch.equal(got[0], expected[0]) and got[1] == expected[1]
    (note,) = rec.notes()
    assert note.startswith("the recorder failed ") and "RuntimeError: recorder bug" in note


def test_a_raising_model_raises_its_own_exception(tmp_path: Path) -> None:
    module, path = load(tmp_path, """
        def boom(x):
            raise KeyError("the model's own")
        """)
    with pytest.raises(KeyError, match="the model's own"):
        with recording({path}):
            module.boom(1)


# --------------------------------------------------------------------------- through the worker


def request(tmp_path: Path, source: str) -> ScriptRequest:
    path = tmp_path / "model.py"
    text = textwrap.dedent(source).lstrip("\n")
    path.write_text(text)
    return ScriptRequest(str(path), text)


def test_the_report_carries_observations(tmp_path: Path) -> None:
    report = handle(request(tmp_path, """
        import torch
        from torch import nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.last = None

            def forward(self, x, k):
                self.last = x
                return x * k, k


        def probe():
            return Net(), [(torch.ones(2), 2), (torch.ones(2), 3)]
        """))
    assert report.load_error is None
    seen = {(o.qualname, o.name, o.role): o.type for o in report.observations}
    assert seen["Net.forward", "k", Role.ARG] == "int"
    assert seen["Net.forward", "", Role.RETURN] == "Tuple[Tensor, int]"
    assert seen["Net", "last", Role.ATTR] == "Optional[Tensor]"


def test_no_probe_no_observations(tmp_path: Path) -> None:
    report = handle(request(tmp_path, """
        from torch import nn

        class Net(nn.Module):
            def forward(self, x):
                return x
        """))
    assert report.load_error is None and report.observations == ()


def test_a_model_that_raises_in_the_worker(tmp_path: Path) -> None:
    report = handle(request(tmp_path, """
        import torch
        from torch import nn


        class Net(nn.Module):
            def forward(self, x):
                if x.sum() > 100:
                    raise ValueError("too big")
                return x


        def probe():
            return Net(), [(torch.ones(2),), (torch.full((2,), 99.0),)]
        """))
    assert any("eager Net raised ValueError: too big on probe input 1" in n for n in report.notes)
    assert sys.getprofile() is None
    seen = {(o.qualname, o.name, o.role): o for o in report.observations}
    assert seen["Net.forward", "x", Role.ARG].count == 2  # both calls, up to the raise
    assert seen["Net.forward", "", Role.RETURN].count == 1  # only the call that returned


def test_a_large_tensor_argument_is_cheap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module, path = load(tmp_path, """
        def total(x, xs):
            return x.sum()
        """)
    big = torch.zeros(10**6)
    monkeypatch.setattr(torch.Tensor, "__iter__", _refuse)
    started = time.perf_counter()
    seen = observe(path, lambda: module.total(big, [big] * 10**5))
    assert time.perf_counter() - started < 0.05
    assert seen["total", "x", Role.ARG].type == "Tensor"
    assert seen["total", "xs", Role.ARG].type == "List[Tensor]"
