"""The pass loop: script → plan → rewrite → script, until the model scripts or stops improving.

Runs in the CLI process; the worker does the torch side. Nothing here writes the user's
file: the loop returns an `Outcome` holding the final source, and the CLI decides.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from tsannotate import rules
from tsannotate.lines import relocate, to_original
from tsannotate.records import (
    AnnotateParam,
    Diagnostic,
    Edit,
    Evidence,
    Fix,
    Observation,
    Outcome,
    PassRecord,
    Safety,
    Source,
    ScriptReport,
    ScriptRequest,
)
from tsannotate.rewrite import apply_edits
from tsannotate.source import index_source


@dataclass(frozen=True)
class Options:
    max_passes: int = 10
    probe: str | None = None
    timeout: float = 120.0
    decide: Callable[[Fix, str], bool] | None = None  # --interactive: accept this fix?
    no_probe: bool = False  # --no-probe: compiler errors and static (mypy) evidence only
    static: bool = True  # run mypy each pass for what the probe did not observe
    annotations_only: bool = False  # --annotations-only: hold back fixes that need a decision


class Scripter(Protocol):
    """Anything that scripts a pass's source: the worker client, in practice."""

    def script(self, request: ScriptRequest) -> ScriptReport: ...


def _key(d: Diagnostic) -> tuple[object, ...]:
    loc = (d.location.path, d.location.line) if d.location else None
    return (d.kind, loc, d.symbol, d.message)


def _badness(report: ScriptReport) -> tuple[int, int, int]:
    """Lower is better: load failures, then failing targets, then diagnostics."""
    if report.load_error is not None:
        return (1, 0, 0)
    failing = sum(not t.scripted for t in report.targets)
    return (0, failing, len(report.diagnostics))


def _worse(new: ScriptReport, old: ScriptReport) -> bool:
    """A pass is worse when it breaks loading, breaks a target that compiled, fails more
    targets or adds diagnostics, and when it leaves the diagnostics exactly as they were
    (the fix did nothing)."""
    if new.scripts:
        return False
    if _badness(new) > _badness(old):
        return True
    clean_before = {t.name for t in old.targets if t.scripted} - {d.target for d in old.diagnostics}
    if any(d.target in clean_before for d in new.diagnostics):
        return True  # a target that compiled (and called) cleanly no longer does: a new error
    return {_key(d) for d in new.diagnostics} == {_key(d) for d in old.diagnostics}


def _static_param_mismatch(fix: Fix, report: ScriptReport) -> bool:
    """A static parameter type for a parameter that compiled as a plain Tensor, when no probe
    ran: the compiled model would fail when called the way the file calls it."""
    edit = fix.edit
    if fix.evidence is not Source.STATIC or report.observations or not isinstance(edit, AnnotateParam):
        return False
    compiled = {(s.qualname, p.name): p.type for s in report.signatures for p in s.params}
    return compiled.get((edit.function, edit.param)) == "Tensor"  # rules never propose a plain Tensor


def _uncompiled(path: str, source: str) -> tuple[tuple[str, str], ...]:
    """The functions the final source leaves out of compilation: @torch.jit.ignore / @torch.jit.unused."""
    found: list[tuple[str, str]] = []
    for f in index_source(path, source).functions:
        modifiers = [d.split("(")[0].rsplit(".", 1)[-1] for d in f.decorators if "jit." in d]
        found.extend((f.qualname, m) for m in modifiers if m in ("ignore", "unused"))
    return tuple(found)


