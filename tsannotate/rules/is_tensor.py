"""TS018 — `isinstance(x, torch.Tensor)` for `torch.is_tensor(x)`, which TorchScript lacks.

What it does: every `torch.is_tensor(x)` in a function the compiler stopped at ("Unknown builtin
op: aten::is_tensor") becomes `isinstance(x, torch.Tensor)`; in the same pass, so does every such
call in the file's other compiled functions. diffusers' `if not torch.is_tensor(timesteps):`.
Why: TorchScript compiles `isinstance` (and refines a `Union[Tensor, int, float]` parameter
through it), not `torch.is_tensor`.
Fix safety: safe — `torch.is_tensor(x)` is `isinstance(x, torch.Tensor)` in Python.
"""

from __future__ import annotations

from collections.abc import Iterator

from tsannotate.records import Evidence, Fix, IsinstanceTensor, Location, Source
from tsannotate.rules._common import Reach, function_of

CODE = "TS018"

_MESSAGE = "Unknown builtin op: aten::is_tensor"


def fixes(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    done: set[str] = set()
    for diag in evidence.diagnostics:
        func = function_of(diag, source) if diag.message.startswith(_MESSAGE) else None
        if func is None or func.qualname in done:
            continue
        done.add(func.qualname)
        yield Fix(CODE, f"write `isinstance(x, torch.Tensor)` for `torch.is_tensor(x)` in {func.qualname}",
                  f"{diag.message.rstrip('.:')}: TorchScript has no torch.is_tensor; `isinstance(x, torch.Tensor)` is the "
                  "same test in Python, and TorchScript refines the value's type through it",
                  IsinstanceTensor(func.qualname), evidence=Source.COMPILER, location=diag.location)
    if not done:
        return
    for call in Reach.of(evidence).calls():
        if not call.callee.endswith(".is_tensor") or len(call.args) != 1 or call.function in done:
            continue
        done.add(call.function)
        yield Fix(CODE, f"write `isinstance(x, torch.Tensor)` for `torch.is_tensor(x)` in {call.function}",
                  "TorchScript has no torch.is_tensor, as the compiler said of another such call in this file; "
                  "`isinstance(x, torch.Tensor)` is the same test in Python", IsinstanceTensor(call.function),
                  evidence=Source.COMPILER, location=Location(source.path, call.line))
