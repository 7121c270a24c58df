"""TS014: the type of `tensor.tolist()`'s result, from the probe, on the local it is assigned to.

Evidence built by hand, as the worker reports it; the messages are the real ones
(fixtures/messages/tolist_*.txt), so each diagnostic here is what jit_messages parses them into.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from tsannotate import rules
from tsannotate.records import (
    AnnotateLocal,
    Diagnostic,
    DiagnosticKind,
    Evidence,
    Location,
    Observation,
    Role,
    Safety,
)
from tsannotate.rules import tolist_local
from tsannotate.source import index_source
from tsannotate.tstypes import parse

PATH = "/p/decode.py"
MODEL = dedent('''\
    import torch
    from torch import nn


    class Decoder(nn.Module):
        def forward(self, logits, lengths):
            best = logits.argmax(-1)
            paths = best.tolist()
            for n in lengths.tolist():
                pass
            seq = []
            seq = best[0].tolist()
            return paths, lengths.tolist()
    ''')
K = DiagnosticKind


def hint(line: int, column: int, symbol: str | None, call: str) -> Diagnostic:
    return Diagnostic(K.TOLIST_HINT, f"Expected type hint for result of tolist() (`{call}`)",
                      Location(PATH, line, column), symbol=symbol, target="Decoder")


def evidence(*diags: Diagnostic, observations: tuple[Observation, ...] = ()) -> Evidence:
    return Evidence(index_source(PATH, MODEL), diags, observations=observations)


def local(name: str, t: str) -> Observation:
    return Observation("Decoder.forward", name, Role.LOCAL, t, count=2)


def test_the_probes_list_type_goes_on_the_assigned_local() -> None:
    ev = evidence(hint(8, 16, "paths", "best.tolist()"), observations=(local("paths", "List[List[int]]"),))
    [fix] = rules.plan(ev)
    assert fix.code == "TS014" and fix.safety is Safety.SAFE
    assert isinstance(fix.edit, AnnotateLocal)
    edit = fix.edit
    assert (edit.function, edit.name, edit.annotation.text) == ("Decoder.forward", "paths", "List[List[int]]")
    assert "best.tolist()" in fix.reason and "List[List[int]]" in fix.reason
    assert fix.location == Location(PATH, 8, 16)


def test_without_the_probe_it_is_advice_naming_the_forms() -> None:
    [fix] = rules.plan(evidence(hint(8, 16, "paths", "best.tolist()")))
    assert fix.edit is None and fix.safety is Safety.DISPLAY_ONLY
    assert "`paths: List[int] = best.tolist()`" in fix.reason and "int64" in fix.reason
    assert "did not see `paths`" in fix.reason


def test_an_empty_or_mixed_observation_is_advice() -> None:
    for seen in ("List[Unknown]", "List[Tensor]", "List[str]", ""):
        [fix] = rules.plan(evidence(hint(8, 16, "paths", "best.tolist()"), observations=(local("paths", seen),)))
        assert fix.edit is None, seen


def test_a_loop_or_return_gets_the_jit_annotate_form() -> None:
    for line, call in ((9, "lengths.tolist()"), (13, "lengths.tolist()")):
        [fix] = rules.plan(evidence(hint(line, 17, None, call)))
        assert fix.edit is None and f"torch.jit.annotate(List[int], {call})" in fix.reason


def test_a_local_assigned_before_is_advice_not_an_annotation_of_the_first_assignment() -> None:
    ev = evidence(hint(12, 14, "seq", "best[0].tolist()"), observations=(local("seq", "List[int]"),))
    [fix] = [f for f in rules.plan(ev) if f.code == "TS014"]  # TS004 types `seq = []`: not enough
    assert fix.edit is None and "assigned before" in fix.reason


def test_the_dtype_the_annotation_does_not_take_is_advice_at_the_tolist_line() -> None:
    call = Diagnostic(K.CALL_FAILED, "Output annotation element type and runtime tensor element type must match "
                                     "for tolist(): Long vs Int", target="Decoder")
    fixes = [f for f in tolist_local.fixes(evidence(call))]
    assert [f.title for f in fixes] == ["convert the tensor before tolist()"]
    assert "`.long().tolist()`" in fixes[0].reason and fixes[0].edit is None
    assert fixes[0].location is None  # three tolist() calls: none is singled out


def test_tolist_types() -> None:
    for ok in ("int", "float", "bool", "List[int]", "List[List[float]]", "List[List[List[bool]]]"):
        assert tolist_local.tolist_type(parse(ok)), ok
    for bad in ("Tensor", "str", "List[Tensor]", "List[str]", "Optional[List[int]]", "Tuple[int, int]"):
        assert not tolist_local.tolist_type(parse(bad)), bad


def test_every_tolist_local_is_typed_in_the_pass_the_compiler_asks_for_the_first(tmp_path: Path) -> None:
    """CTC decoding's `paths = best.tolist()` and `frames = lengths.tolist()`: the compiler names
    one; the probe saw both; one pass, and the result is the golden expected.py."""
    import shutil

    from tsannotate.loop import Loop, Options
    from tsannotate.worker import Worker

    case = Path(__file__).resolve().parent.parent / "fixtures" / "cases" / "tolist_ctc_greedy_decode"
    path = tmp_path / "model.py"
    shutil.copyfile(case / "input.py", path)
    with Worker(timeout=60) as worker:
        outcome = Loop(str(path), worker, Options(max_passes=5)).run(path.read_text())
    assert outcome.scripts and len(outcome.passes) == 1
    assert outcome.final == (case / "expected.py").read_text()