class Loop:
    def __init__(self, path: str, scripter: Scripter, options: Options) -> None:
        self.path = path
        self.scripter = scripter
        self.options = options
        self.tried: set[tuple[str, object]] = set()  # fixes applied or backed out: never again
        self.static_seconds: list[float] = []  # the mypy step's time, per pass
        self.static_notes: tuple[str, ...] = ()
        self.static_learned: tuple[tuple[tuple[str, str], str], ...] = ()  # carried to the next pass
        # --annotations-only: decision fixes held back from the written text are still applied
        # to the text that is scripted, so the errors behind them surface and get annotated.
        self.held: list[Edit] = []

    def shadow(self, source: str) -> str:
        return apply_edits(source, self.held).text if self.held else source

    def script(self, source: str, shadowed: bool = True) -> ScriptReport:
        return self.scripter.script(ScriptRequest(
            model_path=self.path, source=self.shadow(source) if shadowed else source,
            probe=self.options.probe, no_probe=self.options.no_probe))

    def hold(self, proposals: Sequence[Fix]) -> list[Fix]:
        """Remember the held-back decision fixes' edits; return the new ones."""
        new = [f for f in proposals if f.edit is not None and f.edit not in self.held
               and f.safety is Safety.NEEDS_DECISION and self.options.annotations_only]
        self.held.extend(f.edit for f in new if f.edit is not None)
        return new

    def run(self, original: str) -> Outcome:
        started = time.perf_counter()
        current = original
        report = self.script(current)
        if report.load_error is not None:
            return Outcome(self.path, original, original, False, load_error=report.load_error,
                           seconds=time.perf_counter() - started, notes=report.notes)
        passes: list[PassRecord] = []
        advice: dict[tuple[str, object], Fix] = {}
        while len(passes) < self.options.max_passes:
            pass_started = time.perf_counter()
            proposals = self.propose(current, report)
            while newly_held := self.hold(proposals):  # script past the held-back fixes' errors
                proposals = (*newly_held, *self.propose(current, report := self.script(current)))
            for fix in proposals:
                if fix.safety is Safety.DISPLAY_ONLY or (
                        fix.safety is Safety.NEEDS_DECISION and self.options.annotations_only):
                    # held back fixes are reported, not applied; at the user's lines, like applied ones
                    held = replace(fix, location=relocate(fix.location, self.path,
                                                          to_original(original, self.shadow(current))))
                    advice.setdefault(fix.key if fix.edit else (fix.code, (fix.title, held.location)), held)
            if report.scripts:
                # It compiles (and calls correctly on the probe inputs); what is left are the
                # latent bugs the compiled signatures show, e.g. `mask=None` typed as a Tensor.
                # Without a probe, also a parameter compiled as a Tensor that the file's own calls
                # (the probe's inputs, read by mypy) pass as something else; and what the code shows
                # fails in another configuration (a flag's branch using a submodule None when it is off).
                proposals = tuple(f for f in proposals if f.evidence in (Source.SIGNATURE, Source.SOURCE)
                                  or _static_param_mismatch(f, report))
            candidates = [f for f in proposals if f.edit is not None and f.key not in self.tried
                          and not (self.options.annotations_only and f.safety is Safety.NEEDS_DECISION)]
            candidates = [f for f in candidates if self.accept(f, current)]
            if not candidates:
                break
            scripted = current
            current, report, applied, backed_out = self.try_fixes(current, report, candidates)
            mapper = to_original(original, self.shadow(scripted))  # fixes cite the scripted text: show the user's lines
            passes.append(PassRecord(
                len(passes) + 1, report.diagnostics,
                tuple(replace(f, location=relocate(f.location, self.path, mapper)) for f in applied),
                tuple(replace(f, location=relocate(f.location, self.path, mapper)) for f in backed_out),
                time.perf_counter() - pass_started))
            if not applied:
                break
        if self.held:  # what is written lacks the held-back fixes: say how that text does
            report = self.script(current, shadowed=False)
        return Outcome(
            path=self.path, original=original, final=current, scripts=report.scripts,
            passes=tuple(passes), remaining=report.diagnostics,
            advice=tuple(advice.values()), targets=report.targets, uncompiled=_uncompiled(self.path, current),
            notes=report.notes + self.static_notes, seconds=time.perf_counter() - started)

    def propose(self, source: str, report: ScriptReport) -> tuple[Fix, ...]:
        index = index_source(self.path, self.shadow(source))  # the text the diagnostics are about
        observations = self.static_evidence(source, report) + report.observations  # first match wins
        return rules.plan(Evidence(index, report.diagnostics, report.signatures, observations))

    def static_evidence(self, source: str, report: ScriptReport) -> tuple[Observation, ...]:
        """What mypy infers, for the symbols the probe observed nothing about (one mypy run)."""
        if not self.options.static or (report.scripts and report.observations):
            return ()  # it scripts and matched eager on the probe's inputs: nothing to learn
        from tsannotate.static import infer, unobserved

        result = infer(self.path, source, learned=self.static_learned)
        self.static_seconds.append(result.seconds)
        self.static_learned = result.learned
        if result.note:
            self.static_notes = (result.note,)
        return unobserved(result.observations, report.observations)

    def accept(self, fix: Fix, source: str) -> bool:
        if self.options.decide is None:
            return True
        if self.options.decide(fix, source):
            return True
        self.tried.add(fix.key)  # rejected stays rejected for the rest of the run
        return False

    def try_fixes(self, source: str, report: ScriptReport, fixes: Sequence[Fix]
                  ) -> tuple[str, ScriptReport, list[Fix], list[Fix]]:
        """Apply fixes together; if that makes things worse, keep only the ones that help
        one at a time (cargo-fix semantics: a bad fix is backed out, never written)."""
        text, new_report, applied = self.attempt(source, fixes)
        if applied and not _worse(new_report, report):
            return text, new_report, applied, []
        if len(fixes) == 1:
            self.tried.update(f.key for f in fixes)
            return source, report, [], list(fixes)
        kept: list[Fix] = []
        backed_out: list[Fix] = []
        for fix in fixes:
            text, new_report, applied = self.attempt(source, [fix])
            if applied and not _worse(new_report, report):
                source, report = text, new_report
                kept.extend(applied)
            else:
                self.tried.add(fix.key)
                backed_out.append(fix)
        return source, report, kept, backed_out

    def attempt(self, source: str, fixes: Sequence[Fix]) -> tuple[str, ScriptReport, list[Fix]]:
        edits = [f.edit for f in fixes if f.edit is not None]
        result = apply_edits(source, edits)
        applied = [f for f in fixes if f.edit in result.applied]
        for f in applied:
            self.tried.add(f.key)
        if not applied or result.text == source:
            return source, ScriptReport(), []
        return result.text, self.script(result.text), applied
