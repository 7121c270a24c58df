"""TS005 and overload resolution: `torch.as_tensor(scales, dtype=dtype, device=device)` with every
parameter unannotated fails with "Arguments for call are not valid", and the type the message
names for `scales` is the first overload's (`aten::as_tensor.bool`: bool). That is a guess, not
evidence: the probe's observed type (tuples of ints) wins. A parameter the probe did not see keeps
the guess, and says it is one. Real torch.jit.script; nothing about TorchScript is mocked."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent

import pytest
import torch

from tsannotate import rules
from tsannotate.jit_messages import parse_compile_error
from tsannotate.loop import Loop, Options
from tsannotate.records import AnnotateParam, Diagnostic, DiagnosticKind, Evidence, Fix, Observation, Role, Source
from tsannotate.source import index_source
from tsannotate.worker import Worker

MESSAGES = Path(__file__).resolve().parent.parent / "fixtures" / "messages"

MODEL = dedent('''\
    import torch
    import torch.nn as nn


    class Anchors(nn.Module):
        def __init__(self):
            super().__init__()
            self.sizes = ((32,), (64,))

        @staticmethod
        def generate(scales, dtype=torch.float32, device="cpu"):
            return torch.as_tensor(scales, dtype=dtype, device=device)

        def forward(self, x):
            return x + torch.cat([self.generate(s, x.dtype, x.device) for s in self.sizes])


    def probe():
        return Anchors(), [(torch.zeros(2),)]
''')


def _compile_error(path: Path) -> tuple[str, str]:
    spec = importlib.util.spec_from_file_location("overload_param_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(Exception) as caught:
        torch.jit.script(module.Anchors())
    return str(caught.value), type(caught.value).__name__


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Diagnostic]:
    path = tmp_path_factory.mktemp("overload") / "model.py"
    path.write_text(MODEL)
    text, exc = _compile_error(path)
    return path, parse_compile_error(text, exc, "Anchors")


def _param_fixes(path: Path, d: Diagnostic, *seen: Observation) -> dict[str, Fix]:
    evidence = Evidence(index_source(str(path), MODEL), (d,), observations=seen)
    return {f.edit.param: f for f in rules.plan(evidence) if isinstance(f.edit, AnnotateParam)}


def test_the_message_is_an_overload_guess(compiled: tuple[Path, Diagnostic]) -> None:
    """What the rules are given: the first overload's bool for `scales`, from a list of schemas."""
    _, d = compiled
    assert "Arguments for call are not valid" in d.raw and "aten::as_tensor.list" in d.raw
    assert (d.kind, d.symbol, d.types) == (DiagnosticKind.INFERRED_TENSOR, "scales", ("bool",))


def test_the_probe_type_beats_the_first_overload(compiled: tuple[Path, Diagnostic]) -> None:
    path, d = compiled
    seen = (Observation("Anchors.generate", "scales", Role.ARG, "Tuple[int]", count=2),
            Observation("Anchors.generate", "dtype", Role.ARG, "dtype", count=2),
            Observation("Anchors.generate", "device", Role.ARG, "Device", count=2))
    fixes = _param_fixes(path, d, *seen)
    scales = fixes["scales"]
    assert scales.edit.annotation.text == "Tuple[int]"  # type: ignore[union-attr]
    assert scales.evidence is Source.PROBE
    assert "bool" not in scales.reason and "disagree" not in scales.reason
    assert fixes["device"].edit.annotation.text == "torch.device"  # type: ignore[union-attr]


def test_a_probe_tensor_is_not_overruled_by_the_first_overload(compiled: tuple[Path, Diagnostic]) -> None:
    """The probe passed a Tensor: bool would contradict what ran, and Tensor is already assumed."""
    path, d = compiled
    fixes = _param_fixes(path, d, Observation("Anchors.generate", "scales", Role.ARG, "Tensor"))
    assert "scales" not in fixes


def test_unseen_keeps_the_guess_and_says_so(compiled: tuple[Path, Diagnostic]) -> None:
    path, d = compiled
    scales = _param_fixes(path, d)["scales"]
    assert scales.edit.annotation.text == "bool"  # type: ignore[union-attr]
    assert scales.evidence is Source.COMPILER
    assert "a guess: the compiler tried 6 overloads" in scales.reason and "did not see `scales`" in scales.reason


def test_a_guess_that_is_right_still_comes_when_nothing_was_seen() -> None:
    """`x.sum(dim)` (captured message): the first overload naming `dim` wants an int, the fix is int."""
    index = json.loads((MESSAGES / "index.json").read_text())["cases"]
    text = (MESSAGES / "param_as_index.txt").read_text()
    d = parse_compile_error(text, index["param_as_index"]["exception"], "Model")
    capture = (MESSAGES / "capture.py").read_text()
    path = d.location.path if d.location else "/p/model.py"
    [fix] = [f for f in rules.plan(Evidence(index_source(path, capture), (d,)))
             if isinstance(f.edit, AnnotateParam) and f.edit.function == "ParamAsIndex.forward"]
    assert (fix.edit.param, fix.edit.annotation.text) == ("dim", "int")  # type: ignore[union-attr]
    assert "a guess" in fix.reason


def test_a_single_schema_still_names_the_type() -> None:
    """A compiled helper passed floats (one schema, not overloads): the compiler's type stands."""
    index = json.loads((MESSAGES / "index.json").read_text())["cases"]
    d = parse_compile_error((MESSAGES / "call_helper_floats.txt").read_text(),
                            index["call_helper_floats"]["exception"], "Model")
    capture = (MESSAGES / "capture.py").read_text()
    path = d.location.path if d.location else "/p/model.py"
    fixes = [f for f in rules.plan(Evidence(index_source(path, capture), (d,)))
             if isinstance(f.edit, AnnotateParam) and f.edit.param == d.symbol]
    assert fixes and fixes[0].evidence is Source.COMPILER and "a guess" not in fixes[0].reason


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker(timeout=60) as w:
        yield w


def test_the_loop_writes_the_probe_type_and_the_result_scripts(worker: Worker, tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(MODEL)
    outcome = Loop(str(path), worker, Options(max_passes=10)).run(MODEL)
    assert outcome.scripts, [d.message for d in outcome.remaining]
    assert "def generate(scales: Tuple[int], dtype: torch.dtype = torch.float32," in outcome.final
    assert "scales: bool" not in outcome.final
    fixed = tmp_path / "fixed.py"
    fixed.write_text(outcome.final)
    spec = importlib.util.spec_from_file_location("overload_param_fixed", fixed)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.Anchors()
    x = torch.zeros(2)
    assert torch.equal(torch.jit.script(model)(x), model(x))
