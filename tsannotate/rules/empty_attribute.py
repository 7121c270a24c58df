"""TS006 — class-level annotation for an attribute that is an empty list or dict.

What it does: `self.names = []` in `__init__` → a class-level `names: List[Tensor]` first
(TorchScript's own default element type); if the model then uses other elements, the next
pass's compiler error ("Could not match type str to t ... previously matched to type
Tensor" on `self.names`) makes TS004 replace it with the real element type.
Why: TorchScript infers module attribute types from their values, and an empty list or
dict has no element to infer from ("failed to convert Python type: 'list' ... Its type
was inferred; try adding a type annotation for the attribute").
Fix safety: safe — class-level annotations do not change eager behaviour.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from tsannotate.records import AnnotateAttribute, DiagnosticKind, Evidence, Fix, Location, Role, ValueKind, Source
from tsannotate.rules._common import Reach, annotation, cite, evidence_of, function_of, init_attributes, observed_type, saw
from tsannotate.tstypes import TENSOR, TSType

CODE = "TS006"
_DEFAULTS = {
    ValueKind.EMPTY_LIST: TSType("List", (TENSOR,)),
    ValueKind.EMPTY_DICT: TSType("Dict", (TSType("str"), TENSOR)),
}


def fixes(evidence: Evidence) -> Iterator[Fix]:
    yield from _from_probe(evidence)
    yield from _from_compiler(evidence)


def _from_probe(evidence: Evidence) -> Iterator[Fix]:
    """An attribute that `__init__` sets to `[]`/`{}`, with the element types the probe saw."""
    source = evidence.source
    reach = Reach.of(evidence)
    for a in init_attributes(source):
        if a.value not in _DEFAULTS:
            continue
        obs = evidence.observed(a.class_name, a.attr, Role.ATTR)
        seen = observed_type(obs)
        if obs is None or seen is None or seen.name != _DEFAULTS[a.value].name or not reach.class_counts(a.class_name, obs):
            continue
        ann = annotation(seen, source)
        yield Fix(CODE, f"annotate attribute `{a.attr}` of {a.class_name} as {ann.text}",
                  saw(obs, seen) + "; TorchScript cannot infer an empty container's type",
                  AnnotateAttribute(a.class_name, a.attr, ann), evidence=evidence_of(obs), location=Location(source.path, a.line))


_NONEXISTENT = re.compile(r"^Tried to set nonexistent attribute: (?P<attr>\w+)\.?$")


def _from_compiler(evidence: Evidence) -> Iterator[Fix]:
    """The compiler could not type an empty-container attribute: "failed to convert Python type:
    'list'", or, when a method assigns it again (N-BEATS' `self._intermediary_outputs = []` in
    forward), "Tried to set nonexistent attribute": TorchScript dropped the attribute it could not
    type, so the assignment finds none."""
    source = evidence.source
    for diag in evidence.diagnostics:
        unset = _NONEXISTENT.match(diag.message.strip())
        if unset is not None:
            diag = replace(diag, symbol=unset.group("attr"))
        elif diag.kind is not DiagnosticKind.ATTRIBUTE_CONVERSION or not diag.symbol:
            continue
        assert diag.symbol is not None
        func = function_of(diag, source)
        class_name = diag.owner if diag.owner and source.cls(diag.owner) else (
            func.class_name if func else None)
        if class_name is None:
            continue
        values = {a.value for a in source.attributes
                  if a.class_name == class_name and a.attr == diag.symbol}
        if len(values) != 1 or (value := values.pop()) not in _DEFAULTS:
            continue
        ann = annotation(_DEFAULTS[value], source)
        yield Fix(CODE, f"annotate attribute `{diag.symbol}` of {class_name} as {ann.text}",
                  cite(diag), AnnotateAttribute(class_name, diag.symbol, ann),
                  location=diag.location)
