"""TS011 — `nn.ModuleList` for a plain Python list of modules.

What it does: `self.blocks = [nn.Linear(4, 4), ...]` (or a list comprehension) in `__init__` →
`self.blocks = nn.ModuleList([...])`, spelled with the module prefix the class's base uses
(`nn.Module` → `nn.ModuleList`).
Why: TorchScript cannot type a Python list of modules ("failed to convert Python type: 'list' ...
Cannot infer concrete type of torch.nn.Module"); a ModuleList is a container it compiles, and a
`for block in self.blocks:` loop over it is unrolled.
Fix safety: needs a decision — the modules become registered submodules: their parameters join
`parameters()` and `state_dict()` (keys `blocks.0.weight` ...), and `.to()` / `.eval()` reach them.
That is usually what was meant, but a checkpoint saved before lacks those keys.
"""

from __future__ import annotations

from collections.abc import Iterator

from tsannotate.records import DiagnosticKind, Evidence, Fix, Safety, SourceIndex, WrapValue

CODE = "TS011"
CONSEQUENCE = ("the modules become registered submodules: their parameters join parameters() and state_dict(), "
               "and .to()/.eval() reach them; a checkpoint saved before lacks those keys")


def fixes(evidence: Evidence) -> Iterator[Fix]:
    source = evidence.source
    for diag in evidence.diagnostics:
        if diag.kind is not DiagnosticKind.ATTRIBUTE_CONVERSION or "(a list of modules)" not in diag.message:
            continue
        cls = source.cls(diag.owner or "")
        if cls is None or not diag.symbol:
            continue
        assigned = [a for a in source.attributes if a.class_name == cls.name and a.attr == diag.symbol]
        init = f"{cls.name}.__init__"
        if len(assigned) != 1 or assigned[0].function != init or not assigned[0].value_text.lstrip().startswith("["):
            continue  # reassigned, or not a list display: the advice (TS020) names the refactor
        wrapper = f"{_nn(source, cls.bases)}.ModuleList"
        yield Fix(CODE, f"wrap `self.{diag.symbol}` of {cls.name} in {wrapper}",
                  f"{diag.message}: {CONSEQUENCE}",
                  WrapValue(init, f"self.{diag.symbol}", wrapper), safety=Safety.NEEDS_DECISION,
                  location=diag.location)


def _nn(source: SourceIndex, bases: tuple[str, ...]) -> str:
    """How the file reaches torch.nn: the prefix of its `...Module` base, else `<torch>.nn`."""
    for base in bases:
        if base.endswith(".Module"):
            return base[: -len(".Module")]
    return f"{source.style.torch_alias}.nn"
