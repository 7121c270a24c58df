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

from tsannotate.records import Evidence, Fix, FunctionalActivation, Location, Source
from tsannotate.rules._common import Reach, function_of

CODE = "TS019"

_NAMES = ("ReLU|ReLU6|GELU|SiLU|Sigmoid|Tanh|Mish|Hardswish|Hardsigmoid|ELU|LeakyReLU|Softplus|SELU|CELU|"
          "Softsign|Tanhshrink")
_MESSAGE = re.compile(rf"Cannot instantiate class '(?:{_NAMES})' in a script function|"
                      rf"Class (?:{_NAMES}) does not have an __init__ function defined")
_BUILT = re.compile(rf"^(?:[\w.]*nn\.)?(?:{_NAMES})\(\)$")


def fixes(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    done: set[str] = set()
    for diag in evidence.diagnostics:
        func = function_of(diag, source) if _MESSAGE.search(diag.message) else None
        if func is None or func.qualname in done:
            continue
        done.add(func.qualname)
        yield Fix(CODE, f"call the functional form of the activation built in {func.qualname}",
                  f"{diag.message.rstrip('.:')}: TorchScript cannot build a module in compiled code; with "
                  "the constructor's defaults, the module's forward is that torch.nn.functional call",
                  FunctionalActivation(func.qualname), evidence=Source.COMPILER, location=diag.location)
    if not done:
        return
    for call in Reach.of(evidence).calls():
        if call.function in done or not _BUILT.match(call.callee.replace(" ", "")):
            continue
        done.add(call.function)
        yield Fix(CODE, f"call the functional form of the activation built in {call.function}",
                  "TorchScript cannot build a module in compiled code, as the compiler said of another such "
                  "call in this file; with the constructor's defaults, the module's forward is that "
                  "torch.nn.functional call", FunctionalActivation(call.function), evidence=Source.COMPILER,
                  location=Location(source.path, call.line))
