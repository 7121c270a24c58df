"""What the user decides about: refactor advice, fixes held back by --annotations-only, and the
methods the scripted model leaves to Python (@torch.jit.ignore) or stubs out (@torch.jit.unused).

Part of report: knows nothing about torch or libcst.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tsannotate.lines import relocate, to_original
from tsannotate.records import Decorate, Fix, Location, Outcome, Safety


@dataclass(frozen=True)
class DecoratedMethod:
    function: str
    decorator: str  # "ignore" / "unused"
    location: Location | None
    added: bool = True  # by a fix of this run (else: already in the file)

    @property
    def needs_python(self) -> bool:
        return self.decorator == "ignore"

    @property
    def consequence(self) -> str:
        if self.needs_python:
            return "stays Python: the saved model needs Python (torch.jit.save refuses it; no C++)"
        return "compiled as a stub that raises if reached; no Python needed"


def decorated(outcome: Outcome) -> list[DecoratedMethod]:
    """Every method left out of compilation: decorated by a fix of this run, then those the file
    already had (@torch.jit.ignore / @torch.jit.unused)."""
    out = []
    for fix in outcome.fixes:
        if isinstance(fix.edit, Decorate):
            out.append(DecoratedMethod(fix.edit.function, fix.edit.decorator.rsplit(".", 1)[-1], fix.location))
    added = {m.function for m in out}
    out.extend(DecoratedMethod(name, how, None, added=False) for name, how in outcome.uncompiled if name not in added)
    return out


def _place(fix: Fix, outcome: Outcome, written: bool, shown: Any) -> str:
    loc = fix.location
    if written and loc is not None:  # advice is in the user's original lines; the file now has the fixes
        loc = relocate(loc, outcome.path, to_original(outcome.final, outcome.original))
    return f"{shown(loc)}: " if loc is not None else ""


def decision_lines(outcome: Outcome, written: bool, where: Any) -> list[str]:
    """Advice (display-only fixes), then held-back fixes, then the Python-dependence summary."""
    lines: list[str] = []
    # advice a fix resolved is not repeated; a decorated method keeps its advice (the real refactor)
    refactored = {f.location for f in outcome.fixes if not isinstance(f.edit, Decorate)}
    for fix in outcome.advice:
        if fix.safety is Safety.DISPLAY_ONLY and fix.location not in refactored:  # else: done, not advice
            lines.append(f"{fix.code} {fix.title} [advice]\n    at {_place(fix, outcome, written, where)}{fix.reason}")
    for fix in outcome.advice:
        if fix.safety is Safety.NEEDS_DECISION:
            lines.append(f"{fix.code} {fix.title} [held back: --annotations-only]\n"
                         f"    because {_place(fix, outcome, written, where)}{fix.reason}")
    methods = decorated(outcome)
    if methods:
        needs = [m for m in methods if m.needs_python]
        verdict = (f"the scripted model needs Python ({len(needs)} ignored method{'s' if len(needs) != 1 else ''})"
                   if needs else "the scripted model runs without Python")
        lines.append(f"methods left out of compilation: {verdict}")
        for m in methods:
            already = "" if m.added else " (already in the file)"
            lines.append(f"    {m.function}  @torch.jit.{m.decorator}{already}: {m.consequence}")
    return lines


def decisions_json(outcome: Outcome) -> dict[str, Any]:
    methods = decorated(outcome)
    return {
        "advice": [{"code": f.code, "title": f.title, "reason": f.reason, "safety": f.safety.value,
                    "status": "advice" if f.safety is Safety.DISPLAY_ONLY else "held-back",
                    "line": f.location.line if f.location else None} for f in outcome.advice],
        "decorated": [{"function": m.function, "decorator": f"torch.jit.{m.decorator}",
                       "needs_python": m.needs_python, "added": m.added} for m in methods],
        "needs_python": any(m.needs_python for m in methods),
    }


def needs_python(outcome: Outcome) -> bool:
    """A fix of this run left a method to Python: saving the scripted model is meant to fail."""
    return any(m.needs_python for m in decorated(outcome))
