"""TS007 — class-level `Final[T]` for attributes TorchScript must see as constants.

What it does: `name: Final[T]` in the class body (spelled `Final` / `typing.Final` /
`torch.jit.Final` as the file already spells it) for
- a bool config flag whose branch cannot compile otherwise (`if self.use_norm: x = self.norm(x)`
  with `self.norm = None` when the flag is off): a constant False branch is not compiled;
- an int or str attribute indexing an `nn.ModuleList` / `nn.ModuleDict` (`self.layers[self.head]`);
- a bool flag passed to a function that dispatches on it (`F.max_pool2d(x, 2, return_indices=
  self.return_indices)` compiles one of two functions, chosen by the constant);
- a class attribute (`SCALE = 2.5`, a tuple or list of constants) TorchScript cannot see as a
  module attribute: it becomes `SCALE: Final[float] = 2.5` in place.
Only attributes assigned nowhere but `__init__` (class constants: nowhere at all) become Final;
otherwise the fix is advice that names the reassignment. Names already in `__constants__` or
annotated Final are left alone.
The compiler names one problem a pass; two kinds are found from the code instead:
- when it names one class constant, every other class constant compiled methods read (`self.PAD`)
  becomes Final in the same pass;
- a flag the probe's configuration turns on compiles (both branches of a non-constant flag are
  compiled, and the submodule is there), but `if self.use_proj: x = self.proj(x)` with
  `self.proj = ... if use_proj else None` cannot compile with the flag off: the flag is made Final
  from the code alone, although this configuration scripts.
Why: TorchScript bakes constants into the compiled code; everything else is a typed attribute,
read at run time, so a None submodule must be callable and a ModuleList index must be a literal.
Fix safety: safe — eager behaviour is unchanged, and the attribute never changes after `__init__`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from tsannotate.records import (
    AnnotateAttribute,
    Annotation,
    AttributeAssignment,
    ClassFacts,
    FunctionFacts,
    Diagnostic,
    DiagnosticKind,
    Evidence,
    Fix,
    ImportName,
    Location,
    Safety,
    Source,
    SourceIndex,
    ValueKind,
)
from tsannotate.rules._common import annotation, compiled_functions, function_of, usable, value_beside_none
from tsannotate.rules._flags import common_flag, constant_flag, flag_at, is_bool
from tsannotate.rules._uncompilable import calls_of
from tsannotate.tstypes import TSType, literal_type

CODE = "TS007"
_SELF_ATTR = re.compile(r"^self\.(\w+)$")
_PLAIN_FLAG = re.compile(r"^(not\s+)?self\.(\w+)$")
_DEFAULT_CONTAINERS = ("List[Tensor]", "Dict[str, Tensor]")
_NONE_IF_OFF = re.compile(r"\belse\s+None\s*$|^\s*None\s+if\b")  # `nn.X(...) if flag else None`
_DISPATCH = re.compile(r"Keyword argument '?(?P<kw>\w+)'? for boolean dispatch|"
                       r"boolean dispatch at position (?P<pos>\d+)")


def fixes(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    for diag in evidence.diagnostics:
        func = function_of(diag, source)
        misused = _misused_constant(diag, source, func)
        if misused is not None:
            yield misused
            continue
        found = _constant_needed(diag, source, func, evidence)
        if found is None:
            continue
        cls, attr, t, why = found
        yield from _final(source, cls, attr, t, why, diag)
        if diag.owner and attr == diag.symbol and attr in dict(cls.assigned):
            yield from _other_class_constants(source, cls, attr, diag)
    yield from _flags_off_elsewhere(evidence)


def _other_class_constants(source: SourceIndex, cls: ClassFacts, named: str, diag: Diagnostic) -> Iterator[Fix]:
    """The class constants compiled methods read besides the one the compiler named: the compiler
    stops at the first, so each would otherwise cost a pass."""
    compiled = {f.qualname for f in compiled_functions(source) if f.class_name == cls.name}
    for name, value in cls.assigned:
        t = literal_type(value)
        read = next((r for r in source.reads if r.attr == name and r.function in compiled), None)
        if name == named or t is None or read is None:
            continue
        why = (f"TorchScript does not see class attribute `{name}` either (read as `self.{name}` in "
               f"{read.function}; the compiler named `{named}` first); a Final one is a constant")
        at = Location(diag.location.path if diag.location else source.path, read.line)
        yield from (replace(fix, location=at) for fix in _final(source, cls, name, t, why, diag) if fix.edit)


def _flags_off_elsewhere(evidence: Evidence) -> Iterator[Fix]:
    """`if self.flag:` reading an attribute `__init__` leaves None when the flag is off: it compiles
    in a configuration with the flag on (the probe's, maybe), not in the other; Final drops the branch."""
    source = evidence.source
    for func in compiled_functions(source):
        cls = source.cls(func.class_name) if func.class_name else None
        for b in (b for b in source.branches if b.function == func.qualname and cls is not None):
            m = _PLAIN_FLAG.match(b.test)
            if cls is None or m is None:
                continue
            flag = m.group(2)
            negated = bool(m.group(1))  # `if not self.flag:` guards its else part
            lines = range(b.body_last_line + 1, b.last_line + 1) if negated \
                else range(b.first_line, b.body_last_line + 1)
            used = [(r, state) for r in source.reads if r.function == func.qualname and r.line in lines
                    and r.attr != flag and cls.annotation(r.attr) is None
                    and (state := _state_when_off(source, cls.name, r.attr, flag))]
            if not used or not constant_flag(source, cls.name, flag) or not is_bool(cls.name, flag, evidence):
                continue
            (read, state), at = used[0], Location(source.path, used[0][0].line)
            why = (f"`self.{read.attr}` is {state} when `{flag}` is off (as `__init__` sets it), and {func.qualname} "
                   f"uses it under `if {b.test}:`: a configuration with the flag on compiles, one with it off cannot; "
                   f"a Final flag is a constant, and TorchScript does not compile the branch a constant rules "
                   f"out, so both script")
            for fix in _final(source, cls, flag, TSType("bool"), why, Diagnostic(DiagnosticKind.UNKNOWN, why, at)):
                yield replace(fix, evidence=Source.SOURCE)


def _state_when_off(source: SourceIndex, class_name: str, attr: str, flag: str) -> str:
    """"None" when `__init__` assigns the attribute None (`self.proj = None`, then a module under
    `if`) or `nn.X(...) if flag else None`; "not set" when it assigns it only under `if use_proj:`
    (or `if self.use_proj:`); else ""."""
    init = f"{class_name}.__init__"
    assigned = [a for a in source.attributes if a.class_name == class_name and a.attr == attr and a.function == init]
    if any(a.value is ValueKind.NONE or _NONE_IF_OFF.search(a.value_text) for a in assigned):
        return "None"
    tests = {f"self.{flag}", *(a.value_text.strip() for a in source.attributes
                               if a.class_name == class_name and a.attr == flag and a.function == init)}
    guarded = [b for b in source.branches if b.function == init and b.test in tests]
    only_if_on = all(any(b.first_line < a.line <= b.body_last_line for b in guarded) for a in assigned)
    return "not set" if assigned and only_if_on else ""


def _constant_needed(diag: Diagnostic, source: SourceIndex, func: FunctionFacts | None, evidence: Evidence
                     ) -> tuple[ClassFacts, str, TSType, str] | None:
    """(class, attribute, its type, why it must be a constant), when the diagnostic shows one."""
    if diag.kind is DiagnosticKind.UNKNOWN and diag.owner and diag.symbol:
        cls = source.cls(diag.owner)
        value = dict(cls.assigned).get(diag.symbol) if cls else None
        t = literal_type(value) if value is not None else None
        if cls is not None and t is not None:
            return cls, diag.symbol, t, (f"TorchScript does not see class attribute `{diag.symbol}` "
                                         "(a module's attributes are its instance's); a Final one is a constant")
    cls = source.cls(func.class_name) if func and func.class_name else None
    if cls is None:
        return None
    if diag.kind is DiagnosticKind.CONSTANT_NEEDED:
        m = _SELF_ATTR.match(diag.symbol or _dispatch_value(diag, source, func) or "")
        t = usable(diag.types[0]) if diag.types else None  # a boolean-dispatch flag's bool
        t = t or (TSType("str") if "ModuleDict" in diag.message else TSType("int"))
        if m:
            return cls, m.group(1), t, f"{diag.message}; a Final attribute is a constant"
        return None
    if (diag.kind in (DiagnosticKind.UNKNOWN, DiagnosticKind.UNSUPPORTED, DiagnosticKind.ATTRIBUTE_CONVERSION)
            or _untyped_change(diag) or _filled_container(diag, source, func)) \
            and diag.location is not None and func is not None:
        flag, where = _guarding_flag(evidence, cls.name, func.qualname, diag), "in a branch"
        if flag is None and func.name != "forward":  # a helper only a flag's branch calls
            flag = common_flag(evidence, cls.name, [(c.function, c.line) for c in calls_of(func, source)])
            where = f"in {func.qualname}, which is called only in a branch"
        if flag is not None:
            return cls, flag, TSType("bool"), (
                f"{diag.message}, {where} on `self.{flag}`; a Final flag is a constant, and "
                "TorchScript does not compile the branch a constant rules out")
    return None


def _dispatch_value(diag: Diagnostic, source: SourceIndex, func: FunctionFacts | None) -> str | None:
    """The value a boolean dispatch's flag is given (`return_indices=self.return_indices`) in the call
    at the error's line, when the message's frame does not show it (a call over several lines)."""
    m = _DISPATCH.search(diag.message)
    if m is None or diag.location is None or func is None:
        return None
    for call in (c for c in source.calls if c.function == func.qualname and c.line == diag.location.line):
        if m.group("kw"):
            value = dict(call.keywords).get(m.group("kw"))
        else:
            value = call.args[int(m.group("pos"))] if int(m.group("pos")) < len(call.args) else None
        if value:
            return value
    return None


_EMPTY = (ValueKind.EMPTY_LIST, ValueKind.EMPTY_DICT, ValueKind.DICT_OF_EMPTY_LISTS)


def _filled_container(diag: Diagnostic, source: SourceIndex, func: FunctionFacts | None) -> bool:
    """DETR's `out = {"pred_logits": y}`, then `out["aux_outputs"] = [...]` under `if self.aux_loss:`:
    the compiler reports an element of another type stored in a container; this one was not empty
    (its first value set its type), so no annotation of it is TS004's to give."""
    if diag.kind is not DiagnosticKind.EMPTY_CONTAINER or not diag.symbol or func is None:
        return False
    first = min((a for a in source.locals if a.function == func.qualname and a.name == diag.symbol),
                key=lambda a: a.line, default=None)
    return first is not None and first.value not in _EMPTY and first.value is not ValueKind.NONE


def _untyped_change(diag: Diagnostic) -> bool:
    """A type change no annotation fixes: a tuple that grows under a flag (`outputs = outputs +
    (probs,)`), branches or return statements of different types. A change beside None is TS002's or
    TS003's (Optional), one from an empty container's default TS004's."""
    if diag.kind is DiagnosticKind.RETURN_TYPE_CHANGED:
        return True
    if diag.kind not in (DiagnosticKind.VARIABLE_TYPE_CHANGED, DiagnosticKind.ATTRIBUTE_TYPE_CHANGED):
        return False
    return value_beside_none(diag.types) is None and not any(t in _DEFAULT_CONTAINERS for t in diag.types)


def _guarding_flag(evidence: Evidence, class_name: str, function: str, diag: Diagnostic) -> str | None:
    """The bool flag whose `if self.flag:` makes the error: the branch holding its line, the `if`
    statement itself (its branches assign different types), or, for a return statement of
    another type, the one flag branch before it (`if self.return_dict: return {...}`)."""
    assert diag.location is not None
    line, source = diag.location.line, evidence.source
    found = flag_at(evidence, class_name, function, line) or flag_at(evidence, class_name, function, line + 1)
    if found is None and diag.kind is DiagnosticKind.RETURN_TYPE_CHANGED:
        before = {flag_at(evidence, class_name, function, b.first_line + 1) for b in source.branches
                  if b.function == function and b.last_line < line}
        before.discard(None)
        found = before.pop() if len(before) == 1 else None
    init = f"{class_name}.__init__"  # a configuration flag: `self.training` and the like are not
    return found if any(a.class_name == class_name and a.attr == found and a.function == init
                        for a in source.attributes) else None


def _misused_constant(diag: Diagnostic, source: SourceIndex, func: FunctionFacts | None) -> Fix | None:
    """A name already in `__constants__` (or Final) that is reassigned, or holds what no constant can."""
    owner = diag.owner or (func.class_name if func else None)
    cls = source.cls(owner) if owner else None
    attr = diag.symbol or ""
    if cls is None or not (attr in cls.constants or "Final" in (cls.annotation(attr) or "")):
        return None
    how = "listed in `__constants__`" if attr in cls.constants else "annotated Final"
    if diag.message.startswith("Tried to set nonexistent attribute"):
        todo = (f"`{attr}` is {how}, so TorchScript treats it as a constant and cannot assign to it: stop "
                f"reassigning it outside `__init__`, or make it a plain attribute (drop it from "
                f"`__constants__` / drop Final)")
    elif "is not a valid constant" in diag.message:
        todo = (f"`{attr}` is {how}, but its value cannot be a constant (only bool, int, float, str, None, "
                f"devices, dtypes and tuples of them): make it a plain attribute (drop it from `__constants__`)")
    else:
        return None
    return Fix(CODE, f"`{attr}` of {cls.name} cannot be a constant", f"{todo} — the compiler said: {diag.message}",
               None, safety=Safety.DISPLAY_ONLY, location=diag.location)


def _final(source: SourceIndex, cls: ClassFacts, attr: str, t: TSType, why: str, diag: Diagnostic) -> Iterator[Fix]:
    if attr in cls.constants or "Final" in (cls.annotation(attr) or ""):
        return
    class_level = attr in dict(cls.assigned)
    elsewhere = [a for a in source.attributes if a.class_name == cls.name and a.attr == attr
                 and (class_level or a.function != f"{cls.name}.__init__")]
    if elsewhere:
        yield _cannot(cls, attr, elsewhere[0], diag)
        return
    ann = _final_annotation(annotation(t, source), source)
    yield Fix(CODE, f"annotate attribute `{attr}` of {cls.name} as {ann.text}", why,
              AnnotateAttribute(cls.name, attr, ann), location=diag.location)


def _cannot(cls: ClassFacts, attr: str, where: AttributeAssignment, diag: Diagnostic) -> Fix:
    return Fix(CODE, f"`{attr}` of {cls.name} cannot be Final",
               f"{diag.message}; TorchScript needs `{attr}` as a constant, but {where.function} reassigns it "
               f"(at the line shown) and a constant is fixed when the model is scripted: set it only in "
               f"`__init__`, or branch on something TorchScript can type",
               None, safety=Safety.DISPLAY_ONLY, location=Location(diag.location.path if diag.location else "",
                                                                   where.line))


def _final_annotation(inner: Annotation, source: SourceIndex) -> Annotation:
    """`Final[T]` spelled as the file spells Final: from typing, typing.Final, or torch.jit.Final."""
    style = source.style
    torch_final = f"{style.torch_alias}.jit.Final"
    spelled = [text for c in source.classes for _, text in c.annotations]
    if "Final" in style.typing_names:
        return Annotation(f"Final[{inner.text}]", inner.imports)
    if any(text.startswith(torch_final + "[") for text in spelled):
        return Annotation(f"{torch_final}[{inner.text}]", inner.imports)
    if style.typing_module:
        return Annotation(f"{style.typing_module}.Final[{inner.text}]", inner.imports)
    return Annotation(f"Final[{inner.text}]", (*inner.imports, ImportName("typing", "Final")))
