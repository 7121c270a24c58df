"""TS003 — class-level Optional annotation for an attribute that starts as None.

What it does: `self.cache = None` in `__init__`, `self.cache = x` in `forward` → a
class-level `cache: Optional[Tensor]` in the class body.
Why: TorchScript infers a module attribute's type from its value when the module is
scripted; None gives NoneType, and later assignments fail ("Wrong type for attribute
assignment. Expected NoneType but got Tensor"). Annotations written inside `__init__`
are ignored by TorchScript for module attributes, so the annotation goes on the class.
Fix safety: safe.
"""

from __future__ import annotations

from collections.abc import Iterator

from tsannotate import tstypes
from tsannotate.records import AnnotateAttribute, DiagnosticKind, Evidence, Fix, Location, Role, ValueKind, Source
from tsannotate.rules._common import (
    Reach,
    place,
    annotation,
    cite,
    function_of,
    init_attributes,
    observed_type,
    saw,
    evidence_of,
    value_beside_none,
    without_none,
)

CODE = "TS003"


def fixes(evidence: Evidence) -> Iterator[Fix]:
    yield from _from_compiler(evidence)
    yield from _from_probe(evidence)


def _from_probe(evidence: Evidence) -> Iterator[Fix]:
    """An attribute set to None in `__init__` that the probe saw holding a T. Not when the probe
    never saw it None (`self.cos_cached = None`, then `self._set_cache(n)` fills it before
    `__init__` returns): TorchScript types it by its value when the model is scripted, a T, and
    Optional would make every read need `is not None` refinement."""
    source = evidence.source
    reach = Reach.of(evidence)
    for a in init_attributes(source):
        if a.value is not ValueKind.NONE:
            continue
        obs = evidence.observed(a.class_name, a.attr, Role.ATTR)
        seen = observed_type(obs)
        if obs is None or seen is None or without_none(seen).is_none or (not obs.static and not seen.is_optional) \
                or not reach.class_counts(a.class_name, obs):
            continue
        ann = annotation(tstypes.optional(without_none(seen)), source)
        yield Fix(CODE, f"annotate attribute `{a.attr}` of {a.class_name} as {ann.text}",
                  saw(obs, seen) + ", but `__init__` sets it to None",
                  AnnotateAttribute(a.class_name, a.attr, ann), evidence=evidence_of(obs), location=Location(source.path, a.line))


def _from_compiler(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    for diag in evidence.diagnostics:
        if diag.kind is not DiagnosticKind.ATTRIBUTE_TYPE_CHANGED or not diag.symbol:
            continue
        value = value_beside_none(diag.types)
        if value is None:
            continue
        func = function_of(diag, source)
        class_name = diag.owner or (func.class_name if func else None)
        if class_name is None or source.cls(class_name) is None:
            continue
        ann = annotation(tstypes.optional(value), source)
        yield Fix(CODE, f"annotate attribute `{diag.symbol}` of {class_name} as {ann.text}",
                  cite(diag), AnnotateAttribute(class_name, diag.symbol, ann),
                  location=place(diag, func, source))
