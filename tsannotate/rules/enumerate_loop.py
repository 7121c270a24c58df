"""TS012 — iterate a ModuleList instead of indexing it in a `range(len(...))` loop.

What it does: `for i in range(len(self.layers)): x = self.layers[i](x)` →
`for layer in self.layers: x = layer(x)`; when `i` is also used otherwise,
`for i, layer in enumerate(self.layers):`. The rewriter checks the loop's shape and leaves
anything else alone (the advice, TS020, still names the refactor).
Why: TorchScript indexes a ModuleList only with literals or constants ("Expected integer literal
for index"); iterating it is supported, and the loop is unrolled.
Fix safety: needs a decision — the loop computes the same, but it is a change to the code, not an
annotation.
"""

from __future__ import annotations

from collections.abc import Iterator

from tsannotate.records import DiagnosticKind, EnumerateLoop, Evidence, Fix, Safety
from tsannotate.rules._common import function_of

CODE = "TS012"


def fixes(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    for diag in evidence.diagnostics:
        index = diag.symbol or ""
        if diag.kind is not DiagnosticKind.CONSTANT_NEEDED or "ModuleList" not in diag.message \
                or not index.isidentifier():
            continue
        func = function_of(diag, source)
        if func is None:
            continue
        yield Fix(CODE, f"iterate the ModuleList instead of indexing it with `{index}` in {func.qualname}",
                  f"{diag.message}; iterating a ModuleList compiles (the loop is unrolled)",
                  EnumerateLoop(func.qualname, index), safety=Safety.NEEDS_DECISION, location=diag.location)
