"""When the loop counts a pass as worse (and backs its fixes out): the decision alone, on the
reports the worker sends. The end-to-end behaviour is in the golden and CLI tests."""

from __future__ import annotations

from tsannotate.loop import _worse
from tsannotate.records import (
    AnnotateAttribute,
    Annotation,
    Diagnostic,
    DiagnosticKind,
    Fix,
    Location,
    ScriptReport,
    Source,
    TargetResult,
)

ERROR = Diagnostic(DiagnosticKind.UNSUPPORTED, "try blocks aren't supported", Location("/m.py", 9), target="Net")
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
