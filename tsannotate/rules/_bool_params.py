"""A parameter the code uses as a bool: `is_causal=None` that no probe input sets is a bool to the
code (`is_causal is True`), not the Tensor TorchScript assumes. Used by TS001 for a None default.

Evidence, read from the source alone: the parameter is compared with `is True` / `== False`,
tested for truth (an `if`/`while`/`assert` test, a `not` operand, an `and`/`or` operand in such a
test), or passed to a parameter of this file annotated `bool` / `Optional[bool]` — or to one that
is itself a bool by this evidence (`forward(is_causal=None)` passing it on to a helper that tests
it). Passed to a parameter annotated anything else, it is not a bool: the evidence conflicts.
"""

from __future__ import annotations

import re

from tsannotate.records import CallSite, FunctionFacts, ParamFacts, SourceIndex
from tsannotate.rules._common import inherited

_BOOL_ANNOTATIONS = ("bool", "Optional[bool]")
_MODULE_CALL = re.compile(r"^\s*(?P<cls>[A-Za-z_][\w.]*)\(")  # `self.encoder = TransformerEncoder(...)`


def bool_use(source: SourceIndex, func: FunctionFacts, name: str) -> str | None:
    """Why the code uses parameter `name` of `func` as a bool ("`is_causal is True` (line 12)"), or
    None when nothing says so or something says otherwise."""
    return _bool_use(source, func, name, frozenset())


def _bool_use(source: SourceIndex, func: FunctionFacts, name: str, seen: frozenset[tuple[str, str]]) -> str | None:
    if (func.qualname, name) in seen:
        return None
    seen = seen | {(func.qualname, name)}
    found: list[str] = []
    for callee, param, call in _passed_on(source, func, name):
        if param.annotation is not None:
            if _plain(param.annotation) not in _BOOL_ANNOTATIONS:
                return None  # passed where another type is declared: the evidence conflicts
            found.append(f"passed to `{param.name}: {param.annotation}` of {callee.qualname} (line {call.line})")
        elif (why := _bool_use(source, callee, param.name, seen)) is not None:
            found.append(f"passed to `{param.name}` of {callee.qualname} (line {call.line}), which is {why}")
    uses = [u for u in source.truth_uses if u.function == func.qualname and u.name == name]
    if uses:
        found.insert(0, f"used as a bool in {func.qualname} (line {uses[0].line})")
    return found[0] if found else None


def _plain(annotation: str) -> str:
    return re.sub(r"\b(?:typing|t)\.", "", "".join(annotation.split()))


def _passed_on(source: SourceIndex, func: FunctionFacts, name: str) -> list[tuple[FunctionFacts, ParamFacts, CallSite]]:
    """The parameters of this file's functions that `func` passes its `name` to, as it is."""
    out: list[tuple[FunctionFacts, ParamFacts, CallSite]] = []
    for call in (c for c in source.calls if c.function == func.qualname):
        callee = callee_of(source, func, call.callee)
        if callee is not None:
            out.extend((callee, param, call) for param, value in bound(callee, call) if value.strip() == name)
    return out


def bound(callee: FunctionFacts, call: CallSite) -> list[tuple[ParamFacts, str]]:
    """(parameter, argument text) for each argument of `call`, as `callee` binds it (`self` skipped
    for a method that is not a staticmethod; `*args`, `**kwargs` and unmatched arguments left out)."""
    method = callee.class_name is not None and "staticmethod" not in callee.decorators
    positional = [p for p in callee.params[1 if method else 0:] if not p.star and not p.keyword_only]
    out = [(positional[i], arg) for i, arg in enumerate(call.args) if i < len(positional)]
    for keyword, value in call.keywords:
        param = callee.param(keyword)
        if param is not None and not param.star:
            out.append((param, value))
    return out


def callee_of(source: SourceIndex, func: FunctionFacts, callee: str) -> FunctionFacts | None:
    """`helper` → helper; `self.method` → the class's method (or a base's); `self.encoder` → the
    `forward` of the one class of this file `__init__` assigns it (`TransformerEncoder(...)`)."""
    if "." not in callee:
        return source.function(callee)
    receiver, _, attr = callee.partition(".")
    if receiver != "self" or "." in attr or func.class_name is None:
        return None
    own = source.function(f"{func.class_name}.{attr}") or inherited(source, func.class_name, attr)
    if own is not None:
        return own
    built = {m.group("cls").rsplit(".", 1)[-1] for a in source.attributes
             if a.class_name == func.class_name and a.attr == attr
             for m in [_MODULE_CALL.match(a.value_text)] if m}
    built = {c for c in built if source.cls(c) is not None}
    if len(built) != 1:
        return None
    cls = built.pop()
    return source.function(f"{cls}.forward") or inherited(source, cls, "forward")
