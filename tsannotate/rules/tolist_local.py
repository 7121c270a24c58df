"""TS014 — the type of `tensor.tolist()`'s result, on the local it is assigned to.

What it does: `seq = best.tolist()` → `seq: List[int] = best.tolist()`, with the type the probe
saw the local hold (a List of int, float or bool, nested once per dimension; a 0-d tensor's int,
float or bool). Where the probe saw nothing, where the result is not assigned to a plain local
(`for v in t.tolist():`, `return t.tolist()`, `f(t.tolist())`, `t.tolist()[0]`), or where the
local was assigned before: advice naming the annotation or the `torch.jit.annotate(T, ...)` to
write. A call of the fixed model that then fails because the tensor's dtype is not the one the
annotation says ("must match for tolist(): Long vs Int") gets advice to convert the tensor.
Why: TorchScript cannot know what `tolist()` returns (the element type and the nesting depend
on the tensor's dtype and dimension at run time): "Expected type hint for result of tolist()".
It checks the annotation against the tensor when the call runs: `List[int]` takes an int64
tensor only, `List[float]` a float32 or float64 one, `List[bool]` a bool one.
Fix safety: safe — an annotation does not change eager behaviour; the scripted model is called
on the probe inputs, which catches a dtype the annotation does not take.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tsannotate.records import (
    AnnotateLocal,
    Diagnostic,
    DiagnosticKind,
    Evidence,
    Fix,
    FunctionFacts,
    Location,
    Role,
    Safety,
    SourceIndex,
)
from tsannotate.rules._common import (
    Reach,
    annotation,
    cite,
    evidence_of,
    function_of,
    observed_type,
    place,
    saw,
)
from tsannotate.tstypes import TSType

CODE = "TS014"
_ELEMENTS = ("int", "float", "bool")
_CALL = re.compile(r"\(`(?P<call>.+)`\)$")
_DTYPE = re.compile(r"must match for tolist\(\): (?P<wanted>\w+) vs (?P<got>\w+)")
_CONVERT = {"Long": ("int64", ".long()"), "Double": ("float32 or float64", ".float()"),
            "Float": ("float32 or float64", ".float()"), "Bool": ("bool", ".bool()")}
_FORMS = ("`List[int]` for a 1-d int64 tensor, `List[float]` for float32/float64, `List[bool]` for bool, one "
          "`List[...]` per dimension (`List[List[int]]` for 2-d), `int`/`float`/`bool` for a 0-d tensor")


def fixes(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    hinted: list[Diagnostic] = []
    for diag in evidence.diagnostics:
        if diag.kind is DiagnosticKind.TOLIST_HINT:
            hinted.append(diag)
            yield _fix(diag, evidence)
        elif diag.kind is DiagnosticKind.CALL_FAILED and "for tolist()" in diag.message:
            yield _dtype_advice(diag, source)
    if hinted:
        yield from _the_others(evidence, hinted[0])


def _the_others(evidence: Evidence, diag: Diagnostic) -> Iterator[Fix]:
    """Every other `name = t.tolist()` in compiled code, typed in the same pass: the compiler asks
    for one hint at a time (CTC decoding's `paths = best.tolist()`, then `frames = lengths.tolist()`
    a pass later). Only a local whose first assignment holds the call and that the probe saw as a
    List (a 0-d tensor's scalar could be anything computed from the call); what is not the whole
    value (`t.tolist()[1:]`) keeps the compiler's question, which TS014 then answers with advice."""
    source = evidence.source
    reach = Reach.of(evidence)
    asked = diag.location.line if diag.location is not None else None
    for call in source.calls:
        if not call.callee.endswith(".tolist") or call.args or call.keywords or call.line == asked:
            continue
        func = source.function(call.function)
        if func is None or not reach.compiles(func.qualname):
            continue
        assigned = [a for a in source.locals if a.function == func.qualname and a.line == call.line and not a.annotated]
        if len(assigned) != 1 or _first_assignment_line(source, func, assigned[0].name) != call.line:
            continue
        name = assigned[0].name
        obs = evidence.observed(func.qualname, name, Role.LOCAL)
        seen = observed_type(obs)
        if obs is None or obs.static or seen is None or seen.name != "List" or not tolist_type(seen):
            continue
        ann = annotation(seen, source)
        yield Fix(CODE, f"annotate local `{name}` in {func.qualname} as {ann.text}",
                  f"`{call.callee}()` needs a type hint too (the compiler asks for one at a time: {cite(diag)}); "
                  f"{saw(obs, seen)}", AnnotateLocal(func.qualname, name, ann),
                  evidence=evidence_of(obs), location=Location(source.path, call.line))


def tolist_type(t: TSType) -> bool:
    """A type `tolist()`'s result can be annotated with: int/float/bool in as many Lists as the
    tensor has dimensions."""
    while t.name == "List" and len(t.args) == 1:
        t = t.args[0]
    return t.name in _ELEMENTS and not t.args


def _fix(diag: Diagnostic, evidence: Evidence) -> Fix:
    source = evidence.source
    func = function_of(diag, source)
    call = _call(diag)
    name = diag.symbol
    if func is None or name is None:
        return _advice(diag, func, source, call, None, "the result is not assigned to a local")
    first = _first_assignment_line(source, func, name)
    if diag.location is None or first != diag.location.line:
        why = (f"`{name}` is assigned before this line; TorchScript reads the type on the assignment "
               f"of the tolist() call" if first is not None and diag.location is not None
               and first < diag.location.line else f"the assignment to `{name}` was not found")
        return _advice(diag, func, source, call, name, why)
    obs = evidence.observed(func.qualname, name, Role.LOCAL)
    seen = observed_type(obs)
    if obs is None or seen is None or not tolist_type(seen):
        why = (f"the probe saw `{name}` as {obs.type or obs.note}" if obs is not None and (obs.type or obs.note)
               else f"the probe did not see `{name}`")
        return _advice(diag, func, source, call, name, why)
    ann = annotation(seen, source)
    return Fix(CODE, f"annotate local `{name}` in {func.qualname} as {ann.text}",
               f"{cite(diag)}; {saw(obs, seen)}", AnnotateLocal(func.qualname, name, ann),
               evidence=evidence_of(obs), location=place(diag, func, source))


def _advice(diag: Diagnostic, func: FunctionFacts | None, source: SourceIndex, call: str, name: str | None,
            why: str) -> Fix:
    example = f"`{name}: List[int] = {call}`" if name else f"`torch.jit.annotate(List[int], {call})` where it is used"
    other = ("" if not name else f", or `torch.jit.annotate(List[int], {call})`")
    where = f" in {func.qualname}" if func is not None else ""
    return Fix(CODE, f"type the result of {call}{where}",
               f"write the type of tolist()'s result: {example}{other} — {_FORMS}; {why} — the compiler said: "
               f"{cite(diag)}", None, safety=Safety.DISPLAY_ONLY, location=place(diag, func, source))


def _dtype_advice(diag: Diagnostic, source: SourceIndex) -> Fix:
    m = _DTYPE.search(diag.message)
    wanted = _CONVERT.get(m.group("wanted")) if m else None
    todo = (f"the annotation takes only a tensor of dtype {wanted[0]}, and this one is {m.group('got')}: convert it "
            f"first (`{wanted[1]}.tolist()`)"
            if m and wanted else "match the annotation to the tensor: " + _FORMS)
    func = function_of(diag, source)
    location = place(diag, func, source)
    calls = [c for c in source.calls if c.callee.endswith(".tolist")]
    if len(calls) > 1:  # those of the target that failed
        calls = [c for c in calls if c.function == diag.target or c.function.startswith(f"{diag.target}.")]
    if location is None and len(calls) == 1:  # the interpreter names no line: the one tolist() there is
        location = Location(source.path, calls[0].line)
    return Fix(CODE, "convert the tensor before tolist()", f"{todo} — the scripted call said: {diag.message}",
               None, safety=Safety.DISPLAY_ONLY, location=location)


def _call(diag: Diagnostic) -> str:
    m = _CALL.search(diag.message)
    return m.group("call") if m else "t.tolist()"


def _first_assignment_line(source: SourceIndex, func: FunctionFacts, name: str) -> int | None:
    lines = [a.line for a in source.locals if a.function == func.qualname and a.name == name]
    return min(lines) if lines else None

