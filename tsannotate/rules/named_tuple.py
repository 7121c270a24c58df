"""TS013 — a `collections.namedtuple` TorchScript needs typed becomes a `typing.NamedTuple` class.

What it does: `Output = namedtuple("Output", ["logits", "count"])` →
`class Output(NamedTuple):` with `logits: torch.Tensor` and `count: int`, the field types the
probe saw in the namedtuples the model built (else the type the compiler found for the field it
names, and Tensor for the rest); an import of `namedtuple` nothing else uses goes. When an
already-typed field (a Tensor) is given something else, its annotation is corrected.
Why: TorchScript types every field of a `collections.namedtuple` as a Tensor ("Expected a value of
type 'Tensor (inferred)' for argument 'count' but instead found type 'int'"); a NamedTuple class
states the fields' types, and TorchScript compiles it.
Example: `return Output(self.head(x), x.size(0))` fails until `Output` is a class with `count: int`.
Fix safety: needs a decision — the same fields, order and tuple behaviour, but a code change: the
types it now states are checked by TorchScript (and type checkers); namedtuples built with
`defaults=`/`rename=` are left to the advice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tsannotate.records import (
    AnnotateAttribute,
    Diagnostic,
    Evidence,
    Fix,
    ImportName,
    NamedTupleClass,
    Safety,
    Source,
    SourceIndex,
)
from tsannotate.rules._common import annotation, usable
from tsannotate.tstypes import TENSOR, TSType, join, namedtuple_fields, optional

CODE = "TS013"
CONSEQUENCE = ("a code change: the same fields, order and tuple behaviour, but the types the class states are "
               "checked by TorchScript and type checkers")
_HEADER = re.compile(r"^(\w+)\((.*)\) -> \(\):$", re.M)  # a NamedTuple's constructor schema
_FOUND = re.compile(r"for argument '(\w+)' but instead found type '(.+?)'")


def fixes(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    done: set[str] = set()
    for diag in evidence.diagnostics:
        header = _HEADER.search(diag.raw)
        found = _FOUND.search(diag.message)
        if header is None or found is None or header.group(1) in done:
            continue
        name = header.group(1)
        field, wrong = found.group(1), usable(found.group(2))
        cls = source.cls(name)
        if cls is not None:  # already a class: correct the field the compiler names
            better = _corrected(cls.annotation(field) or "", wrong) if "NamedTuple" in " ".join(cls.bases) else None
            if better is not None:
                ann = annotation(better, source)
                done.add(name)
                yield Fix(CODE, f"annotate field `{field}` of {name} as {ann.text}",
                          f"{diag.message.rstrip('.')}; the compiler found {wrong} for it",
                          AnnotateAttribute(name, field, ann), location=diag.location)
            continue
        if source.function(name) is not None:
            continue
        done.add(name)
        yield _rewrite(evidence, diag, name, _names(header.group(2)), field, wrong)


def _corrected(current: str, wrong: TSType | None) -> TSType | None:
    """The type of a field annotated `current` (as this rule writes: a Tensor, the Tensor assumed for
    a field nothing was seen in, or None, a field first seen None) that was given `wrong`."""
    if wrong is None:
        return None
    if current.rsplit(".", 1)[-1] == "Tensor":
        return optional(TENSOR) if wrong.is_none else wrong
    if current == "None" and not wrong.is_none:
        return optional(wrong)
    return None


def _names(schema: str) -> list[str]:
    """`Tensor logits, Tensor count` → ["logits", "count"]."""
    return [part.rsplit(" ", 1)[-1] for part in re.split(r",\s*(?![^\[(]*[\])])", schema) if part.strip()]


def _rewrite(evidence: Evidence, diag: Diagnostic, name: str, names: list[str], field: str, wrong: TSType | None
             ) -> Fix:
    source = evidence.source
    seen: dict[str, TSType] = {}
    for o in evidence.observations:  # each note holds the first value seen there: join them all
        for key, t in (namedtuple_fields(o.note, name) or {}).items():
            seen[key] = join(seen[key], t) if key in seen else t
    types = {n: seen.get(n, TENSOR) for n in names}
    if wrong is not None:
        types[field] = wrong  # what the compiler found beats what the probe saw first
    rendered = {n: annotation(t, source) for n, t in types.items()}
    base, imports = _base(source)
    for ann in rendered.values():
        imports += ann.imports
    spelled = ", ".join(f"{n}: {t}" for n, t in types.items())
    how = (f"the probe saw {name}({spelled})" if seen else
           f"the compiler found {wrong} for `{field}`; the other fields are taken as Tensors, as the compiler did")
    return Fix(CODE, f"rewrite namedtuple {name} as a typing.NamedTuple class",
               f"{diag.message.rstrip('.')}; TorchScript takes every field of a collections.namedtuple for a Tensor, "
               f"so {name} becomes a NamedTuple class with typed fields ({how}): {CONSEQUENCE}",
               NamedTupleClass(name, tuple((n, a.text) for n, a in rendered.items()), base,
                               tuple(dict.fromkeys(imports))),
               safety=Safety.NEEDS_DECISION, location=diag.location,
               evidence=Source.PROBE if seen else Source.COMPILER)


def _base(source: SourceIndex) -> tuple[str, tuple[ImportName, ...]]:
    style = source.style
    if "NamedTuple" in style.typing_names or not style.typing_module:
        return "NamedTuple", (ImportName("typing", "NamedTuple"),)
    return f"{style.typing_module}.NamedTuple", ()
