"""TS022 (rules/float_literal.py): an int literal passed by keyword where a torch function's schema
takes a float (`F.pad(x, p, value=0)`, `F.interpolate(x, scale_factor=2)`) is written as a float,
in every compiled function calling that function alike, on the compiler's real message; a function
of the file itself, and a literal passed by position, are left alone."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tsannotate import rules
from tsannotate.records import Evidence, FloatLiteral, ScriptRequest
from tsannotate.source import index_source
from tsannotate.worker import Worker

from compiled_plan import fixed_and_verified, plan_from_compiler

MODEL = textwrap.dedent('''\
    import torch
    import torch.nn.functional as F
    from torch import nn


    def same_padding(x):
        return F.pad(x, (0, 1, 0, 1), mode="constant", value=0)


    class Upsample(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1)

        def down(self, x):
            return F.pad(x, (1, 0, 1, 0), mode="constant", value=0)

        def forward(self, x):
            x = self.down(same_padding(x))
            return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))

        def unused(self, x):
            return F.pad(x, (1, 1), value=0)  # never compiled: not reached from forward


    def probe():
        torch.manual_seed(0)
        return Upsample().eval(), [(torch.randn(1, 2, 4, 4),)]
''')


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker(timeout=60) as w:
        yield w


def test_every_such_call_of_compiled_code_in_one_pass(worker: Worker, tmp_path: Path) -> None:
    path = tmp_path / "up.py"
    fixes = plan_from_compiler(worker, path, MODEL)
    widened = {(f.edit.function, f.edit.callee, f.edit.keyword, f.edit.literal)
               for f in fixes if isinstance(f.edit, FloatLiteral)}
    assert widened == {("same_padding", "F.pad", "value", "0"), ("Upsample.down", "F.pad", "value", "0")}
    assert not [f for f in rules.plan(Evidence(index_source(str(path), MODEL), ()))
                if isinstance(f.edit, FloatLiteral)]  # no compiler error: nothing


def test_the_fixed_model_scripts_verifies_and_is_left_alone_after(worker: Worker, tmp_path: Path) -> None:
    outcome = fixed_and_verified(worker, tmp_path / "up.py", MODEL)
    assert [len(p.fixes) for p in outcome.passes] == [2, 1]  # pad's two calls, then interpolate's
    assert outcome.final.count("value=0.0") == 2 and "scale_factor=2.0" in outcome.final
    assert "F.pad(x, (1, 1), value=0)" in outcome.final  # not compiled: left as it was


@pytest.mark.parametrize(("old", "new", "said"), [
    # the file's own `pad`, annotated float: its annotation may be what is wrong (TS005's to judge)
    ("def same_padding(x):\n    return F.pad(x, (0, 1, 0, 1), mode=\"constant\", value=0)",
     "def same_padding(x):\n    return pad(x, value=0)\n\n\ndef pad(x, value: float):\n    return x + value",
     "for argument 'value' but instead found type 'int'"),
    # by position: left to the user
    ("F.pad(x, (0, 1, 0, 1), mode=\"constant\", value=0)", "F.pad(x, (0, 1, 0, 1), \"constant\", 0)",
     "for argument 'value' but instead found type 'int'"),
], ids=["own-function", "positional"])
def test_what_is_not_widened(worker: Worker, tmp_path: Path, old: str, new: str, said: str) -> None:
    text = MODEL.replace(old, new)
    assert text != MODEL
    path = tmp_path / "own.py"
    path.write_text(text)
    report = worker.script(ScriptRequest(str(path), text))
    assert any(said in d.message for d in report.diagnostics), [d.message for d in report.diagnostics]
    fixes = rules.plan(Evidence(index_source(str(path), text), report.diagnostics, report.signatures,
                                report.observations))
    assert not [f for f in fixes if isinstance(f.edit, FloatLiteral) and f.edit.function == "same_padding"], \
        [f.title for f in fixes]
