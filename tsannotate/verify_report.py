"""A VerifyReport as text for people: what differs first, what calls Python, what a trace freezes."""

from __future__ import annotations

import json
from dataclasses import asdict

from tsannotate.records import Check, Hazard, Location, VerifyReport
from tsannotate.report import JSON_SCHEMA
from tsannotate.report import shown as shown_path
from tsannotate.report import where

HAZARD_HINT = ("hint: a trace replays the values these lines computed for the first input; decorate "
               "the function holding them with @torch.jit.script_if_tracing, or deploy "
               "torch.jit.script(model) instead of a trace")
BRANCH_HINT = ("hint: no line froze a value, so the trace differs by control flow: it keeps the "
               "branches and loop counts the first input (and the model's state) took; deploy "
               "torch.jit.script(model), or put that logic under @torch.jit.script_if_tracing")
_STAGES = {"scripted": "the scripted model", "loaded": "the saved-and-loaded model",
           "traced": "the traced model", "cpp": "the model run from C++", "eager": "the eager model",
           "saved": "saving"}
_SHORT = {"scripted": "scripted", "loaded": "saved+loaded", "traced": "traced", "cpp": "C++"}


def failure_line(shown: str, c: Check) -> str:
    on = f" on {c.input}" if c.input else ""
    return f"{shown}: {c.target}: {_STAGES.get(c.stage, c.stage)} differs from eager{on}: {c.message}" \
        if c.input and c.stage != "eager" else f"{shown}: {c.target}{on}: {c.message}"


def lines(report: VerifyReport, shown: str) -> list[str]:
    """stdout: one line per failure, per call back into Python, per trace hazard, per target verified."""
    out = [failure_line(shown, c) for c in report.failures]
    targets = list(dict.fromkeys(c.target for c in report.checks))
    for target in targets:
        checks = [c for c in report.checks if c.target == target]
        if any(not c.ok for c in checks):
            continue
        inputs = list(dict.fromkeys(c.input for c in checks if c.input))
        stages = list(dict.fromkeys(c.stage for c in checks if c.input))
        if not inputs:
            saved = " and saves/loads" if any(c.stage == "saved" for c in checks) else ""
            out.append(f"{shown}: {target}: scripts{saved}; no inputs to compare")
            continue
        derived = [i for i in inputs if " with " in i]
        what = " and ".join(_SHORT.get(s, s) for s in stages)
        out.append(f"{shown}: {target}: {what} equal eager on {len(inputs)} inputs "
                   f"({len(inputs) - len(derived)} from the probe, {len(derived)} derived: "
                   f"{_derived_summary(derived)})")
    for call in report.python_calls:
        at = f" ({where(call.location)})" if call.location else ""
        out.append(f"{shown}: calls back into Python: {call.name}{at} is @torch.jit.ignore'd, "
                   "so the saved model needs Python and cannot run from C++")
    out += [hazard_line(h) for h in report.hazards]
    if report.hazards:
        out.append(HAZARD_HINT)
    elif any(c.stage == "traced" and c.input for c in report.failures):
        out.append(BRANCH_HINT)
    return out


def hazard_line(h: Hazard) -> str:
    return f"{where(h.location)}: trace hazard: {h.what}" + (" (the tracer warned here)" if h.warned else "")


def summary(report: VerifyReport, shown: str) -> str:
    failures = report.failures
    if failures:
        first = next((c for c in failures if c.input), failures[0])  # an output, when one differs
        n = len(failures)
        on = f" on {first.input}" if first.input else ""
        return (f"{shown}: NOT verified: {n} check{'s' if n != 1 else ''} failed; first: "
                f"{first.target} {first.stage}{on}: {first.message}")
    if not report.compared:
        return (f"{shown}: nothing compared: verify needs a probe with inputs "
                f"(`tsannotate probe {shown} --template` prints one to fill in)")
    n = sum(1 for c in report.checks if c.input)
    return f"{shown}: verified: {n} comparisons with eager, all equal ({report.seconds:.2f} s)"


def _derived_summary(derived: list[str]) -> str:
    kinds = [d.partition(" with ")[2].partition(" (")[0] for d in derived]
    return ", ".join(dict.fromkeys(kinds)) or "none"


def to_json(report: VerifyReport, shown: str) -> str:
    """`verify --format json`: every check, call back into Python, hazard and note."""
    def place(loc: Location | None) -> dict[str, object] | None:
        return None if loc is None else {"path": shown_path(loc.path), "line": loc.line, "column": loc.column + 1}

    return json.dumps({
        "schema": JSON_SCHEMA,
        "path": shown,
        "verified": report.ok and report.compared,
        "checks": [asdict(c) for c in report.checks],
        "python_calls": [{"name": c.name, "location": place(c.location)} for c in report.python_calls],
        "hazards": [{"what": h.what, "warned": h.warned, "location": place(h.location)}
                    for h in report.hazards],
        "notes": list(report.notes),
        "seconds": round(report.seconds, 3),
    }, indent=2, ensure_ascii=False)
