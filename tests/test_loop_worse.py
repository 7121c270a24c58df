"""When the loop counts a pass as worse (and backs its fixes out): the decision alone, on the
reports the worker sends. The end-to-end behaviour is in the golden and CLI tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tsannotate.loop import _worse
from tsannotate.records import (
    AnnotateAttribute,
    Annotation,
    Diagnostic,
    DiagnosticKind,
    Fix,
    Location,
    Observation,
    Role,
    ScriptReport,
    Source,
    TargetResult,
)

ERROR = Diagnostic(DiagnosticKind.UNSUPPORTED, "try blocks aren't supported", Location("/m.py", 9), target="Net")
_SEEN = Observation("Net.forward", "x", Role.ARG, "Tensor")
FAILING = ScriptReport(targets=(TargetResult("Net", scripted=False),), diagnostics=(ERROR,))


def _fix(evidence: Source) -> Fix:
    edit = AnnotateAttribute("Net", "use_proj", Annotation("Final[bool]"))
    return Fix("TS007", "annotate attribute `use_proj` of Net as Final[bool]", "why", edit, evidence=evidence)


def test_a_compiler_fix_that_changes_nothing_is_worse() -> None:
    assert _worse(FAILING, FAILING, [_fix(Source.COMPILER)])
    assert _worse(FAILING, FAILING)  # no fixes named: the old rule


def test_a_fix_with_evidence_of_its_own_is_kept_while_another_error_remains() -> None:
    for evidence in (Source.SOURCE, Source.PROBE, Source.SIGNATURE):
        assert not _worse(FAILING, FAILING, [_fix(evidence)])
    assert _worse(FAILING, FAILING, [_fix(Source.SOURCE), _fix(Source.COMPILER)])  # all must be


def test_more_errors_are_worse_whatever_the_evidence() -> None:
    more = ScriptReport(targets=FAILING.targets, diagnostics=(ERROR, Diagnostic(
        DiagnosticKind.UNKNOWN, "new", Location("/m.py", 3), target="Net")))
    assert _worse(more, FAILING, [_fix(Source.SOURCE)])
    assert not _worse(ScriptReport(targets=(TargetResult("Net", scripted=True),)), FAILING, [_fix(Source.COMPILER)])


def test_one_error_repeated_for_each_enclosing_module_counts_once() -> None:
    """An error without a location ("Unsupported value kind: Tensor") comes once per module
    scripted on its own; a fix that lets a submodule compile and shows it in two parents is
    not worse than the one error it replaced."""
    nowhere = [Diagnostic(DiagnosticKind.NONE_DEFAULT, "Unsupported value kind: Tensor", None, target=t)
               for t in ("Net", "Net.encoder")]
    after = ScriptReport(targets=FAILING.targets, diagnostics=tuple(nowhere))
    assert not _worse(after, FAILING, [_fix(Source.COMPILER)])


# --------------------------------------------------------------------------- a decorator that breaks the call

RELATIVE_BUCKETS = '''\
import torch
from torch import nn


class RelBias(nn.Module):
    def __init__(self, num_buckets=8):
        super().__init__()
        self.num_buckets = num_buckets
        self.emb = nn.Embedding(num_buckets, 2)

    @staticmethod
    def bucket(rel, num_buckets: int = 32):
        num_buckets //= 2
        return rel.abs().clamp(max=num_buckets - 1)

    def compute_bias(self, q_len: int, k_len: int):
        rel = torch.arange(k_len)[None, :] - torch.arange(q_len)[:, None]
        return self.emb(self.bucket(rel, num_buckets=self.num_buckets))

    def forward(self, x):
        return x + self.compute_bias(x.size(-2), x.size(-1)).sum(-1)


def probe():
    return RelBias(), [(torch.randn(3, 4),)]
'''


def test_an_ignore_that_lets_the_model_compile_and_then_fail_when_called_is_backed_out(tmp_path: Path) -> None:
    """T5's relative buckets: `@torch.jit.ignore` on compute_bias compiles, then the Python method runs on
    the scripted module, which has no `bucket` (a staticmethod): 'RecursiveScriptModule' object has no
    attribute 'bucket'. Backed out: the user keeps the compile error and the advice to write `n = n // 2`."""
    from tsannotate.loop import Loop, Options
    from tsannotate.worker import Worker

    path = tmp_path / "model.py"
    path.write_text(RELATIVE_BUCKETS)
    with Worker(timeout=60) as worker:
        outcome = Loop(str(path), worker, Options(max_passes=5)).run(RELATIVE_BUCKETS)
    assert not outcome.scripts and "@torch.jit.ignore" not in outcome.final
    assert any(f.code == "TS008" for p in outcome.passes for f in p.backed_out)
    assert any("n = n // 2" in f.reason for f in outcome.advice)


def test_an_ignore_whose_target_then_fails_when_called_is_worse() -> None:
    from tsannotate.records import Decorate

    ignore = Fix("TS008", "decorate Net.helper with @torch.jit.ignore", "why", Decorate("Net.helper", "torch.jit.ignore"),
                 evidence=Source.COMPILER)
    raised = ScriptReport(targets=(TargetResult("Net", scripted=True, called=False),), diagnostics=(Diagnostic(
        DiagnosticKind.CALL_FAILED, "AttributeError: no attribute 'bucket'", None, target="Net"),),
        observations=(_SEEN,))
    before = ScriptReport(targets=FAILING.targets, diagnostics=FAILING.diagnostics, observations=(_SEEN,))
    assert _worse(raised, before, [ignore])
    assert not _worse(raised, before, [_fix(Source.PROBE)])  # no decorator: the old rule decides


YOLO_DETECT = '''\
import torch
from torch import nn


class Head(nn.Module):
    def __init__(self, nl=2):
        super().__init__()
        self.nl = nl
        self.m = nn.ModuleList([nn.Conv2d(3, 4, 1) for _ in range(nl)])

    def forward(self, x):
        for i in range(self.nl):
            conv = self.m[i]
            x[i] = conv(x[i])
        return x


def probe():
    return Head(), [([torch.randn(1, 3, 4, 4), torch.randn(1, 3, 2, 2)],)]
'''


def test_a_fix_the_rewrite_cannot_make_is_reported_with_why_not_as_backed_out(tmp_path: Path) -> None:
    """YOLOv5's `for i in range(self.nl): conv = self.m[i]`: TS012 rewrites `range(len(self.m))` loops
    and calls `self.m[i](...)` (through a helper), not an item taken out of the ModuleList."""
    from tsannotate.loop import Loop, Options
    from tsannotate.report import explain
    from tsannotate.worker import Worker

    path = tmp_path / "model.py"
    path.write_text(YOLO_DETECT)
    with Worker(timeout=60) as worker:
        outcome = Loop(str(path), worker, Options(max_passes=5)).run(YOLO_DETECT)
    declined = [(f, why) for p in outcome.passes for f, why in p.declined]
    assert [f.code for f, _ in declined] == ["TS012"] and "used other than called" in declined[0][1]
    assert not any(f.code == "TS012" for p in outcome.passes for f in p.backed_out)
    lines = "\n".join(explain(outcome))
    assert "not applied: TS012" in lines and "backed out: TS012" not in lines


def test_an_attribute_that_could_not_be_converted_and_its_classs_own_error_count_once() -> None:
    """The worker brings back why a held object's class failed (`box_coder`: BoxCoder's own error,
    reported under `Net.box_coder`): a fix that lets compilation reach it is progress, not two errors."""
    from tsannotate.loop import _badness

    conversion = Diagnostic(DiagnosticKind.ATTRIBUTE_CONVERSION, "Module 'Net' has no attribute 'box_coder'",
                            Location("/m.py", 20), symbol="box_coder", target="Net")
    cause = Diagnostic(DiagnosticKind.UNKNOWN, "Tensor (inferred) cannot be used as a tuple", Location("/m.py", 9),
                       target="Net.box_coder")
    reached = ScriptReport(targets=FAILING.targets, diagnostics=(conversion, cause))
    assert _badness(reached) == _badness(FAILING)
    assert not _worse(reached, FAILING, [_fix(Source.PROBE)])
    unrelated = replace(cause, target="Net")
    assert _badness(ScriptReport(targets=FAILING.targets, diagnostics=(conversion, unrelated)))[2] == 2


KWARGS_AFTER_A_FIX = '''\
import torch
from torch import nn


class Block(nn.Module):
    def forward(self, x, context=None, scale=1.0, **kwargs):
        if context is not None:
            x = x + context
        return x * scale


def probe():
    return Block(), [(torch.ones(2),), (torch.ones(2), torch.ones(2), 2.0)]
'''


def test_advice_is_given_once_per_line_at_the_users_column(tmp_path: Path) -> None:
    """A pass after the annotations sees `**kwargs` further right on the same line: the advice is
    the first pass's, at the column of the file as the user has it, and not repeated."""
    from tsannotate.loop import Loop, Options
    from tsannotate.worker import Worker

    path = tmp_path / "model.py"
    path.write_text(KWARGS_AFTER_A_FIX)
    with Worker(timeout=60) as worker:
        outcome = Loop(str(path), worker, Options(max_passes=5)).run(KWARGS_AFTER_A_FIX)
    kwargs = [f for f in outcome.advice if "**kwargs" in f.title]
    assert len(kwargs) == 1 and kwargs[0].location is not None
    line = KWARGS_AFTER_A_FIX.splitlines()[kwargs[0].location.line - 1]
    assert line[kwargs[0].location.column - 1:].startswith("**kwargs")
