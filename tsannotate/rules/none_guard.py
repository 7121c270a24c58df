"""TS017 — guard a call of a submodule that may be None with the `if` it is already under.

What it does: diffusers' `TimestepEmbedding` sets `self.cond_proj = None` unless configured, and
calls it under a test of its input, not of the config:

    if condition is not None:
        sample = sample + self.cond_proj(condition)

TorchScript compiles the branch (`condition` may be given) and cannot call a None submodule
("cannot call a value of type 'NoneType'"). The `if` gets `and self.cond_proj is not None`: a
None module attribute makes that test False when compiling, so the branch drops out; where the
submodule exists the test is True and nothing changes.
Only when `__init__` can leave the attribute None (it assigns None, or `... if c else None`), the
call sits in an `if` of the function the compiler names, and that `if` reads no attribute of
`self` (a config flag there is TS007's: `Final` makes the branch drop out without a code change).
Fix safety: needs a decision — a code change; eager Python differs only where it raised before
(the branch taken with the submodule None: TypeError, now skipped).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tsannotate.records import Evidence, Fix, GuardBranch, Safety, Source, ValueKind
from tsannotate.rules._common import function_of

CODE = "TS017"

_MESSAGE = "cannot call a value of type 'NoneType'"
_NONE_BRANCH = re.compile(r"\belse\s+None\s*$|^\s*None\s+if\b")
_SELF_READ = re.compile(r"\bself\.")


def fixes(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    for diag in evidence.diagnostics:
        symbol = (diag.symbol or "").strip()
        if not diag.message.startswith(_MESSAGE) or not symbol.startswith("self.") \
                or not symbol[5:].isidentifier() or diag.location is None:
            continue
        func = function_of(diag, source)
        if func is None or func.class_name is None:
            continue
        attr, line = symbol[5:], diag.location.line
        if not any(a.class_name == func.class_name and a.attr == attr and a.function.endswith(".__init__")
                   and (a.value is ValueKind.NONE or _NONE_BRANCH.search(a.value_text))
                   for a in source.attributes):
            continue
        around = [b for b in source.branches
                  if b.function == func.qualname and b.first_line <= line <= b.body_last_line]
        if not around:
            continue
        branch = max(around, key=lambda b: b.first_line)  # the innermost
        if _SELF_READ.search(branch.test):
            continue
        yield Fix(CODE, f"guard the call of `self.{attr}` in {func.qualname} with `self.{attr} is not None`",
                  f"{diag.message}: `__init__` can leave `self.{attr}` None, and the call is under "
                  f"`if {branch.test}:`, which TorchScript compiles; `and self.{attr} is not None` leaves "
                  "the branch out where the submodule is None (eager Python raised there)",
                  GuardBranch(func.qualname, branch.test, attr), safety=Safety.NEEDS_DECISION,
                  evidence=Source.COMPILER, location=diag.location)
