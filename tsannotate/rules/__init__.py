"""The fix rules, one per file, in the order they are consulted.

Each rule module exposes `CODE` and `fixes(evidence) -> Iterator[Fix]`: a pure function
from evidence (compiler diagnostics, compiled signatures, source facts) to proposals.
Only `rewrite.py` turns proposals into edits. When two rules propose different edits for
the same symbol, the earlier rule in `RULES` wins.
"""

from __future__ import annotations

from dataclasses import replace
from types import ModuleType

from tsannotate.records import (
    AnnotateAttribute,
    AnnotateEmpty,
    AnnotateLocal,
    AnnotateParam,
    AnnotateReturn,
    ConvertDtype,
    Decorate,
    Edit,
    EnumerateLoop,
    Evidence,
    Fix,
    FloatLiteral,
    FunctionalActivation,
    GuardBranch,
    IsinstanceTensor,
    NamedTupleClass,
    NoGradBlock,
    Source,
    WrapValue,
)
from tsannotate.rules import (
    _optional_passed_on,
    dtype_method,
    empty_attribute,
    empty_container,
    enumerate_loop,
    final_constant,
    float_literal,
    functional_activation,
    held_object,
    is_tensor,
    jit_ignore,
    jit_unused,
    module_list,
    named_tuple,
    no_grad,
    none_guard,
    none_default,
    optional_attribute,
    optional_local,
    param_type,
    refactor_advice,
    tolist_local,
)

RULES: tuple[ModuleType, ...] = (
    # Compiler errors first: each names a symptom exactly.
    optional_local,  # TS002
    optional_attribute,  # TS003
    empty_container,  # TS004 — before TS006: a named element type beats the default guess
    empty_attribute,  # TS006
    held_object,  # TS015 — a plain object a module holds: its class's `__init__` types (before TS005)
    tolist_local,  # TS014 — `seq = t.tolist()`: the type the probe saw, on the local
    param_type,  # TS005 — before TS001: an int parameter defaulting to None is Optional[int]
    final_constant,  # TS007 — after the type rules: a constant is the answer only when no type is
    none_guard,  # TS017 — after TS007: a flag's Final leaves the branch uncompiled, a guard is for the rest
    no_grad,  # TS021 — before TS008: `@torch.no_grad()` is why the method does not compile, not its body
    # Code that cannot compile: decorate the method that holds it (needs a decision), after Final,
    # which can make a flag's branch (and the helper it calls) drop out of compilation instead.
    jit_ignore,  # TS008
    jit_unused,  # TS009
    module_list,  # TS011 — mechanical refactors the compiler's message pins down (needs a decision)
    enumerate_loop,  # TS012
    named_tuple,  # TS013
    dtype_method,  # TS016
    is_tensor,  # TS018
    functional_activation,  # TS019
    float_literal,  # TS022
    # Evidence from compiled signatures (the model scripts but would fail when called).
    none_default,  # TS001
    # Display only, last: the refactor no annotation replaces.
    refactor_advice,  # TS020
)

def plan(evidence: Evidence) -> tuple[Fix, ...]:
    """Every rule's proposals, one per edited symbol, in rule order. When evidence
    disagrees (the compiler names one type, the probe saw another), the first proposal
    wins and its reason says what the other evidence suggested."""
    chosen: dict[tuple[str, ...], Fix] = {}
    for rule in RULES:
        for fix in rule.fixes(evidence):
            slot = _slot(fix.edit) if fix.edit is not None else (fix.code, fix.title)
            first = chosen.setdefault(slot, fix)
            if first is not fix and _disagree(first, fix):
                chosen[slot] = replace(first, reason=f"{first.reason} (the compiler and the probe "
                                                     f"disagree: {fix.reason})")
    for slot, fix in list(_optional_passed_on.follow(evidence, chosen)):
        chosen[slot] = fix  # a caller's new Optional, handed on to a helper (see the module)
    return tuple(chosen.values())


def _disagree(first: Fix, other: Fix) -> bool:
    """Runtime and compiler evidence name different types for one symbol."""
    kinds = {first.evidence, other.evidence}
    return kinds == {Source.COMPILER, Source.PROBE} and _annotation_of(first) != _annotation_of(other) \
        and "disagree" not in first.reason


def _annotation_of(fix: Fix) -> str:
    edit = fix.edit
    if isinstance(edit, Decorate):
        return edit.decorator
    if isinstance(edit, NamedTupleClass):
        return ", ".join(t for _, t in edit.fields)
    if isinstance(edit, (WrapValue, EnumerateLoop, ConvertDtype, GuardBranch, IsinstanceTensor,
                         FunctionalActivation, NoGradBlock, FloatLiteral)):
        return ""
    return edit.annotation.text if edit is not None else ""


def _slot(edit: Edit) -> tuple[str, ...]:
    """What an edit changes: two edits with the same slot conflict."""
    if isinstance(edit, AnnotateParam):
        return ("param", edit.function, edit.param)
    if isinstance(edit, AnnotateReturn):
        return ("return", edit.function)
    if isinstance(edit, AnnotateLocal):
        return ("local", edit.function, edit.name, "")
    if isinstance(edit, AnnotateEmpty):
        return ("local", edit.function, edit.name, edit.key or "")
    if isinstance(edit, AnnotateAttribute):
        return ("attribute", edit.class_name, edit.attr)
    if isinstance(edit, Decorate):  # one decorator per function: ignore and unused exclude each other
        return ("decorator", edit.function)
    if isinstance(edit, WrapValue):
        return ("value", edit.function, edit.target)
    if isinstance(edit, EnumerateLoop):
        return ("loop", edit.function, edit.index, edit.attr)
    if isinstance(edit, NamedTupleClass):
        return ("namedtuple", edit.name)
    if isinstance(edit, ConvertDtype):
        return ("dtype", edit.function, edit.method)
    if isinstance(edit, GuardBranch):
        return ("guard", edit.function, edit.test, edit.attr)
    if isinstance(edit, IsinstanceTensor):
        return ("is_tensor", edit.function)
    if isinstance(edit, FunctionalActivation):
        return ("activation", edit.function)
    if isinstance(edit, NoGradBlock):
        return ("decorator", edit.function)  # one decorator change per function (with ignore/unused)
    if isinstance(edit, FloatLiteral):
        return ("float", edit.function, edit.callee, edit.keyword, edit.literal)
    raise TypeError(f"unknown edit {edit!r}")


CODES = {rule.CODE: rule for rule in RULES}
__all__ = ["RULES", "CODES", "plan"]
