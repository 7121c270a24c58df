"""TS004 — `torch.jit.annotate` for an empty list or dict that holds non-Tensors.

What it does: `out = []` then `out.append(n)` with an int → `out = torch.jit.annotate(List[int], [])`;
`d = {}` then `d["k"] = 1` → `torch.jit.annotate(Dict[str, int], {})`; in a dict literal of
empty lists, only the value the compiler complained about is wrapped. An empty container
attribute (`self.names = []` in `__init__`) gets a class-level annotation instead.
Why: TorchScript assumes an empty `[]` is `List[Tensor]` and `{}` is `Dict[str, Tensor]`.
Fix safety: safe — `torch.jit.annotate` returns its second argument unchanged in eager mode.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tsannotate import tstypes
from tsannotate.records import (
    Source,
    AnnotateAttribute,
    AnnotateEmpty,
    DiagnosticKind,
    Evidence,
    Fix,
    FunctionFacts,
    Location,
    Role,
    SourceIndex,
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
    usable,
)
from tsannotate.tstypes import TSType

CODE = "TS004"
_EMPTY = (ValueKind.EMPTY_LIST, ValueKind.EMPTY_DICT)
# What TorchScript assumes for `[]` / `{}` / a dict of `[]`s: no annotation needed.
_DEFAULTS = (TSType("List", (tstypes.TENSOR,)), TSType("Dict", (TSType("str"), tstypes.TENSOR)),
             TSType("Dict", (TSType("str"), TSType("List", (tstypes.TENSOR,)))))
_KEYED = re.compile(r"^([A-Za-z_]\w*)\[(.+)\]$")


def fixes(evidence: Evidence) -> Iterator[Fix]:
    yield from _from_compiler(evidence)
    yield from _from_probe(evidence)


def _from_probe(evidence: Evidence) -> Iterator[Fix]:
    """An empty `[]`/`{}` local the probe saw filled with non-Tensor elements."""
    source = evidence.source
    compiled = {f.qualname for f in compiled_functions(source)}
    reach = Reach.of(evidence)
    for first in first_assignments(source):
        if first.function not in compiled or first.value not in _EMPTY + (ValueKind.DICT_OF_EMPTY_LISTS,):
            continue
        obs = evidence.observed(first.function, first.name, Role.LOCAL)
        seen = observed_type(obs)
        if obs is None or seen is None or seen in _DEFAULTS or not reach.counts(first.function, obs):
            continue
        if first.value is ValueKind.EMPTY_LIST and seen.name == "List" or \
                first.value is ValueKind.EMPTY_DICT and seen.name == "Dict":
            ann = annotation(seen, source)
            yield Fix(CODE, f"annotate empty `{first.name}` in {first.function} as {ann.text}",
                      saw(obs, seen), AnnotateEmpty(first.function, first.name, ann),
                      evidence=evidence_of(obs), location=Location(source.path, first.line))
        elif first.value is ValueKind.DICT_OF_EMPTY_LISTS and seen.name == "Dict" and len(seen.args) == 2:
            ann = annotation(seen.args[1], source)
            for key in first.dict_keys:
                yield Fix(CODE, f"annotate `{first.name}[{key}]` in {first.function} as {ann.text}",
                          saw(obs, seen), AnnotateEmpty(first.function, first.name, ann, key=key),
                          evidence=evidence_of(obs), location=Location(source.path, first.line))


def _from_compiler(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    for diag in evidence.diagnostics:
        if diag.kind is not DiagnosticKind.EMPTY_CONTAINER or not diag.symbol or not diag.types:
            continue
        wanted = usable(diag.types[0])
        func = function_of(diag, source)
        if wanted is None or func is None:
            continue
        for title, edit in _fixes_for(diag.symbol.strip(), wanted, func, source):
            yield Fix(CODE, title, cite(diag), edit, location=place(diag, func, source))


def _fixes_for(symbol: str, wanted: TSType, func: FunctionFacts, source: SourceIndex
               ) -> list[tuple[str, AnnotateEmpty | AnnotateAttribute]]:
    ann = annotation(wanted, source)
    if symbol.startswith("self."):
        attr = symbol.removeprefix("self.")
        if not attr.isidentifier() or func.class_name is None:
            return []
        here = [a for a in source.attributes
                if a.function == func.qualname and a.attr == attr and a.value in _EMPTY]
        if here:
            return [(f"annotate empty `{symbol}` in {func.qualname} as {ann.text}",
                     AnnotateEmpty(func.qualname, symbol, ann))]
        return [(f"annotate attribute `{attr}` of {func.class_name} as {ann.text}",
                 AnnotateAttribute(func.class_name, attr, ann))]
    keyed = _KEYED.match(symbol)
    if keyed:
        # Every value of a dict literal must have one type, so when one key's empty list
        # needs a type, all of them do: annotating only the key the compiler names makes
        # the dict a Dict[str, Union[...]] and the error moves, it does not go away.
        name, key = keyed.group(1), keyed.group(2).strip()
        for a in source.locals:
            if (a.function == func.qualname and a.name == name
                    and a.value is ValueKind.DICT_OF_EMPTY_LISTS and key in a.dict_keys):
                return [(f"annotate `{name}[{k}]` in {func.qualname} as {ann.text}",
                         AnnotateEmpty(func.qualname, name, ann, key=k)) for k in a.dict_keys]
        return []
    if not symbol.isidentifier():
        return []
    for a in source.locals:
        if a.function == func.qualname and a.name == symbol and a.value in _EMPTY:
            return [(f"annotate empty `{symbol}` in {func.qualname} as {ann.text}",
                     AnnotateEmpty(func.qualname, symbol, ann))]
    return []
