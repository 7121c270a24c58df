"""TS008 — @torch.jit.ignore on a method compiled code must still call, but that cannot compile.

What it does: a method or helper reached from `forward` that uses what TorchScript cannot
compile (numpy, `random`, `print` with a format spec, try/except, `*args`/`**kwargs`, lambdas,
generators, Python objects) gets `@torch.jit.ignore`, and the return annotation the probe saw
(TorchScript assumes an ignored function returns a Tensor).
Why: the compiler compiles everything compiled code calls ("'Net.jitter' is being compiled since
it was called from 'Net.forward'"); an ignored function is left as a Python call.
Example: `def jitter(self, x): return x * random.random()` called from `forward` →
`@torch.jit.ignore` above it; `def count(self, x)` returning an int → `def count(self, x) -> int`.
Fix safety: needs a decision — the scripted model calls back into Python: torch.jit.save refuses
it ("Could not export Python function call"), so it cannot be saved or run from C++.
"""

from __future__ import annotations

from collections.abc import Iterator

from tsannotate.records import AnnotateReturn, Decorate, Evidence, Fix, Location, Role, Safety, Source
from tsannotate.rules._common import annotation, observed_type, saw
from tsannotate.rules._uncompilable import callers_text, decorator, uncompilable
from tsannotate.tstypes import TENSOR

CODE = "TS008"
CONSEQUENCE = ("it stays Python, so the scripted model needs Python: torch.jit.save refuses it "
               "(\"Could not export Python function call\") and it cannot run from C++")


def fixes(evidence: Evidence) -> Iterator[Fix]:
    yield from _decorate(evidence)
    yield from _ignored_returns(evidence)


def _decorate(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    for u in uncompilable(evidence):
        if u.unused:
            continue
        func = u.function
        obs = evidence.observed(func.qualname, "", Role.RETURN)
        seen = observed_type(obs)
        returns = annotation(seen, source) if seen is not None and func.returns is None else None
        if returns is not None and obs is not None and seen is not None:
            typed = f"; {saw(obs, seen)}, so it is annotated `-> {returns.text}`"
        elif func.returns is None:
            typed = ("; TorchScript assumes it returns a Tensor: annotate its return type if it does not "
                     "(a probe would show it)")
        else:
            typed = ""
        yield Fix(CODE, f"decorate {func.qualname} with @torch.jit.ignore",
                  f"{u.diag.message}; compiled code calls it from {callers_text(u)}: {CONSEQUENCE}{typed}",
                  Decorate(func.qualname, decorator(source, "ignore"), returns),
                  safety=Safety.NEEDS_DECISION, location=u.location,
                  evidence=Source.PROBE if returns is not None else Source.COMPILER)


def _ignored_returns(evidence: Evidence) -> Iterator[Fix]:
    """An already-ignored function without a return annotation, seen returning a non-Tensor:
    the compiled caller would fail ("expected value of type Tensor for return value")."""
    source = evidence.source
    for func in source.functions:
        if func.returns is not None or not any(d.rsplit(".", 1)[-1] == "ignore" for d in func.decorators):
            continue
        obs = evidence.observed(func.qualname, "", Role.RETURN)
        seen = observed_type(obs)
        if obs is None or seen is None or seen == TENSOR:
            continue
        ann = annotation(seen, source)
        yield Fix(CODE, f"annotate the return type of ignored {func.qualname} as {ann.text}",
                  f"{saw(obs, seen)}; TorchScript assumes an ignored function returns a Tensor",
                  AnnotateReturn(func.qualname, ann), evidence=Source.PROBE,
                  location=Location(source.path, func.first_line))
