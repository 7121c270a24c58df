"""TS016 — `x.to(torch.bool)` for `x.bool()` (and `.bfloat16()`), the Tensor methods TorchScript lacks.

What it does: every `<expr>.bool()` without arguments in a function the compiler stopped at
("'Tensor' object has no attribute or method 'bool'") becomes `<expr>.to(torch.bool)`; in the same
pass, so does every such call in the file's other compiled functions (each would fail alike,
one per pass). cleanRL's `torch.where(mask.bool(), ...)`, Tacotron 2's `mask.bool()`.
Why: TorchScript compiles `.half()`, `.float()`, `.long()` and the other dtype methods, but not
`.bool()` nor `.bfloat16()`; `Tensor.to(dtype)` is the same conversion.
Fix safety: safe — `t.bool()` is `t.to(torch.bool)` in Python (both keep the memory format and
return `t` itself when it already has that dtype).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tsannotate.records import CallSite, ConvertDtype, Diagnostic, Evidence, Fix, Source
from tsannotate.rules._common import named_then_alike

CODE = "TS016"

_MISSING = re.compile(r"object has no attribute or method '(?P<method>bool|bfloat16)'")


def fixes(evidence: Evidence) -> Iterator[Fix]:
    def named(diag: Diagnostic) -> str | None:
        m = _MISSING.search(diag.message)
        return m["method"] if m else None

    def alike(call: CallSite) -> str | None:
        return call.callee.rsplit(".", 1)[-1] if "." in call.callee and not call.args and not call.keywords else None

    for seen in named_then_alike(evidence, named, alike):
        method = seen.key
        said = (f"{seen.diagnostic.message.rstrip('.:')}: TorchScript has no Tensor.{method}()" if seen.diagnostic
                else f"TorchScript has no Tensor.{method}(), as the compiler said of another such call in this file")
        yield Fix(CODE, f"write `.to(torch.{method})` for `.{method}()` in {seen.function}",
                  f"{said}; `.to(torch.{method})` is the same conversion in Python", ConvertDtype(seen.function, method),
                  evidence=Source.COMPILER, location=seen.location)
