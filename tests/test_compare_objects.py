"""Outputs that are objects — a @dataclass (transformers' ModelOutput style), a NamedTuple, a plain
object, an enum — compared structurally: the original and the fixed source are loaded under fresh
module names, so the same class in each is a different class object. Same qualified name, then
field by field, with the path of the field that differs."""

import copy
import sys
import types
from pathlib import Path
from typing import Any, Iterator, NamedTuple

import pytest
import torch
from typer.testing import CliRunner

from tsannotate.cli import app
from tsannotate.worker.compare import describe, fresh_args, mismatch, snapshot

OUTPUTS = """\
import enum
from dataclasses import dataclass, field
from typing import NamedTuple, Optional

import torch


@dataclass
class Output:
    logits: torch.Tensor
    loss: Optional[torch.Tensor] = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Frozen:
    logits: torch.Tensor


class Pair(NamedTuple):
    logits: torch.Tensor
    n: int


class Plain:
    def __init__(self, logits, n):
        self.logits = logits
        self.n = n


class Mode(enum.Enum):
    TRAIN = 1
    EVAL = 2


class Outer:
    @dataclass
    class Output:
        logits: torch.Tensor
"""

OTHER = """\
from dataclasses import dataclass

import torch


@dataclass
class Result:
    logits: torch.Tensor
"""


@pytest.fixture
def fresh() -> Iterator[Any]:
    """A maker of modules loaded from source under a new name each time, as the loader does."""
    made: list[str] = []

    def load(source: str = OUTPUTS) -> types.ModuleType:
        name = f"_tsannotate_compare_objects_{len(made)}"
        module = types.ModuleType(name)
        sys.modules[name] = module  # dataclasses looks its module up
        made.append(name)
        exec(compile(source, f"<{name}>", "exec"), module.__dict__)
        return module

    yield load
    for name in made:
        sys.modules.pop(name, None)


