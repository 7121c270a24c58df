"""TS022 — `value=0.0` for `F.pad(x, p, value=0)`: an int literal where a torch function takes a float.

What it does: where the compiler rejects an int literal passed by keyword to a function outside
the file whose schema takes a float there (`F.pad(..., value=0)`, `F.interpolate(x,
scale_factor=2)`: "Expected a value of type 'Optional[float]' for argument 'value' but instead
found type 'int'"), the literal is written as a float, `value=0.0`; in the same pass, so is every
call of that function written the same way with that keyword and literal in the file's other
compiled functions. An int literal passed by position is left to the user.
Why: Python hands the int to the schema's float; TorchScript does not widen it.
Fix safety: safe — the callee is torch's (or another package's) and gets the same float in Python;
a function of this file is TS005's to judge, as its parameter's annotation may be what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tsannotate.records import CallSite, Diagnostic, DiagnosticKind, Evidence, Fix, FloatLiteral, Source
from tsannotate.rules._common import named_then_alike

CODE = "TS022"

_FLOATS = ("float", "Optional[float]")
_INT = re.compile(r"[+-]?\d+")
_SEP = "\x00"  # joins (callee, keyword, literal) into one key


def fixes(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    lines: dict[int, list[CallSite]] = {}
    for c in source.calls:
        lines.setdefault(c.line, []).append(c)

    def named(diag: Diagnostic) -> str | None:
        if diag.kind is not DiagnosticKind.ARGUMENT_TYPE or len(diag.types) < 3 or diag.types[1] != "int" \
                or diag.types[0] not in _FLOATS or not _INT.fullmatch(diag.types[2]) or not diag.symbol \
                or not diag.function or diag.location is None:
            return None
        bare = diag.function.rsplit(".", 1)[-1]
        if any(f.name == bare for f in source.functions):
            return None  # maybe this file's own function: its annotation is TS005's to judge
        for call in lines.get(diag.location.line, []):
            if call.callee.rsplit(".", 1)[-1] == bare and (diag.symbol, diag.types[2]) in call.keywords:
                return _SEP.join((call.callee, diag.symbol, diag.types[2]))
        return None  # passed by position, or a call the index does not see

    rejected = {key for key in map(named, evidence.diagnostics) if key is not None}

    def alike(call: CallSite) -> str | None:
        keys = (_SEP.join((call.callee, keyword, value.strip())) for keyword, value in call.keywords)
        return next((key for key in keys if key in rejected), None)

    for seen in named_then_alike(evidence, named, alike):
        callee, keyword, literal = seen.key.split(_SEP)
        said = (f"{seen.diagnostic.message.rstrip('.:')}" if seen.diagnostic
                else f"the compiler rejected `{keyword}={literal}` in another call of {callee} in this file")
        yield Fix(CODE, f"write `{keyword}={literal}.0` in the calls of {callee} in {seen.function}",
                  f"{said}: Python hands the int to the float {callee} takes, TorchScript does not widen it; "
                  f"`{literal}.0` is the same value", FloatLiteral(seen.function, callee, keyword, literal),
                  evidence=Source.COMPILER, location=seen.location)
