"""TS019 — `torch.nn.functional.relu(x)` for `torch.nn.ReLU()(x)`, a module built in compiled code.

What it does: an activation module built and called at once (pytorch-tabnet's
`d = torch.nn.ReLU()(out[:, : self.n_d])`, `nn.Softmax(dim=-1)(scores)`) becomes the functional
call its forward makes, the constructor's arguments passed by name
(`torch.nn.functional.relu(out[:, : self.n_d])`, `nn.functional.softmax(scores, dim=-1)`), in
every function of the file's compiled code that does it, in one pass. The activations: ReLU,
ReLU6, GELU, SiLU, Sigmoid, Tanh, Mish, Hardswish, Hardsigmoid, ELU, LeakyReLU, Softplus, SELU,
CELU, Softsign, Tanhshrink, Softmax, LogSoftmax, Softmin, Softshrink, Hardshrink, GLU, Threshold
(not those with state or randomness: PReLU's weight, RReLU's training-mode noise).
Why: TorchScript cannot build a module inside compiled code ("Cannot instantiate class 'ReLU' in
a script function"; "Class ReLU does not have an __init__ function defined").
Fix safety: safe — the module's forward is that functional call with the constructor's arguments,
each under the name the constructor and the function share; a call whose arguments do not bind
plainly (`*args`, an unknown name) is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tsannotate.records import CallSite, Diagnostic, Evidence, Fix, FunctionalActivation, Source
from tsannotate.rules._common import named_then_alike

CODE = "TS019"

_NAMES = ("ReLU|ReLU6|GELU|SiLU|Sigmoid|Tanh|Mish|Hardswish|Hardsigmoid|ELU|LeakyReLU|Softplus|SELU|CELU|"
          "Softsign|Tanhshrink|Softmax|LogSoftmax|Softmin|Softshrink|Hardshrink|GLU|Threshold")
_MESSAGE = re.compile(rf"Cannot instantiate class '(?:{_NAMES})' in a script function|"
                      rf"Class (?:{_NAMES}) does not have an __init__ function defined")
_BUILT = re.compile(rf"^(?:[\w.]*nn\.)?(?:{_NAMES})\(.*\)$")


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
                  f"{said}; the module's forward is that torch.nn.functional call, with the constructor's arguments",
                  FunctionalActivation(seen.function), evidence=Source.COMPILER, location=seen.location)
