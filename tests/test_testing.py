"""tsannotate.testing.assert_scriptable and its pytest fixture, run by pytester in a test
session of their own, as a library's test suite would use them."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

MODELS = '''
import torch
from torch import nn


class Good(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 2)

    def forward(self, x):
        return self.lin(x)


class NeedsFloat(nn.Module):
    def forward(self, x, scale=2.0):
        return x * soften(x, scale)


def soften(x, scale):
    return x / scale


class MaskNone(nn.Module):
    def forward(self, x, mask=None):
        return x if mask is None else x * mask


class Differs(nn.Module):
    def forward(self, x):
        if torch.jit.is_scripting():
            return x.double()
        return x


class FrozenBatch(nn.Module):
    def forward(self, x):
        if torch.jit.is_scripting():
            return x[:2]
        return x
'''


@pytest.fixture
def models(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(models=MODELS)
    pytester.syspathinsert()
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """A pytest session in a subprocess: TorchScript keeps compiled classes for the life of a
    process, by qualified name, and every test here defines its own `models.*` classes."""
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


LIBRARY_TESTS = '''
import pytest
import torch
from models import Differs, FrozenBatch, Good, MaskNone, NeedsFloat
from tsannotate.testing import assert_scriptable as imported_helper


def test_good(assert_scriptable):
    scripted = assert_scriptable(Good(), [(torch.ones(3, 4),)])
    assert isinstance(scripted, torch.jit.ScriptModule)


def test_needs_float(assert_scriptable):
    assert_scriptable(NeedsFloat(), [(torch.ones(2),)])


def test_mask(assert_scriptable):
    assert_scriptable(MaskNone(), [(torch.ones(2), None)])


def test_differs():
    with pytest.raises(AssertionError) as info:
        imported_helper(Differs(), [torch.ones(2)])
    assert str(info.value).splitlines()[0] == (
        "scripted Differs differs from eager on input 0 at output: it returns a float64 "
        "tensor of shape [2] where eager returns a float32 tensor of shape [2]")


def test_frozen_batch():
    """Equal on the batch of 2 it was given; a derived batch of 3 shows the frozen shape."""
    with pytest.raises(AssertionError) as info:
        imported_helper(FrozenBatch(), [torch.ones(2, 3)])
    assert str(info.value).splitlines()[0] == (
        "scripted FrozenBatch differs from eager on input 0 with batch 3 (dim 0: 2 → 3) at output: "
        "it returns a float32 tensor of shape [2, 3] where eager returns a float32 tensor of shape [3, 3]")
    imported_helper(FrozenBatch(), [torch.ones(2, 3)], derived=False)
'''


def test_fixture_and_helper_in_a_library_test_suite(models: pytest.Pytester) -> None:
    """One session (a subprocess costs an `import torch`), five of the library's tests."""
    models.makepyfile(test_lib=LIBRARY_TESTS)
    result = run(models, "-rA")
    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines(["PASSED test_lib.py::test_good", "PASSED test_lib.py::test_differs",
                                 "PASSED test_lib.py::test_frozen_batch"], consecutive=False)
    # a compile error: the compiler's message, the fix tsannotate proposes, and its diff
    result.stdout.fnmatch_lines([
        "E * AssertionError: NeedsFloat does not script",
        "E * models.py:15:5: TS005 Expected a default value of type Tensor on parameter \"scale\"*",
        "E * tsannotate would propose:",
        "E * TS005 annotate parameter `scale` of NeedsFloat.forward as float",
        "E * -    def forward(self, x, scale=2.0):",
        "E * +    def forward(self, x, scale: float = 2.0):",
        "E * write it with `tsannotate fix models.py --apply`",
    ])
    # compiles, fails when called: `mask=None` is a Tensor to TorchScript; TS001 from the signature
    result.stdout.fnmatch_lines([
        "E * AssertionError: scripted MaskNone raises on input 0: Expected a proper Tensor but got None*",
        "E * TS001 annotate parameter `mask` of MaskNone.forward as Optional?torch.Tensor?",
        "E * +    def forward(self, x, mask: Optional?torch.Tensor? = None):",  # ? for [ ]: fnmatch
    ])


def test_plugin_can_be_disabled(models: pytest.Pytester) -> None:
    models.makepyfile(test_lib='''
        def test_uses_fixture(assert_scriptable):
            pass
    ''')
    result = models.runpytest("-p", "no:cacheprovider", "-p", "no:tsannotate")  # no torch: in-process
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'assert_scriptable' not found*"])
