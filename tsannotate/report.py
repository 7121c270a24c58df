"""Outcome → text for people (diff, reasons, summary) and JSON for machines.

Knows nothing about torch or libcst; paths are shown relative to the working directory.
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import replace
from typing import Any

from tsannotate.lines import relocate, to_original
from tsannotate.report_decisions import decision_lines, decisions_json

from tsannotate.records import Diagnostic, DiagnosticKind, Fix, Location, Observation, Outcome, Role, Safety

# The code a diagnostic is reported under in `check`: the rule that addresses it, or
# a code of its own for what no annotation fixes.
KIND_CODES: dict[DiagnosticKind, str] = {
    DiagnosticKind.NONE_DEFAULT: "TS001",
    DiagnosticKind.VARIABLE_TYPE_CHANGED: "TS002",
    DiagnosticKind.ATTRIBUTE_TYPE_CHANGED: "TS003",
    DiagnosticKind.EMPTY_CONTAINER: "TS004",
    DiagnosticKind.INFERRED_TENSOR: "TS005",
    DiagnosticKind.DEFAULT_TYPE: "TS005",
    DiagnosticKind.ATTRIBUTE_CONVERSION: "TS006",
    DiagnosticKind.CONSTANT_NEEDED: "TS007",
    DiagnosticKind.ARGUMENT_TYPE: "TS005",
    DiagnosticKind.RETURN_TYPE_CHANGED: "TS020",
    DiagnosticKind.OPTIONAL_USED: "TS020",
    DiagnosticKind.TOLIST_HINT: "TS014",
    DiagnosticKind.CALL_FAILED: "TS010",
    DiagnosticKind.UNSUPPORTED: "TS020",
    DiagnosticKind.UNKNOWN: "TS099",
}


def shown(path: str) -> str:
    """A path as the user would type it: relative to the cwd when below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def where(loc: Location | None) -> str:
    if loc is None:
        return "<unknown location>"
    return f"{shown(loc.path)}:{loc.line}:{loc.column + 1}"


def diagnostic_line(d: Diagnostic) -> str:
    return f"{where(d.location)}: {KIND_CODES[d.kind]} {d.message}"


def diff_text(path: str, before: str, after: str, context: int = 3) -> str:
    """A unified diff with git-style a/ b/ names; every line ends in a newline."""
    name = shown(path)
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=f"a/{name}", tofile=f"b/{name}", n=context)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def unified_diff(outcome: Outcome) -> str:
    """The diff of every file the fixes change: the model's, then its project's other files."""
    return "".join(diff_text(c.path, c.original, c.final) for c in outcome.changes)


def _changed_files(outcome: Outcome) -> str:
    return ", ".join(shown(c.path) for c in outcome.changes) or shown(outcome.path)


def decisions(outcome: Outcome, written: bool) -> list[str]:
    """Refactor advice, held-back fixes, and which methods the scripted model leaves to Python."""
    return decision_lines(outcome, written, where)


def fix_line(fix: Fix) -> str:
    safety = "" if fix.safety is Safety.SAFE else f" [{fix.safety.value}]"
    place = f"{where(fix.location)}: " if fix.location else ""
    return f"{fix.code} {fix.title}{safety}\n    because {place}{fix.reason}"


def explain(outcome: Outcome) -> list[str]:
    """One entry per applied fix: its code, what it does and the evidence behind it; then
    each fix that was tried and backed out."""
    lines = [fix_line(f) for f in outcome.fixes]
    for p in outcome.passes:
        for f in p.backed_out:
            lines.append(f"backed out: {fix_line(f)}\n    (applying it made scripting worse: "
                         "a target that compiled failed, or errors were added; nothing of it is written)")
        for f, why in p.declined:
            lines.append(f"not applied: {fix_line(f)}\n    (the rewrite left it: {why}; make the change by hand)")
    return lines


def summary(outcome: Outcome, written: bool) -> str:
    name = _target_names(outcome)
    n = len(outcome.fixes)
    passes = len(outcome.passes)
    fixes = f"{n} fix{'es' if n != 1 else ''} in {passes} pass{'es' if passes != 1 else ''}"
    if outcome.scripts and not outcome.changed:
        return f"{name} already {_verb(outcome, 'scripts', 'script')}; nothing to change"
    if outcome.scripts:
        if written:
            return f"{name} now {_verb(outcome, 'scripts', 'script')}: {fixes}; wrote {_changed_files(outcome)}"
        return f"{name} would script after {fixes}; run with --apply to write {_changed_files(outcome)}"
    remaining = len(outcome.remaining)
    failing = _failing(outcome)
    if failing:
        verb = "fails" if len(failing) == 1 else "fail"
        head = f"{_listed(failing)} still {verb} to script ({remaining} error{'s' if remaining != 1 else ''} left"
    else:
        head = f"{name} still {_verb(outcome, 'fails', 'fail')} to script ({remaining} error{'s' if remaining != 1 else ''} left"
    if n:
        head += f" after {fixes}" + ("; wrote the fixes found" if written else "")
    working = [t.name for t in outcome.targets if t.name not in failing] if failing else []
    if working:
        head += f"; {_listed(working)} {'scripts' if len(working) == 1 else 'script'}"
    return head + ")"


def _failing(outcome: Outcome) -> list[str]:
    """The targets that do not script, else those whose scripted call failed; [] when the targets
    do not say (a load error, a pass that never got to them)."""
    return [t.name for t in outcome.targets if not t.scripted] or \
        [t.name for t in outcome.targets if t.scripted and not t.called and len(outcome.targets) > 1]


