"""TS002 — Optional for a local that starts as None and later holds a value.

What it does: `y = None` … `y = x * 2` → `y: Optional[Tensor] = None`.
Why: TorchScript types a local by its first assignment; `None` gives it NoneType, so
the later assignment is a type change ("Variable 'y' previously had type NoneType but is
now being assigned to a value of type Tensor").
Fix safety: safe — annotations do not change eager behaviour.
"""

from __future__ import annotations

from collections.abc import Iterator

from tsannotate import tstypes
from tsannotate.records import (
    Source,
    AnnotateLocal,
    AnnotateParam,
    DiagnosticKind,
    Evidence,
    Fix,
    Location,
    Observation,
    Role,
    ValueKind,
)
from tsannotate.rules._common import (
    Reach,
    place,
    annotation,
    cite,
    compiled_functions,
    first_assignments,
    function_of,
    observed_type,
    saw,
    evidence_of,
    value_beside_none,
    without_none,
)
from tsannotate.tstypes import TSType

CODE = "TS002"


def fixes(evidence: Evidence) -> Iterator[Fix]:
    yield from _from_compiler(evidence)
    yield from _from_probe(evidence)


def _from_probe(evidence: Evidence) -> Iterator[Fix]:
    """A local first assigned None that the probe saw holding a T at a return."""
    source = evidence.source
    compiled = {f.qualname for f in compiled_functions(source)}
    reach = Reach.of(evidence)
    for first in first_assignments(source):
        if first.value is not ValueKind.NONE or first.function not in compiled:
            continue
        obs = evidence.observed(first.function, first.name, Role.LOCAL)
        seen = observed_type(obs)
        if obs is None or seen is None or not reach.counts(first.function, obs):
            continue
        value = without_none(seen)
        if value.is_none:
            continue  # only ever None: nothing says what else it holds
        ann = annotation(tstypes.optional(value), source)
        yield Fix(CODE, f"annotate local `{first.name}` in {first.function} as {ann.text}",
                  saw(obs, seen) + ", but it starts as None",
                  AnnotateLocal(first.function, first.name, ann),
                  evidence=evidence_of(obs), location=Location(source.path, first.line))


def _from_compiler(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    for diag in evidence.diagnostics:
        if diag.kind is not DiagnosticKind.VARIABLE_TYPE_CHANGED or not diag.symbol:
            continue
        value = value_beside_none(diag.types)
        func = function_of(diag, source)
        if value is None or func is None:
            continue
        ann = annotation(tstypes.optional(value), source)
        param = func.param(diag.symbol)
        if param is not None:
            if param.annotation is None:
                yield Fix(CODE, f"annotate parameter `{diag.symbol}` of {func.qualname} as {ann.text}",
                          cite(diag), AnnotateParam(func.qualname, diag.symbol, ann),
                          location=place(diag, func, source))
            continue
        assigned = [a for a in source.locals if a.function == func.qualname and a.name == diag.symbol]
        if not assigned or _assumed_empty(value, evidence.observed(func.qualname, diag.symbol, Role.LOCAL)):
            continue
        yield Fix(CODE, f"annotate local `{diag.symbol}` in {func.qualname} as {ann.text}",
                  cite(diag), AnnotateLocal(func.qualname, diag.symbol, ann), location=place(diag, func, source))


def _assumed_empty(value: TSType, obs: Observation | None) -> bool:
    """The compiler's type is its guess for a later `[]`/`{}` (List[Tensor], Dict[str, Tensor])
    while the probe or mypy saw what the container holds: that evidence's fix says it better."""
    seen = observed_type(obs)
    return (value in (TSType("List", (tstypes.TENSOR,)), TSType("Dict", (TSType("str"), tstypes.TENSOR)))
            and seen is not None and without_none(seen).name == value.name and without_none(seen) != value)
