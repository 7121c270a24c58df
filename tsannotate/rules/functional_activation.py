"""TS019 — `torch.nn.functional.relu(x)` for `torch.nn.ReLU()(x)`, a module built in compiled code.

What it does: an activation module built with no arguments and called at once (pytorch-tabnet's
`d = torch.nn.ReLU()(out[:, : self.n_d])`) becomes the functional call its forward makes,
`torch.nn.functional.relu(out[:, : self.n_d])`, in every function of the file's compiled code
that does it, in one pass. The activations: ReLU, ReLU6, GELU, SiLU, Sigmoid, Tanh, Mish,
Hardswish, Hardsigmoid, ELU, LeakyReLU, Softplus, SELU, CELU, Softsign, Tanhshrink.
Why: TorchScript cannot build a module inside compiled code ("Cannot instantiate class 'ReLU' in
a script function"; "Class ReLU does not have an __init__ function defined").
Fix safety: safe — with the constructor's defaults, the module's forward is that functional call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tsannotate.records import CallSite, Diagnostic, Evidence, Fix, FunctionalActivation, Source
from tsannotate.rules._common import named_then_alike

CODE = "TS019"

_NAMES = ("ReLU|ReLU6|GELU|SiLU|Sigmoid|Tanh|Mish|Hardswish|Hardsigmoid|ELU|LeakyReLU|Softplus|SELU|CELU|"
          "Softsign|Tanhshrink")
_MESSAGE = re.compile(rf"Cannot instantiate class '(?:{_NAMES})' in a script function|"
                      rf"Class (?:{_NAMES}) does not have an __init__ function defined")
_BUILT = re.compile(rf"^(?:[\w.]*nn\.)?(?:{_NAMES})\(\)$")


def fixes(evidence: Evidence) -> Iterator[Fix]:
    def named(diag: Diagnostic) -> str | None:
        return "" if _MESSAGE.search(diag.message) else None

    def alike(call: CallSite) -> str | None:
        return "" if _BUILT.match(call.callee.replace(" ", "")) else None

    for seen in named_then_alike(evidence, named, alike):
        said = (f"{seen.diagnostic.message.rstrip('.:')}: TorchScript cannot build a module in compiled code"
                if seen.diagnostic else "TorchScript cannot build a module in compiled code, as the compiler "
                                        "said of another such call in this file")
        yield Fix(CODE, f"call the functional form of the activation built in {seen.function}",
                  f"{said}; with the constructor's defaults, the module's forward is that torch.nn.functional call",
                  FunctionalActivation(seen.function), evidence=Source.COMPILER, location=seen.location)