def _listed(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _verb(outcome: Outcome, one: str, many: str) -> str:
    return many if len(outcome.targets) > 1 else one


def _target_names(outcome: Outcome) -> str:
    names = [t.name for t in outcome.targets]
    if not names:
        return shown(outcome.path)
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def remaining_lines(outcome: Outcome, written: bool) -> list[str]:
    """Each error left, at path:line, with why no fix was found. Lines are the written
    file's when it was written, else the original file's (the proposal exists nowhere)."""
    mapper = (lambda line: line) if written else to_original(outcome.original, outcome.final)
    out = []
    advised = {(f.location.line, f.location.column) for f in outcome.advice if f.location}
    in_original = to_original(outcome.original, outcome.final)  # advice cites the user's lines
    for d in outcome.remaining:
        where_then = relocate(d.location, outcome.path, in_original)
        d = replace(d, location=relocate(d.location, outcome.path, mapper))
        if d.location is not None and d.location.path in outcome.not_edited:
            why = "the error is in a file outside the model's project, which tsannotate never edits"
            reached = next((c for c in d.call_chain if c.path not in outcome.not_edited), None)
            if reached is not None:
                why += (f"; your code reaches it at {where(relocate(reached, outcome.path, mapper) or reached)}: "
                        "change that call, or keep it out of compiled code")
        elif where_then and (where_then.line, where_then.column) in advised:
            why = "it needs a refactor: see the advice below"
        else:
            why = _why_unfixed(d)
        out.append(f"{diagnostic_line(d)}\n    no automatic fix: {why}")
    return out


def _why_unfixed(d: Diagnostic) -> str:
    if d.kind is DiagnosticKind.UNSUPPORTED:
        return "TorchScript cannot compile this construct; it needs a refactor (or @torch.jit.ignore)"
    if d.kind is DiagnosticKind.CALL_FAILED:
        return "the model scripts but fails or differs when called on the probe inputs"
    if d.kind is DiagnosticKind.CONSTANT_NEEDED:
        return "the index is not an attribute that can be Final; it needs a refactor (see the advice)"
    if d.kind is DiagnosticKind.UNKNOWN:
        return "tsannotate does not recognise this compiler error yet"
    if d.location is None:
        return "the compiler gave no location, so the symbol could not be found in the source"
    return "no rule could tell which annotation makes this compile"


JSON_SCHEMA = 1  # docs/json.md; bumped when a field changes meaning or goes away (not when one is added)


def to_json(outcome: Outcome, written: bool) -> str:
    """`fix`/`check --format json`: one object per file, every field described in docs/json.md."""
    data: dict[str, Any] = {
        "schema": JSON_SCHEMA,
        "path": shown(outcome.path),
        "scripts": outcome.scripts,
        "changed": outcome.changed,
        "files": [shown(c.path) for c in outcome.changes],
        "not_edited": [shown(p) for p in outcome.not_edited],
        "written": written,
        "targets": [{"name": t.name, "scripted": t.scripted, "called": t.called}
                    for t in outcome.targets],
        "fixes": [_fix_json(f, p.number, "written" if written else "proposed")
                  for p in outcome.passes for f in p.fixes],
        "backed_out": [_fix_json(f, p.number, "backed-out") for p in outcome.passes for f in p.backed_out]
        + [{**_fix_json(f, p.number, "not-applied"), "reason": f"{f.reason} — not applied: {why}"}
           for p in outcome.passes for f, why in p.declined],
        "diagnostics": [_diag_json(d) for d in outcome.remaining],
        "passes": [{"number": p.number, "fixes": len(p.fixes), "backed_out": len(p.backed_out),
                    "errors": len(p.diagnostics), "seconds": round(p.seconds, 3)} for p in outcome.passes],
        "notes": list(outcome.notes),
        "seconds": round(outcome.seconds, 3),
        **decisions_json(outcome),  # advice, decorated methods, needs_python
    }
    if outcome.load_error is not None:
        data["error"] = {"kind": outcome.load_error.failure.value,
                         "message": outcome.load_error.message}
    return json.dumps(data, indent=2)


def _fix_json(fix: Fix, number: int, status: str) -> dict[str, Any]:
    return {"code": fix.code, "title": fix.title, "reason": fix.reason,
            "safety": fix.safety.value, "evidence": fix.evidence.value, "pass": number,
            "status": status, "location": where(fix.location) if fix.location else None}


def _diag_json(d: Diagnostic) -> dict[str, Any]:
    loc = d.location
    return {"code": KIND_CODES[d.kind], "kind": d.kind.value, "message": d.message,
            "path": shown(loc.path) if loc else None, "line": loc.line if loc else None,
            "column": loc.column + 1 if loc else None, "symbol": d.symbol,
            "target": d.target}


def observation_lines(observations: tuple[Observation, ...]) -> list[str]:
    """`tsannotate probe` output: per function (and per class for attributes), what was seen."""
    by_owner: dict[str, list[Observation]] = {}
    for o in observations:
        by_owner.setdefault(o.qualname, []).append(o)
    lines: list[str] = []
    for owner, items in by_owner.items():
        calls = max((o.count for o in items if o.role is Role.ARG), default=0)
        kind = "attributes" if items[0].role is Role.ATTR else f"{calls} call{'s' if calls != 1 else ''}"
        lines.append(f"{owner}  ({kind})")
        for o in sorted(items, key=lambda o: ("arg", "local", "attr", "return").index(o.role.value)):
            seen = o.type or f"? ({o.note})"
            label = {"arg": o.name, "local": f"local {o.name}", "attr": f"self.{o.name}",
                     "return": "-> return"}[o.role.value]
            lines.append(f"    {label}: {seen}")
    return lines
