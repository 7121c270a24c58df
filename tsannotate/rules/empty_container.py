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

from tsannotate.records import (
    AnnotateAttribute,
    AnnotateEmpty,
    DiagnosticKind,
    Evidence,
    Fix,
    FunctionFacts,
    SourceIndex,
    ValueKind,
)
from tsannotate.rules._common import annotation, cite, function_of, usable
from tsannotate.tstypes import TSType

CODE = "TS004"
_EMPTY = (ValueKind.EMPTY_LIST, ValueKind.EMPTY_DICT)
_KEYED = re.compile(r"^([A-Za-z_]\w*)\[(.+)\]$")


def fixes(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    for diag in evidence.diagnostics:
        if diag.kind is not DiagnosticKind.EMPTY_CONTAINER or not diag.symbol or not diag.types:
            continue
        wanted = usable(diag.types[0])
        func = function_of(diag, source)
        if wanted is None or func is None:
            continue
        for title, edit in _fixes_for(diag.symbol.strip(), wanted, func, source):
            yield Fix(CODE, title, cite(diag), edit, location=diag.location)


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
