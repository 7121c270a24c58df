"""TS001, handed on: a parameter this pass makes `Optional[T]` (or a local that is `A if c else
None`) that its function passes, as it is and with no None test guarding the call, to an
unannotated parameter of a helper in this file.

`forward(self, x, padding=None)` becomes `padding: Optional[Tensor] = None`; `forward` calls
`self.merge_masks(padding, lengths)` under `if fused:`, which no probe input set, so the probe
never saw `merge_masks` run. TorchScript now passes an `Optional[Tensor]` into a parameter it
takes for a plain `Tensor`, and the next pass would fail with "Expected a value of type 'Tensor'
for argument 'padding' but instead found type 'Optional[Tensor]'". The helper's parameter gets
`Optional[Tensor]` in this pass, as the compiler would ask in the next one. Likewise `lengths = self.count(mask) if mask is not None else None` passed to
`self.pool(x, lengths)` in a branch the probe never took: `_optional_locals`.

Only to a helper written for None: one that compares the parameter with None, or hands it on to
one that does (`handles_none`); a helper that uses it as a T would only move the error inside it.
Not handed on where TorchScript may already have refined the value (`self.count(mask) if mask
is not None else None`, after `if mask is None: return x`: see `source_narrowing`) or where
the function rebinds the name; nor to a parameter the user annotated, or whose probe values
an `Optional[T]` would not take; a helper's parameter this pass types `T` becomes `Optional[T]`.
Fix safety: safe — annotations do not change eager behaviour.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from tsannotate import tstypes
from tsannotate.records import (
    AnnotateParam,
    Evidence,
    Fix,
    FunctionFacts,
    LocalAssignment,
    Location,
    ParamFacts,
    Role,
    Source,
    SourceIndex,
)
from tsannotate.rules._bool_params import bound, callee_of
from tsannotate.rules._common import Reach, annotation, observed_type, takes, usable, without_none
from tsannotate.rules._value_type import value_type
from tsannotate.tstypes import TSType

CODE = "TS001"

Slot = tuple[str, ...]


def follow(evidence: Evidence, chosen: dict[Slot, Fix]) -> Iterator[tuple[Slot, Fix]]:
    """The fixes that hand this pass's Optional parameters on: (slot, fix), a slot already
    chosen only when its fix says `T` where `Optional[T]` is handed on (the fix replaces it)."""
    source = evidence.source
    work: list[tuple[FunctionFacts, str, TSType]] = []
    for fix in chosen.values():
        edit = fix.edit
        if isinstance(edit, AnnotateParam) and (func := source.function(edit.function)) is not None:
            t = usable(edit.annotation.text)
            if t is not None and t.is_optional and t.args and not without_none(t).is_none:
                work.append((func, edit.param, t))
    done = {(func.qualname, name) for func, name, _ in work}
    after: dict[tuple[str, str], int] = {}  # (function, local) -> the line it is assigned on
    values: dict[tuple[str, str], str] = {}  # (function, local) -> what it holds besides None
    optional_locals = list(_optional_locals(evidence, chosen))
    for func, local, wanted in optional_locals:
        after[(func.qualname, local.name)] = local.line
        values[(func.qualname, local.name)] = local.beside_none
    work.extend((func, local.name, wanted) for func, local, wanted in optional_locals)
    while work:
        func, name, wanted = work.pop(0)
        for call in (c for c in source.calls if c.function == func.qualname):
            callee = callee_of(source, func, call.callee)
            if callee is None or source.narrowed(func.qualname, name, call.line) \
                    or call.line <= after.get((func.qualname, name), 0):
                continue
            for param, value in bound(callee, call):
                key = (callee.qualname, param.name)
                if value.strip() != name or param.annotation is not None or param.star or key in done:
                    continue
                slot: Slot = ("param", callee.qualname, param.name)
                ann = annotation(wanted, source)
                existing = chosen.get(slot)
                if existing is not None and not _widens(existing, wanted):
                    continue  # the same Optional already, or another type: that fix stands
                seen = observed_type(evidence.observed(callee.qualname, param.name, Role.ARG))
                if seen is not None and not takes(wanted, seen):
                    continue  # the probe saw the helper take something else
                if not handles_none(source, callee, param.name, frozenset()):
                    continue  # it uses the value as a T: the caller's code is what must test for None
                done.add(key)
                held = values.get((func.qualname, name))
                now = f" (None or `{held}`: {ann.text})" if held else f", now {ann.text},"
                reason = (f"{func.qualname} passes its `{name}`{now} on as it is to `{param.name}`, "
                          f"with no None test guarding the call; a plain "
                          f"{without_none(wanted)} parameter cannot take None, so the scripted call would not compile")
                if existing is not None:
                    reason += f" ({existing.reason})"
                yield slot, Fix(CODE, f"annotate parameter `{param.name}` of {callee.qualname} as {ann.text}",
                                reason, AnnotateParam(callee.qualname, param.name, ann),
                                evidence=Source.SOURCE, location=Location(source.path, call.line))
                work.append((callee, param.name, wanted))


def _optional_locals(evidence: Evidence, chosen: dict[Slot, Fix]
                     ) -> Iterator[tuple[FunctionFacts, LocalAssignment, TSType]]:
    """Locals that are `A if c else None` (or `None if c else A`), bound nowhere else in their
    compiled function, with `A`'s type plain from the evidence (`_value_type`): `lengths =
    self.count(mask) if mask is not None else None` is an `Optional[Tensor]` when `self.count`'s
    forward returns a Tensor. Handed on like an Optional parameter, they reach a helper the probe
    never ran in the same pass, where the compiler would name them one pass later.

    Only in a model that fails (one that compiles has compiled its calls), and not when `c` tests
    a parameter that is no Optional after this pass: TorchScript decides `mask is not None` when
    compiling if `mask` is a plain Tensor (an unannotated `mask=None`), and the local is then a
    Tensor."""
    if not evidence.diagnostics:
        return
    source = evidence.source
    reach = Reach.of(evidence)
    bindings = Counter((a.function, a.name) for a in source.locals)
    for local in source.locals:
        func = source.function(local.function)
        if not local.beside_none or local.annotated or bindings[(local.function, local.name)] != 1 \
                or func is None or func.param(local.name) is not None or local.function not in reach.reached:
            continue
        tested = _none_tested(local.beside_none_test)
        param = func.param(tested) if tested else None
        if param is not None and not _optional_after(param, func, chosen):
            continue
        t = value_type(evidence, func, local.beside_none)
        if t is not None and not t.is_none and not t.is_optional:
            yield func, local, tstypes.optional(t)


def _none_tested(test: str) -> str:
    """`mask` of `mask is not None` / `mask is None` (parenthesised or not), else ""."""
    text = test.strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    for suffix in (" is not None", " is None"):
        if text.endswith(suffix) and text[: -len(suffix)].strip().isidentifier():
            return text[: -len(suffix)].strip()
    return ""


def _optional_after(param: ParamFacts, func: FunctionFacts, chosen: dict[Slot, Fix]) -> bool:
    """Is `param` an Optional once this pass's fixes are in: annotated so, or made so now?"""
    fix = chosen.get(("param", func.qualname, param.name))
    text = fix.edit.annotation.text if fix is not None and isinstance(fix.edit, AnnotateParam) else param.annotation
    t = usable(text) if text else None
    return t is not None and (t.is_optional or t.is_none)


def handles_none(source: SourceIndex, func: FunctionFacts, name: str, seen: frozenset[tuple[str, str]],
                 passed_elsewhere: bool = False) -> bool:
    """`func` is written for a None in its parameter `name`: it compares it with None (`if padding
    is None: return extra`), or hands it on, unguarded, to a helper that is. A helper that uses
    the value as a T (`self.max_len = seq_len`) would only move the compiler's error inside it,
    where the caller's own `assert seq_len is not None` (the advice it gets) would then leave a
    wrong `Optional` behind.

    With `passed_elsewhere` (the compiler has already said the helper is passed an Optional), also
    a helper that hands it on to code outside this file, which may well take None: torch's
    `Conv2d._conv_forward(input, weight, bias)` gives `bias` to F.conv2d, fairseq's layer gives
    `key_padding_mask=...` to MultiheadAttention. Only a helper that uses the value itself and
    passes it nowhere (FT-Transformer's tokenizer: `x[..., None]`) is left to the caller."""
    if (func.qualname, name) in seen:
        return False
    if source.tests_for_none(func.qualname, name):
        return True
    seen = seen | {(func.qualname, name)}
    for call in (c for c in source.calls if c.function == func.qualname):
        if source.narrowed(func.qualname, name, call.line):
            continue
        callee = callee_of(source, func, call.callee)
        if callee is None:
            if passed_elsewhere and any(value.strip() == name for value in (*call.args, *dict(call.keywords).values())):
                return True
            continue
        if any(value.strip() == name and param.annotation is None and not param.star
               and handles_none(source, callee, param.name, seen, passed_elsewhere)
               for param, value in bound(callee, call)):
            return True
    return False


def _widens(existing: Fix, wanted: TSType) -> bool:
    """`existing` annotates the parameter `T`, which `Optional[T]` widens."""
    edit = existing.edit
    if not isinstance(edit, AnnotateParam):
        return False
    t = usable(edit.annotation.text)
    return t is not None and not t.is_optional and t == without_none(wanted)