def _t(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


def test_equal_dataclasses_of_two_loads_match(fresh: Any) -> None:
    a, b = fresh(), fresh()
    assert a.Output is not b.Output and a.Output.__qualname__ == b.Output.__qualname__
    assert mismatch(a.Output(_t(1, 2), None, {"k": _t(3)}), b.Output(_t(1, 2), None, {"k": _t(3)})) is None


def test_a_differing_tensor_field_is_named(fresh: Any) -> None:
    a, b = fresh(), fresh()
    diff = mismatch(a.Output(_t(1, 2)), b.Output(_t(1, 5)))
    assert diff == ("output.logits", "a float32 tensor of shape [2] with different values",
                    "a float32 tensor of shape [2]")
    diff = mismatch(a.Output(_t(1, 2), _t(0.5)), b.Output(_t(1, 2), None))
    assert diff == ("output.loss", "None", "a float32 tensor of shape [1]")
    diff = mismatch(a.Output(_t(1), extra={"k": _t(1)}), b.Output(_t(1), extra={"k": _t(1, 2)}))
    assert diff is not None and diff[0] == "output.extra['k']"


def test_nested_records_report_the_full_path(fresh: Any) -> None:
    a, b = fresh(), fresh()
    eager = (a.Output(_t(1), extra={"pair": a.Pair(_t(1), 3)}),)
    assert mismatch(eager, (b.Output(_t(1), extra={"pair": b.Pair(_t(1), 3)}),)) is None
    diff = mismatch(eager, (b.Output(_t(1), extra={"pair": b.Pair(_t(1), 4)}),))
    assert diff == ("output[0].extra['pair'].n", "int 4", "int 3")


def test_different_qualnames_mismatch_and_say_the_class(fresh: Any) -> None:
    a, other = fresh(), fresh(OTHER)
    diff = mismatch(a.Output(_t(1)), other.Result(_t(1)))
    assert diff == ("output", "a Result", "a Output")
    # the same bare name nested in a class is a different class
    diff = mismatch(a.Output(_t(1)), a.Outer.Output(_t(1)))
    assert diff == ("output", "a Outer.Output", "a Output")


def test_namedtuples_plain_objects_and_enums_of_two_loads(fresh: Any) -> None:
    a, b = fresh(), fresh()
    assert mismatch(a.Pair(_t(1), 2), b.Pair(_t(1), 2)) is None
    assert mismatch(a.Pair(_t(1), 2), b.Pair(_t(1), 3)) == ("output.n", "int 3", "int 2")
    assert mismatch(a.Plain(_t(1), 2), b.Plain(_t(1), 2)) is None
    assert mismatch(a.Plain(_t(1), 2), b.Plain(_t(2), 2))[0] == "output.logits"  # type: ignore[index]
    assert mismatch(a.Frozen(_t(1)), b.Frozen(_t(1))) is None
    assert mismatch(a.Mode.EVAL, b.Mode.EVAL) is None
    assert mismatch(a.Mode.EVAL, b.Mode.TRAIN) == ("output", "Mode.TRAIN", "Mode.EVAL")


def test_plain_objects_with_different_attributes(fresh: Any) -> None:
    a, b = fresh(), fresh()
    extra = b.Plain(_t(1), 2)
    extra.more = 1
    assert mismatch(a.Plain(_t(1), 2), extra) == ("output", "a Plain with fields logits, n, more",
                                                  "a Plain with fields logits, n")


def test_a_namedtuple_against_a_plain_tuple_is_compared_item_by_item(fresh: Any) -> None:
    """What a trace or the C++ runner gives back for a NamedTuple: no worse than before."""
    a = fresh()
    assert mismatch(a.Pair(_t(1), 2), (_t(1), 2)) is None
    assert mismatch(a.Pair(_t(1), 2), (_t(1), 3)) == ("output[1]", "int 3", "int 2")


def test_a_namedtuple_torchscript_rebuilt_matches_by_name() -> None:
    """TorchScript returns a NamedTuple nested in a class as torch._jit_internal.<bare name>."""

    class Model(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> _Wrapper.Out:
            return _Wrapper.Out(x * 2, 3)

    scripted = torch.jit.script(Model())
    got = scripted(_t(1, 2))
    assert type(got) is not _Wrapper.Out and type(got).__qualname__ != _Wrapper.Out.__qualname__
    assert mismatch(_Wrapper.Out(_t(2, 4), 3), got) is None
    assert mismatch(_Wrapper.Out(_t(2, 5), 3), got)[0] == "output.logits"  # type: ignore[index]


class _Wrapper:
    class Out(NamedTuple):
        logits: torch.Tensor
        n: int


def test_same_class_dataclass_with_tensors_is_not_waved_through(fresh: Any) -> None:
    """The generated __eq__ raises on tensors of more than one value: that used to read as
    'cannot tell', so any difference passed."""
    a = fresh()
    assert mismatch(a.Output(_t(1, 2)), a.Output(_t(1, 2))) is None
    assert mismatch(a.Output(_t(1, 2)), a.Output(_t(9, 2)))[0] == "output.logits"  # type: ignore[index]


def test_snapshot_copies_records_so_later_changes_do_not_show(fresh: Any) -> None:
    a = fresh()
    for value in (a.Output(_t(1, 2), extra={"k": _t(3)}), a.Frozen(_t(1, 2)), a.Pair(_t(1, 2), 2),
                  a.Plain(_t(1, 2), 2)):
        copy = snapshot(value)
        assert type(copy) is type(value) and mismatch(value, copy) is None
        value.logits.add_(10)  # an in-place op in a later call, on a returned buffer
        assert mismatch(value, copy) is not None and copy.logits.tolist() == [1.0, 2.0]
    output = a.Output(_t(1), extra={"k": _t(3)})
    copy = snapshot(output)
    output.extra["k"].add_(1)
    assert copy.extra["k"].tolist() == [3.0]


def test_snapshot_and_mismatch_survive_a_cycle(fresh: Any) -> None:
    a, b = fresh(), fresh()
    x, y = a.Plain(_t(1), 2), b.Plain(_t(1), 2)
    x.me, y.me = x, y
    copy = snapshot(x)
    assert copy is not x and copy.me is copy
    assert mismatch(x, y) is None
    y.n = 3
    assert mismatch(x, y) == ("output.n", "int 3", "int 2")


def test_describe_names_the_class() -> None:
    assert describe(_Wrapper.Out(_t(1), 2)) == "a _Wrapper.Out (a named tuple of 2)"


# --------------------------------------------------------------------------- the CLI

# A tester's repro: forward returns a @dataclass. The TS005 fix must be written; TorchScript cannot
# compile the dataclass, which the user is told, but the eager-equivalence gate must not
# refuse the file because the original's Output and the fixed source's Output are two classes.
DATACLASS_MODEL = """\
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn as nn


@dataclass
class Output:
    logits: torch.Tensor
    loss: Optional[torch.Tensor] = None


class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(4, 3)

    def forward(self, x, scale=1.0):
        return Output(logits=self.head(x) * scale)


def probe():
    torch.manual_seed(0)
    return LM(), [(torch.randn(2, 4),), (torch.randn(2, 4), 2.0)]
"""


def test_fix_apply_writes_the_fix_when_forward_returns_a_dataclass(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(DATACLASS_MODEL)
    result = CliRunner().invoke(app, ["fix", str(path), "--apply"])
    assert "the fixes change the eager output" not in result.stderr
    assert "not written" not in result.stderr
    assert path.read_text() == DATACLASS_MODEL.replace(
        "def forward(self, x, scale=1.0):", "def forward(self, x, scale: float = 1.0):")
    assert "TS005 annotate parameter `scale` of LM.forward as float" in result.stderr
    # the dataclass itself is not fixable: said so, and the exit status says it does not script
    assert "TS020 refactor: a dataclass" in result.stderr
    assert "LM still fails to script" in result.stderr and "wrote the fixes found" in result.stderr
    assert result.exit_code == 1, result.stderr


NAMEDTUPLE_MODEL = """\
from typing import NamedTuple, Optional

import torch
import torch.nn as nn


class LM(nn.Module):
    class Out(NamedTuple):
        logits: torch.Tensor
        loss: Optional[torch.Tensor]

    def __init__(self):
        super().__init__()
        self.head = nn.Linear(4, 3)

    def forward(self, x, scale=1.0):
        return LM.Out(self.head(x) * scale, None)


class Box:
    def __init__(self, logits: torch.Tensor, n: int):
        self.logits = logits
        self.n = n


class LM2(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(4, 3)

    def forward(self, x, scale=1.0):
        return Box(self.head(x) * scale, 3)


def probe():
    torch.manual_seed(0)
    xs = [(torch.randn(2, 4),), (torch.randn(2, 4), 2.0)]
    return [(LM(), xs), (LM2(), xs)]
"""


def test_fix_apply_with_a_nested_namedtuple_and_a_plain_class_scripts_and_verifies(tmp_path: Path) -> None:
    """The scripted side: TorchScript returns the NamedTuple rebuilt under its bare name and the
    class as itself; both compare field by field with eager and the file is written."""
    path = tmp_path / "model.py"
    path.write_text(NAMEDTUPLE_MODEL)
    result = CliRunner().invoke(app, ["fix", str(path), "--apply"])
    assert result.exit_code == 0, result.stderr
    assert "LM, LM2 now script: 2 fixes in 1 pass; wrote" in result.stderr
    assert path.read_text().count("scale: float = 1.0") == 2


# --------------------------------------------------------------------------- fresh_args


def test_fresh_args_copies_tensors_so_in_place_ops_do_not_leak() -> None:
    x, n = torch.ones(2, 3), torch.tensor([1, 2])
    args = (x, n, 3, None, "mean")
    fresh = fresh_args(args)
    fresh[0].add_(1)
    fresh[1].zero_()
    assert x.tolist() == [[1.0] * 3] * 2 and n.tolist() == [1, 2]
    assert fresh[2:] == (3, None, "mean")
    assert [(f.dtype, f.shape, f.stride()) for f in fresh[:2]] == [(a.dtype, a.shape, a.stride()) for a in args[:2]]


@pytest.mark.parametrize("make", [
    lambda x: (x, x),  # one tensor twice: the copies must share too
    lambda x: (x, x[1:]),  # a view of another argument
    lambda x: (x[:1].expand(3, 4),),  # stride 0: a clone would be contiguous
    lambda x: (x.t(),),  # not contiguous
    lambda x: (torch.nn.Parameter(x),),  # a subclass, needing grad
    lambda x: ([x, x],),  # a container
], ids=["same tensor twice", "a view", "expanded", "transposed", "parameter", "list"])
def test_fresh_args_is_deepcopy_where_clones_would_differ(make: Any) -> None:
    args = make(torch.rand(4, 4))
    fresh, deep = fresh_args(args), copy.deepcopy(args)

    def layout(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            return (type(value), value.shape, value.stride(), value.storage_offset(), value.requires_grad,
                    value.tolist())
        return [layout(v) for v in value]

    assert layout(list(fresh)) == layout(list(deep))
    def storages(values: tuple[Any, ...]) -> int:  # how many distinct ones: sharing is kept
        flat = [t for a in values for t in (a if isinstance(a, list) else [a])]
        return len({t.untyped_storage().data_ptr() for t in flat})

    assert storages(fresh) == storages(deep)
    assert all(t.untyped_storage().data_ptr() != a.untyped_storage().data_ptr()
               for t, a in zip(fresh, args) if isinstance(t, torch.Tensor))
