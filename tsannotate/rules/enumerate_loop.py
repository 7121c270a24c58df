"""TS012 — iterate a ModuleList instead of indexing it in a `range(len(...))` loop.

What it does: `for i in range(len(self.layers)): x = self.layers[i](x)` →
`for layer in self.layers: x = layer(x)`; when `i` is also used otherwise,
`for i, layer in enumerate(self.layers):`. Any other indexed call of a ModuleList attribute
(YOLO's `for i in range(self.nl): x[i] = self.m[i](x[i])`, TabNet's `range(1, len(...))`, an
index computed from others) goes through a method added to the class,
`self._m_at(i, x[i])`, which iterates the ModuleList and calls the item at that index:
torchvision's FPN does this by hand (`get_result_from_inner_blocks`). The rewriter checks the
shapes and leaves anything else alone (the advice, TS020, still names the refactor).
Why: TorchScript indexes a ModuleList only with literals or constants ("Expected integer literal
for index"); iterating it is supported, and the loop is unrolled.
Fix safety: needs a decision — the code computes the same (a negative index counts from the end,
one out of range raises IndexError), but it is a change to the code, not an annotation.
"""

from __future__ import annotations

from collections.abc import Iterator

import ast
import re

from tsannotate import jit_text as jt
from tsannotate.records import Diagnostic, DiagnosticKind, EnumerateLoop, Evidence, Fix, Location, Safety
from tsannotate.rules._common import Reach, function_of

CODE = "TS012"


def fixes(evidence: Evidence) -> Iterator[Fix]:
    seen: set[tuple[str, str, str]] = set()
    for fix in _from_errors(evidence):
        if isinstance(fix.edit, EnumerateLoop):
            seen.add((fix.edit.function, fix.edit.attr, fix.edit.index))
        yield fix
    if seen:
        yield from _alike(evidence, seen)


def _alike(evidence: Evidence, seen: set[tuple[str, str, str]]) -> Iterator[Fix]:
    """The other calls of a ModuleList attribute with a variable index in compiled code, in the
    same pass: the compiler names one per model per pass, and each fails alike."""
    source = evidence.source
    lists = {(a.class_name, a.attr) for a in source.attributes
             if _MODULE_LIST.match(a.value_text) and a.function.endswith(".__init__")}
    for call in Reach.of(evidence).calls():
        func = source.function(call.function)
        if func is None or func.class_name is None:
            continue
        attr, index = _subscript(call.callee)
        if not attr or (func.class_name, attr) not in lists or _constant(index) \
                or (call.function, attr, index) in seen or (call.function, "", index) in seen:
            continue
        seen.add((call.function, attr, index))
        yield Fix(CODE, f"iterate the ModuleList `self.{attr}` instead of indexing it with `{index}` in "
                        f"{func.qualname}",
                  f"TorchScript indexes a ModuleList only with an integer literal or constant, as the "
                  f"compiler said of another such call in this file; iterating it compiles (the loop is "
                  "unrolled)", EnumerateLoop(func.qualname, index, func.class_name, attr),
                  safety=Safety.NEEDS_DECISION, location=Location(source.path, call.line))


_MODULE_LIST = re.compile(r"^\s*(?:[\w.]+\.)?ModuleList\s*\(")


def _constant(index: str) -> bool:
    """An integer literal, or `self.<name>` (a Final attribute is a constant: TS007)."""
    text = index.strip()
    return text.lstrip("-").isdigit() or (text.startswith("self.") and text[5:].isidentifier())


def _subscript(text: str) -> tuple[str, str]:
    """(attr, index text) of `self.<attr>[<index>]` (or a call of it), else ("", "")."""
    try:
        expr = ast.parse(" ".join(text.split()), mode="eval").body
    except SyntaxError:
        return "", ""
    if isinstance(expr, ast.Call):
        expr = expr.func
    if not (isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Attribute)
            and isinstance(expr.value.value, ast.Name) and expr.value.value.id == "self"
            and not isinstance(expr.slice, (ast.Slice, ast.Tuple))):
        return "", ""
    return expr.value.attr, ast.unparse(expr.slice)


def _from_errors(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    for diag in evidence.diagnostics:
        if diag.kind is not DiagnosticKind.CONSTANT_NEEDED or "ModuleList" not in diag.message:
            continue
        func = function_of(diag, source)
        if func is None:
            continue
        attr, index = _indexed(diag)
        if attr and _constant(index):
            continue  # `self.stages[self.exit_at]`: a Final attribute is a constant (TS007)
        if attr and func.class_name is not None:
            yield Fix(CODE, f"iterate the ModuleList `self.{attr}` instead of indexing it with `{index}` in "
                            f"{func.qualname}",
                      f"{diag.message}; iterating a ModuleList compiles (the loop is unrolled): as the loop "
                      f"itself when it is `range(len(self.{attr}))`, else in a method that calls the item at "
                      "the index", EnumerateLoop(func.qualname, index, func.class_name, attr),
                      safety=Safety.NEEDS_DECISION, location=diag.location)
            continue
        index = diag.symbol or ""
        if index.isidentifier():
            yield Fix(CODE, f"iterate the ModuleList instead of indexing it with `{index}` in {func.qualname}",
                      f"{diag.message}; iterating a ModuleList compiles (the loop is unrolled)",
                      EnumerateLoop(func.qualname, index), safety=Safety.NEEDS_DECISION, location=diag.location)


def _indexed(diag: Diagnostic) -> tuple[str, str]:
    """(attr, index text) of the underlined `self.<attr>[<index>]`, else ("", "")."""
    frame = next((f for f in jt.frames(diag.raw.splitlines()) if f.has_here), None)
    return _subscript(frame.span) if frame is not None else ("", "")
