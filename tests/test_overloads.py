"""worker/overloads.py answers `_jit_internal._get_overloaded_methods` as torch does, without
building a qualified name for the callables it can tell apart by name; the rest go to torch."""

from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
import torch._jit_internal as internal
from torch import nn

from tsannotate.worker import overloads

OVERLOADED = '''
import torch
from torch import nn


class Pick(nn.Module):
    @torch.jit._overload_method  # noqa: F811
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pass

    @torch.jit._overload_method  # noqa: F811
    def forward(self, x: int) -> int:
        pass

    def forward(self, x):  # noqa: F811
        return x


class Uses(nn.Module):
    def __init__(self):
        super().__init__()
        self.pick = Pick()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pick(x) + self.pick(2)

    def helper(self, x):
        return x

    shout = lambda self, x: x  # noqa: E731
'''


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[types.ModuleType]:
    path = tmp_path_factory.mktemp("overloads") / "overloaded_model.py"
    path.write_text(OVERLOADED)
    spec = importlib.util.spec_from_file_location("overloaded_model", path)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules["overloaded_model"] = loaded  # TorchScript reads its classes' source through it
    spec.loader.exec_module(loaded)
    yield loaded
    del sys.modules["overloaded_model"]


@pytest.fixture
def fast() -> Iterator[Callable[[Any, Any], Any]]:
    original = internal._get_overloaded_methods
    overloads.install()
    installed = internal._get_overloaded_methods
    assert installed is not original
    overloads.install()
    assert internal._get_overloaded_methods is installed  # idempotent
    yield installed
    internal._get_overloaded_methods = original


def _answer(find: Callable[[Any, Any], Any], item: Any, cls: type) -> tuple[str, Any]:
    try:
        return ("returned", find(item, cls))
    except Exception as exc:
        return ("raised", type(exc).__name__)


def _callables(mod: nn.Module) -> list[Any]:
    """What TorchScript asks about for `mod` (jit/_recursive.get_overload_annotations)."""
    found = []
    for name in dir(type(mod)):
        item = getattr(mod, name, None)
        if callable(item) and getattr(item, "__module__", None) is not None:
            found.append(item)
    return found


def test_every_callable_of_real_modules_gets_torchs_answer(module: types.ModuleType,
                                                          fast: Callable[[Any, Any], Any]) -> None:
    torchs = fast.__wrapped__  # type: ignore[attr-defined]
    models = [module.Uses(), module.Pick(), nn.TransformerEncoderLayer(8, 2), nn.LSTM(4, 4), nn.Linear(2, 2)]
    asked = 0
    overloaded = []
    for mod in models:
        for item in _callables(mod):
            expected = _answer(torchs, item, type(mod))
            assert _answer(fast, item, type(mod)) == expected, item
            asked += 1
            if expected[0] == "returned" and expected[1] is not None:
                overloaded.append(f"{type(mod).__name__}.{item.__name__}")
    assert asked > 300
    assert overloaded == ["Pick.forward", "LSTM.forward"]  # torch declares overloads for LSTM too


def test_odd_callables_go_to_torch(fast: Callable[[Any, Any], Any]) -> None:
    def named_with_a_dot(x: int) -> int:
        return x

    named_with_a_dot.__name__ = "a.b"

    def overridden(x: int) -> int:
        return x

    overridden._jit_override_qualname = "__torch__.elsewhere.forward"  # type: ignore[attr-defined]

    def moduleless(x: int) -> int:
        return x

    moduleless.__module__ = None  # type: ignore[assignment]
    internal._overloaded_methods.setdefault("__torch__.elsewhere.forward", {"Owner": [named_with_a_dot]})
    try:
        for item in (named_with_a_dot, overridden, moduleless, lambda x: x, print, nn.Linear(2, 2)):
            assert _answer(fast, item, nn.Module) == _answer(fast.__wrapped__, item, nn.Module)  # type: ignore[attr-defined]
        assert _answer(fast, named_with_a_dot, nn.Module) == ("raised", "RuntimeError")  # not a silent None
        assert _answer(fast, moduleless, nn.Module) == ("raised", "RuntimeError")
    finally:
        del internal._overloaded_methods["__torch__.elsewhere.forward"]


def test_an_overloaded_method_still_scripts(module: types.ModuleType, fast: Callable[[Any, Any], Any]) -> None:
    scripted = torch.jit.script(module.Uses())
    assert scripted(torch.ones(2)).tolist() == [3.0, 3.0]
    assert sorted(scripted.pick._c._method_names()) == ["forward__0", "forward__1"]  # both overloads
