"""Shared lookups for rules: which function a diagnostic is about, how to spell a type."""

from __future__ import annotations

from collections.abc import Iterator

from tsannotate import tstypes
from tsannotate.records import (
    Annotation,
    AttributeAssignment,
    Diagnostic,
    Evidence,
    FunctionFacts,
    LocalAssignment,
    Location,
    Observation,
    Role,
    ParamFacts,
    Source,
    SourceIndex,
)
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
        # TorchScript names an inherited method after the subclass; trust that name for a
        # diagnostic about one of its parameters (others are placed by their location below)
        owner = diag.function.rsplit(".", 1)[0] if "." in diag.function else diag.owner
        found = inherited(source, owner, bare) if owner else None
        if found and diag.symbol and found.param(diag.symbol):
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


def inherited(source: SourceIndex, class_name: str, method: str, seen: tuple[str, ...] = ()) -> FunctionFacts | None:
    """`RNN.permute_hidden` as TorchScript names it, when the file defines it on a base class
    (`class RNN(RNNBase)`, `RNNBase.permute_hidden`): the nearest definition up the bases."""
    cls = source.cls(class_name)
    if cls is None or class_name in seen:
        return None
    for base in (b.rsplit(".", 1)[-1] for b in cls.bases):
        found = source.function(f"{base}.{method}") or inherited(source, base, method, (*seen, class_name))
        if found:
            return found
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


def place(diag: Diagnostic, func: FunctionFacts | None, source: SourceIndex) -> Location | None:
    """Where a fix points: the compiler's location, else the function's `def` line (call-time
    errors raised at the call boundary carry none)."""
    if diag.location is not None or func is None:
        return diag.location
    return Location(source.path, func.first_line)


def cite(diag: Diagnostic) -> str:
    """The evidence of a fix's reason: what the compiler said (the fix's location says where)."""
    return diag.message


# --------------------------------------------------------------------------- runtime evidence

_UNCOMPILED = ("ignore", "unused")


def compiled_functions(source: SourceIndex) -> list[FunctionFacts]:
    """Functions TorchScript may compile: everything but @torch.jit.ignore/unused ones."""
    return [f for f in source.functions
            if not any(d.rsplit(".", 1)[-1] in _UNCOMPILED for d in f.decorators)]


def observed_type(obs: Observation | None) -> TSType | None:
    """What the probe saw, when it is one TorchScript type (Unknown elements excluded)."""
    if obs is None or not obs.type:
        return None
    t = tstypes.try_parse(obs.type)
    if t is None or not tstypes.is_expressible(t):
        return None
    return t


def without_none(t: TSType) -> TSType:
    """Optional[T] → T; anything else unchanged."""
    return t.args[0] if t.is_optional and t.args else t


def takes(wanted: TSType, seen: TSType) -> bool:
    """Every value of type `seen` is a valid `wanted` too (a float takes an int, Optional[T] None)."""
    if wanted == seen or (wanted == TSType("float") and seen == TSType("int")):
        return True
    if wanted.is_optional and wanted.args:
        return seen.is_none or takes(wanted.args[0], without_none(seen))
    return wanted.name == seen.name == "Tuple" and len(wanted.args) == len(seen.args) \
        and all(takes(w, t) for w, t in zip(wanted.args, seen.args))


def first_assignments(source: SourceIndex) -> list[LocalAssignment]:
    """Each local's first assignment in its function (source order), unannotated ones only."""
    seen: set[tuple[str, str]] = set()
    firsts: list[LocalAssignment] = []
    for a in sorted(source.locals, key=lambda a: (a.function, a.line)):
        key = (a.function, a.name)
        if key in seen:
            continue
        seen.add(key)
        if not a.annotated:
            firsts.append(a)
    return firsts


def evidence_of(obs: Observation) -> Source:
    """PROBE for what the eager run saw, STATIC for what mypy inferred."""
    return Source.STATIC if obs.static else Source.PROBE


def saw(obs: Observation, t: TSType) -> str:
    """The evidence line of a fix from the probe (or, for a static observation, from mypy)."""
    if obs.static:
        sites = f"{obs.count} call site{'s' if obs.count != 1 else ''}"
        what = {"arg": f"`{obs.name}` is passed {t} at the {sites} of {obs.qualname} in this file",
                "local": f"local `{obs.name}` as {t} in {obs.qualname}",
                "attr": f"attribute `{obs.name}` of {obs.qualname} as {t}",
                "return": f"{obs.qualname} returns {t}"}[obs.role.value]
        return f"mypy infers {what}; {obs.note or 'no runtime value was seen'}"
    calls = f"{obs.count} value{'s' if obs.count != 1 else ''}"
    what = {"arg": f"passed `{obs.name}`", "local": f"left local `{obs.name}`",
            "attr": f"left attribute `{obs.name}`", "return": "returned"}[obs.role.value]
    return f"the probe run {what} as {t} ({calls} seen in {obs.qualname})"


def init_attributes(source: SourceIndex) -> list[AttributeAssignment]:
    """`self.x = ...` in a class's own `__init__`, for attributes the class body does not
    already annotate."""
    out = []
    for a in source.attributes:
        cls = source.cls(a.class_name)
        if a.function == f"{a.class_name}.__init__" and cls is not None and cls.annotation(a.attr) is None:
            out.append(a)
    return out


def observed_params(evidence: Evidence) -> Iterator[tuple[FunctionFacts, ParamFacts, Observation, TSType]]:
    """Each unannotated, non-star parameter of a compiled function with what was seen in it."""
    for func in compiled_functions(evidence.source):
        for param in func.params:
            if param.annotation is not None or param.star:
                continue
            obs = evidence.observed(func.qualname, param.name, Role.ARG)
            seen = observed_type(obs)
            if obs is not None and seen is not None:
                yield func, param, obs, seen
