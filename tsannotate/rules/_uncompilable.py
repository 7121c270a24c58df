"""Shared by TS008 (@torch.jit.ignore) and TS009 (@torch.jit.unused): which method holds code
the compiler cannot compile, and how compiled code reaches it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tsannotate.records import CallSite, Diagnostic, DiagnosticKind, Evidence, FunctionFacts, Location, SourceIndex
from tsannotate.rules._common import compiled_functions, function_of
from tsannotate.rules._flags import common_flag, constant_flag, off_by_default

# `if self.training:` / `if not torch.jit.is_scripting():` — branches a deployed model never takes
_UNCOMPILED_BRANCH = re.compile(r"^(?:self\.training|not\s+(?:\w+\.)*jit\.is_scripting\(\))$")
_NOT_DECORATABLE = ("forward", "__init__")


@dataclass(frozen=True)
class Uncompilable:
    diag: Diagnostic
    function: FunctionFacts
    callers: tuple[CallSite, ...]  # compiled call sites in this file
    training_only: bool  # every call site sits under `if self.training:` (or not scripting)
    exported: bool  # @torch.jit.export: compiled because it is exported
    is_property: bool = False  # a module's @property: TorchScript compiles every one; callers read it

    @property
    def unused(self) -> bool:
        """Compiled code never needs it: @torch.jit.unused rather than @torch.jit.ignore."""
        return ((self.exported or self.is_property) and not self.callers) \
            or (bool(self.callers) and self.training_only)

    @property
    def location(self) -> Location | None:
        return self.diag.location


def uncompilable(evidence: Evidence) -> list[Uncompilable]:
    """One entry per method or helper that holds code TorchScript cannot compile, first
    diagnostic first. `forward`, `__init__` and scripted functions themselves are left out:
    decorating them would leave nothing to compile (their diagnostics get refactor advice)."""
    source = evidence.source
    compiled = {f.qualname for f in compiled_functions(source)}
    found: dict[str, Uncompilable] = {}
    for diag in evidence.diagnostics:
        if diag.kind is not DiagnosticKind.UNSUPPORTED:
            continue
        func = function_of(diag, source)
        if func is None or func.qualname in found or func.qualname not in compiled or not _decoratable(func):
            continue
        is_property = "property" in func.decorators
        callers = tuple(c for c in (reads_of(func, source) if is_property else calls_of(func, source))
                        if c.function in compiled)
        if func.class_name and _left_to_a_flag(evidence, func, callers):
            continue  # TS007 makes the flag Final, and its branch is then not compiled at all
        guarded = all(_in_uncompiled_branch(c, source) for c in callers)
        if is_property and callers and not guarded:
            continue  # @torch.jit.ignore does not apply to a property: that needs a refactor
        exported = any(d.rsplit(".", 1)[-1] == "export" for d in func.decorators)
        found[func.qualname] = Uncompilable(diag, func, callers, guarded, exported, is_property)
    return list(found.values())


def reads_of(prop: FunctionFacts, source: SourceIndex) -> list[CallSite]:
    """Where methods of its class read a property (`self.name`), as call sites."""
    return [CallSite(r.function, f"self.{prop.name}", r.line) for r in source.reads
            if r.attr == prop.name and r.function.startswith(f"{prop.class_name}.") and r.function != prop.qualname]


def _left_to_a_flag(evidence: Evidence, func: FunctionFacts, callers: tuple[CallSite, ...]) -> bool:
    class_name = func.class_name or ""
    flag = common_flag(evidence, class_name, [(c.function, c.line) for c in callers])
    # a flag that is off by default: Final rules its branch out (a flag on by default still needs the
    # helper, and so does one the probe's configuration turns on: the probe ran the helper)
    ran = any(o.qualname == func.qualname and not o.static for o in evidence.observations)
    return flag is not None and constant_flag(evidence.source, class_name, flag) \
        and off_by_default(evidence.source, class_name, flag) and not ran


def _decoratable(func: FunctionFacts) -> bool:
    if func.name in _NOT_DECORATABLE:
        return False
    return not any(d.rsplit(".", 1)[-1] == "script" for d in func.decorators)


def calls_of(func: FunctionFacts, source: SourceIndex) -> list[CallSite]:
    """Where this file calls `func` (`self.name(...)` from its class, `name(...)` for a function),
    recursion excluded."""
    if func.class_name is not None:
        return [c for c in source.calls if c.callee == f"self.{func.name}"
                and c.function.startswith(func.class_name + ".") and c.function != func.qualname]
    return [c for c in source.calls if c.callee == func.name and c.function != func.qualname]


def _in_uncompiled_branch(call: CallSite, source: SourceIndex) -> bool:
    return any(b.function == call.function and b.first_line < call.line <= b.body_last_line
               and _UNCOMPILED_BRANCH.match(b.test) for b in source.branches)


def callers_text(u: Uncompilable) -> str:
    names = list(dict.fromkeys(c.function for c in u.callers))  # no line: a later pass's text has moved
    return ", ".join(names) if names else "outside this file (no call site in it)"


def decorator(source: SourceIndex, name: str) -> str:
    return f"{source.style.torch_alias}.jit.{name}"
