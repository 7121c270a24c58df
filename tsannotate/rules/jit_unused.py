"""TS009 — @torch.jit.unused on a method that cannot compile and that compiled code never needs.

What it does: a method holding code TorchScript cannot compile, reached only under
`if self.training:` (or `if not torch.jit.is_scripting():`), or compiled only because it is an
`@torch.jit.export` helper nobody calls, or a `@property` no compiled code reads (TorchScript
compiles every property of a module), gets `@torch.jit.unused` (above `@torch.jit.export` /
`@property`).
Why: the compiler compiles every method compiled code may call, branches the deployed model never
takes included; an unused method is compiled as a stub that raises.
Example: `if self.training: x = self.augment(x)` with try/except in `augment` →
`@torch.jit.unused` above `def augment`.
Fix safety: needs a decision — the scripted method raises if it is reached (a scripted model left
in training mode raises in that branch); the saved model still runs without Python.
"""

from __future__ import annotations

from collections.abc import Iterator

from tsannotate.records import Decorate, Evidence, Fix, Safety
from tsannotate.rules._uncompilable import callers_text, decorator, uncompilable

CODE = "TS009"
CONSEQUENCE = "the scripted method raises if it is reached; the saved model still runs without Python"


def fixes(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    for u in uncompilable(evidence):
        if not u.unused:
            continue
        if u.is_property and not u.callers:
            why = "TorchScript compiles every property of a module, and no compiled code reads this one"
        elif u.exported and not u.callers:
            why = "it is an exported helper no compiled code calls"
        else:
            why = f"compiled code reaches it only in training-only branches: {callers_text(u)}"
        yield Fix(CODE, f"decorate {u.function.qualname} with @torch.jit.unused",
                  f"{u.diag.message}; {why}: {CONSEQUENCE}",
                  Decorate(u.function.qualname, decorator(source, "unused")),
                  safety=Safety.NEEDS_DECISION, location=u.location)
