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

from tsannotate.records import ConvertDtype, Evidence, Fix, Location, Source
from tsannotate.rules._common import Reach, function_of

CODE = "TS016"

_MISSING = re.compile(r"object has no attribute or method '(?P<method>bool|bfloat16)'")


def fixes(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    done: set[tuple[str, str]] = set()
    methods: set[str] = set()
    for diag in evidence.diagnostics:
        m = _MISSING.search(diag.message)
        func = function_of(diag, source) if m else None
        if m is None or func is None or (func.qualname, m["method"]) in done:
            continue
        method = m["method"]
        done.add((func.qualname, method))
        methods.add(method)
        yield Fix(CODE, f"write `.to(torch.{method})` for `.{method}()` in {func.qualname}",
                  f"{diag.message.rstrip('.:')}: TorchScript has no Tensor.{method}(); `.to(torch.{method})` is the same "
                  "conversion in Python", ConvertDtype(func.qualname, method),
                  evidence=Source.COMPILER, location=diag.location)
    if not methods:
        return
    for call in Reach.of(evidence).calls():
        method = call.callee.rsplit(".", 1)[-1] if "." in call.callee else ""
        if method not in methods or call.args or call.keywords or (call.function, method) in done:
            continue
        done.add((call.function, method))
        yield Fix(CODE, f"write `.to(torch.{method})` for `.{method}()` in {call.function}",
                  f"TorchScript has no Tensor.{method}(), as the compiler said of another such call in this "
                  f"file; `.to(torch.{method})` is the same conversion in Python", ConvertDtype(call.function, method),
                  evidence=Source.COMPILER, location=Location(source.path, call.line))
