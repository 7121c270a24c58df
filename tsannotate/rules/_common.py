"""Shared lookups for rules: which function a diagnostic is about, how to spell a type."""

from __future__ import annotations

from tsannotate import tstypes
from tsannotate.records import Annotation, Diagnostic, FunctionFacts, SourceIndex
from tsannotate.tstypes import TSType


def function_of(diag: Diagnostic, source: SourceIndex) -> FunctionFacts | None:
    """The function in this file a diagnostic is about, or None when it is elsewhere."""
    if diag.function:
        found = source.function(diag.function)
        if found:
            return found
        bare = diag.function.rsplit(".", 1)[-1]
        if diag.owner:
            found = source.function(f"{diag.owner}.{bare}")
            if found:
                return found
    if diag.location and _same_file(diag.location.path, source.path):
        return source.function_at(diag.location.line)
    if diag.function:
        bare = diag.function.rsplit(".", 1)[-1]
        named = [f for f in source.functions if f.name == bare]
        preferred = [f for f in named if f.class_name == diag.target]
        if len(preferred) == 1:
            return preferred[0]
        if len(named) == 1:
            return named[0]
    return None


def _same_file(a: str, b: str) -> bool:
    return a == b or a.endswith("/" + b.lstrip("./")) or b.endswith("/" + a.lstrip("./"))


def annotation(t: TSType, source: SourceIndex) -> Annotation:
    return tstypes.render(t, source.style)


def usable(text: str | None) -> TSType | None:
    """Parse a type the compiler named, if it is one an annotation can say."""
    if not text:
        return None
    t = tstypes.try_parse(text)
    if t is None or not tstypes.is_expressible(t):
        return None
    return t


def value_beside_none(types: tuple[str, ...]) -> TSType | None:
    """For a (before, after) pair where one side is NoneType, the other side's type,
    if an annotation can say it: ("NoneType", "Tensor") → Tensor."""
    if len(types) != 2:
        return None
    before, after = (tstypes.try_parse(t) for t in types)
    if before is None or after is None or before.is_none == after.is_none:
        return None
    value = after if before.is_none else before
    return value if tstypes.is_expressible(value) else None


def cite(diag: Diagnostic) -> str:
    """The evidence of a fix's reason: what the compiler said (the fix's location says where)."""
    return diag.message
