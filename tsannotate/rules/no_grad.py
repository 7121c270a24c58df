"""TS021 — `with torch.no_grad():` for `@torch.no_grad()` on a method TorchScript compiles.

What it does: diffusers' samplers and many inference heads decorate `forward` (or a helper it
calls) with `@torch.no_grad()`. TorchScript then reads the method's globals from the decorator's
module, torch/utils/_contextlib.py, and fails inside torch as soon as the body names `torch`
("undefined value torch") or `F` ("attribute lookup is not defined on python value of type
'TypeVar'"); where it does not fail, the compiled method silently runs without no_grad. The decorator goes, and the
method's body (its docstring aside) goes under `with torch.no_grad():`, which TorchScript compiles.
Only for `torch.no_grad` (with or without the call parentheses), on a function of this file that
compiled code reaches; `inference_mode` and `autocast` keep the advice (TS020).
Fix safety: safe — for a function (not a generator), the decorator runs the body in that very
context.
"""

from __future__ import annotations

from collections.abc import Iterator

from tsannotate.records import Evidence, Fix, Location, NoGradBlock, Source
from tsannotate.rules._common import Reach

CODE = "TS021"

_NO_GRAD = ("torch.no_grad()", "torch.no_grad")


def fixes(evidence: Evidence) -> Iterator[Fix]:
    if not any((d.location is not None and d.location.path.endswith("_contextlib.py")) or "_contextlib.py" in d.raw
               for d in evidence.diagnostics):
        return
    reach = Reach.of(evidence)
    source = evidence.source
    for func in source.functions:
        decorator = next((d for d in func.decorators if " ".join(d.split()) in _NO_GRAD), None)
        if decorator is None or not reach.compiles(func.qualname):
            continue
        line = func.first_line - len(func.decorators) + func.decorators.index(decorator)
        yield Fix(CODE, f"run the body of {func.qualname} under `with torch.no_grad():` instead of `@{decorator}`",
                  f"TorchScript compiles the decorator's wrapper (torch/utils/_contextlib.py), not {func.qualname}, "
                  "and fails inside torch; it compiles a `with torch.no_grad():` block, which is what the "
                  "decorator runs the body in", NoGradBlock(func.qualname, decorator), evidence=Source.COMPILER,
                  location=Location(source.path, max(line, 1)))
