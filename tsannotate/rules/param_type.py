"""TS005 — the real type of a parameter TorchScript assumed to be a Tensor.

What it does: `def forward(self, x, n)` with `range(n)`, or a probe that passes an int,
→ `n: int`; `helper(a, b)` called
with floats → `a: float, b: float`; `b=2` → `b: int = 2`; a parameter defaulting to None
gets `Optional[T]`.
Why: TorchScript assumes every unannotated parameter is a Tensor ("Tensor (inferred)").
Fix safety: safe — annotations do not change eager behaviour.
"""

from __future__ import annotations

from collections.abc import Iterator

from tsannotate import tstypes
from tsannotate.records import (
    AnnotateParam,
    Diagnostic,
    DiagnosticKind,
    Evidence,
    Fix,
    FunctionFacts,
    Location,
    ValueKind,
)
from tsannotate.rules._common import (
    observed_params,
    place,
    annotation,
    cite,
    function_of,
    saw,
    evidence_of,
    usable,
    without_none,
)
from tsannotate.tstypes import TSType

CODE = "TS005"
_KINDS = (DiagnosticKind.INFERRED_TENSOR, DiagnosticKind.DEFAULT_TYPE, DiagnosticKind.CALL_FAILED)
_DEFAULT_TYPES = {ValueKind.INT: "int", ValueKind.FLOAT: "float", ValueKind.BOOL: "bool",
                  ValueKind.STR: "str"}


def fixes(evidence: Evidence) -> Iterator[Fix]:
    yield from _from_compiler(evidence)
    yield from _from_probe(evidence)


def _from_probe(evidence: Evidence) -> Iterator[Fix]:
    """Every unannotated parameter the probe saw holding non-Tensor values."""
    source = evidence.source
    for func, param, obs, seen in observed_params(evidence):
        base = without_none(seen)
        if base == tstypes.TENSOR or base.is_none:
            continue  # Tensor is TorchScript's assumption; Optional[Tensor] is TS001's
        wanted = tstypes.optional(base) if (seen.is_optional or param.default_kind is ValueKind.NONE) else base
        ann = annotation(wanted, source)
        yield Fix(CODE, f"annotate parameter `{param.name}` of {func.qualname} as {ann.text}",
                  saw(obs, seen), AnnotateParam(func.qualname, param.name, ann),
                  evidence=evidence_of(obs), location=Location(source.path, func.first_line))


def _from_compiler(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    for diag in evidence.diagnostics:
        if diag.kind not in _KINDS or not diag.symbol:
            continue
        func = function_of(diag, source)
        if func is None:
            continue
        param = func.param(diag.symbol)
        if param is None or param.annotation is not None or param.star:
            continue
        wanted = _wanted_type(diag, func)
        if wanted is None:
            continue
        if param.default_kind is ValueKind.NONE:
            wanted = tstypes.optional(wanted)
        ann = annotation(wanted, source)
        yield Fix(CODE, f"annotate parameter `{param.name}` of {func.qualname} as {ann.text}",
                  cite(diag), AnnotateParam(func.qualname, param.name, ann),
                  location=place(diag, func, source))


def _wanted_type(diag: Diagnostic, func: FunctionFacts) -> TSType | None:
    param = func.param(diag.symbol or "")
    if diag.kind is DiagnosticKind.DEFAULT_TYPE:
        if param is None or param.default_kind is None:
            return None
        name = _DEFAULT_TYPES.get(param.default_kind)
        if name is None and param.default_kind is ValueKind.NONE:
            return tstypes.TENSOR
        return tstypes.TSType(name) if name else None
    if not diag.types:
        return None
    wanted = usable(diag.types[0])
    if wanted is None or wanted == tstypes.TENSOR or wanted.is_none:
        return None
    # A caller passes an Optional value (`self.merge(attn_mask)` with `attn_mask: Optional[Tensor]`):
    # the parameter must accept None even without a None default; `Tensor` alone would change nothing.
    return None if wanted.is_optional and wanted.args and wanted.args[0].is_none else wanted
