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

from tsannotate.records import CallSite, Diagnostic, Evidence, Fix, IsinstanceTensor, Source
from tsannotate.rules._common import named_then_alike

CODE = "TS018"

_MESSAGE = "Unknown builtin op: aten::is_tensor"


def fixes(evidence: Evidence) -> Iterator[Fix]:
    def named(diag: Diagnostic) -> str | None:
        return "" if diag.message.startswith(_MESSAGE) else None

    def alike(call: CallSite) -> str | None:
        return "" if call.callee.endswith(".is_tensor") and len(call.args) == 1 else None

    for seen in named_then_alike(evidence, named, alike):
        said = (f"{seen.diagnostic.message.rstrip('.:')}: TorchScript has no torch.is_tensor" if seen.diagnostic
                else "TorchScript has no torch.is_tensor, as the compiler said of another such call in this file")
        yield Fix(CODE, f"write `isinstance(x, torch.Tensor)` for `torch.is_tensor(x)` in {seen.function}",
                  f"{said}; `isinstance(x, torch.Tensor)` is the same test in Python, and TorchScript refines the "
                  "value's type through it", IsinstanceTensor(seen.function), evidence=Source.COMPILER,
                  location=seen.location)
