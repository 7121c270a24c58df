"""The pass loop: script → plan → rewrite → script, until the model scripts or stops improving.

Runs in the CLI process; the worker does the torch side. Nothing here writes the user's
file: the loop returns an `Outcome` holding the final source, and the CLI decides.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from tsannotate import rules
from tsannotate.lines import relocate, to_original
from tsannotate.records import (
    AnnotateParam,
    Decorate,
    Diagnostic,
    DiagnosticKind,
    Edit,
    Evidence,
    FileChange,
    Fix,
    LoadError,
    LoadFailure,
    Observation,
    Outcome,
    PassRecord,
    Safety,
    Source,
    ScriptReport,
    ScriptRequest,
)
from tsannotate.rewrite import apply_edits, prepare
from tsannotate.source import index_source

if TYPE_CHECKING:
    from tsannotate.static import StaticResult

Learned = tuple[tuple[tuple[str, str], str], ...]  # what one pass's mypy step carries to the next


@dataclass(frozen=True)
class Options:
    max_passes: int = 10
    probe: str | None = None
    timeout: float = 120.0
    decide: Callable[[Fix, str], bool] | None = None  # --interactive: accept this fix?
    no_probe: bool = False  # --no-probe: compiler errors and static (mypy) evidence only
    static: bool = True  # run mypy each pass for what the probe did not observe
    annotations_only: bool = False  # --annotations-only: hold back fixes that need a decision
    # The text of another file of the user's project that a compiler error points into, to be
    # fixed too; None when it may not be edited (outside the project). None: the model file only.
    open_sibling: Callable[[str], str | None] | None = None
    on_pass: Callable[[PassRecord], None] | None = None  # told of each pass as it ends (progress)
    select: tuple[str, ...] = ()  # fix codes (or prefixes: "TS00") to propose; () = every code
    ignore: tuple[str, ...] = ()  # fix codes (or prefixes) never to propose; beats select

    def wants(self, code: str) -> bool:
        return (not self.select or code.startswith(self.select)) and not code.startswith(self.ignore)


class Scripter(Protocol):
    """Anything that scripts a pass's source: the worker client, in practice. One that has a
    `ready` attribute (the client does) says with False that its next reply includes its start."""

    def script(self, request: ScriptRequest) -> ScriptReport: ...


def _key(d: Diagnostic) -> tuple[object, ...]:
    loc = (d.location.path, d.location.line) if d.location else None
    return (d.kind, loc, d.symbol, d.message)


def _badness(report: ScriptReport, probed: bool = False) -> tuple[int, int, int]:
    """Lower is better: load failures, then failing targets, then diagnostics. With a probe, a
    target that compiles but fails (or differs) when called on its inputs is failing too: a fix
    that turns that into a compile error in a callee the probe never reached is no worse."""
    if report.load_error is not None:
        return (1, 0, 0)
    failing = sum(not (t.scripted and (t.called or not probed)) for t in report.targets)
    # one error, not one per module that contains it: an error without a location is reported
    # once for each enclosing module scripted on its own; and one for an attribute whose value could
    # not be converted together with the error of its class the worker brought back (jit.py,
    # `_held_class_error`: the cause is reported under the target `<target>.<attribute>`)
    causes = {d.target for d in report.diagnostics}
    counted = {_key(d) for d in report.diagnostics
               if not (d.kind is DiagnosticKind.ATTRIBUTE_CONVERSION and f"{d.target}.{d.symbol}" in causes)}
    return (0, failing, len(counted))


# Fixes that stand on evidence of their own, not on a compiler error they were meant to clear:
# leaving the diagnostics as they were does not make them wrong (a Final the code shows a flag
# needs, a type the probe saw, while an unrelated error still stops the compiler).
_SELF_EVIDENT = (Source.PROBE, Source.SIGNATURE, Source.SOURCE)


def _worse(new: ScriptReport, old: ScriptReport, fixes: Sequence[Fix] = ()) -> bool:
    """A pass is worse when it breaks loading, breaks a target that compiled, fails more
    targets or adds diagnostics, and when it leaves the diagnostics exactly as they were
    (the fix did nothing) — unless every fix rests on evidence other than a compiler error."""
    if new.scripts:
        return False
    probed = bool(old.observations or new.observations)
    if _badness(new, probed) > _badness(old, probed):
        return True
    if probed and _python_call_breaks(new, old, fixes):
        return True
    clean_before = {t.name for t in old.targets if t.scripted} - {d.target for d in old.diagnostics}
    if any(d.target in clean_before for d in new.diagnostics):
        return True  # a target that compiled (and called) cleanly no longer does: a new error
    unchanged = {_key(d) for d in new.diagnostics} == {_key(d) for d in old.diagnostics}
    return unchanged and not (fixes and all(f.evidence in _SELF_EVIDENT for f in fixes))


def _python_call_breaks(new: ScriptReport, old: ScriptReport, fixes: Sequence[Fix]) -> bool:
    """A `@torch.jit.ignore`/`@torch.jit.unused` that lets a target compile, which then fails (or
    differs) when called on the probe inputs: the method runs as Python on the scripted module,
    where `self.helper` of a staticmethod, `next(self.parameters())` or a keyword argument can break
    (found on T5's relative buckets, word_language_model's init_hidden, YOLO's NMS). The compile
    error the user had is honest; a model that scripts and then raises is not a fix."""
    if not any(isinstance(f.edit, Decorate) for f in fixes):
        return False
    before = {t.name for t in old.targets if not t.scripted}
    return any(t.scripted and not t.called and t.name in before for t in new.targets)


def _static_param_mismatch(fix: Fix, report: ScriptReport) -> bool:
    """A static parameter type for a parameter that compiled as a plain Tensor, when no probe
    ran: the compiled model would fail when called the way the file calls it."""
    edit = fix.edit
    if fix.evidence is not Source.STATIC or report.observations or not isinstance(edit, AnnotateParam):
        return False
    compiled = {(s.qualname, p.name): p.type for s in report.signatures for p in s.params}
    return compiled.get((edit.function, edit.param)) == "Tensor"  # rules never propose a plain Tensor


def _uncompiled(path: str, source: str) -> list[tuple[str, str]]:
    """The functions the final source leaves out of compilation: @torch.jit.ignore / @torch.jit.unused."""
    found: list[tuple[str, str]] = []
    for f in index_source(path, source).functions:
        modifiers = [d.split("(")[0].rsplit(".", 1)[-1] for d in f.decorators if "jit." in d]
        found.extend((f.qualname, m) for m in modifiers if m in ("ignore", "unused"))
    return found


def _concerns(d: Diagnostic, path: str, model: str, texts: dict[str, str]) -> bool:
    """Whether the fix for `d` may be in the file at `path`: the file the error is in, or the
    file defining the function it is about (a call site in one file, the callee in another).
    The model file also gets what no other file being fixed is named by."""
    here = d.location.path if d.location else None
    if path in (here, d.function_path):
        return True
    return path == model and here not in texts and d.function_path not in texts


def _for_file(path: str, model: str, items: Sequence[Observation]) -> tuple[Observation, ...]:
    """What the probe saw in the file at `path` (an observation without a file: the model's)."""
    return tuple(o for o in items if o.path == path or (path == model and not o.path))


class _WorkerLost(Exception):
    """The worker crashed or timed out in a later pass: the run stops, nothing is written."""

    def __init__(self, error: LoadError) -> None:
        super().__init__(error.message)
        self.error = error


class _Ahead:
    """Work for the CLI's idle core while the worker scripts a pass's source (the main thread
    only waits on the reply, so this runs in parallel with the worker): index the texts sent,
    which the next propose indexes (index_source is cached), then, if asked, the next pass's
    mypy step, then LibCST's parse of the texts the pass's fixes would edit (rewrite.prepare:
    0.12 s of the first pass's rewrite on a 1500-line model; later texts were written by the
    rewrite, which keeps their parse). One thread; `Loop.settle` joins it (`Loop.run` does, unless its caller will:
    fix --apply verifies first), so mypy (which writes its cache) is never cut off by the
    process exiting, and a file's mypy step never runs beside the next file's."""

    _STACK = 64 << 20  # mypy is compiled: deep nesting recurses in C, as on the main thread's stack

    def __init__(self, texts: Sequence[tuple[str, str]],
                 static: tuple[str, str, Learned] | None, edited: Sequence[str] = ()) -> None:
        self.static_key = static[1:] if static is not None else None  # (source, learned) mypy ran on
        self.indexed = threading.Event()
        self._result: StaticResult | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(tuple(texts), static, tuple(edited)),
                                        name="tsannotate-ahead")
        old = threading.stack_size()
        threading.stack_size(max(old, self._STACK))
        try:
            self._thread.start()
        finally:
            threading.stack_size(old)

    def _run(self, texts: tuple[tuple[str, str], ...], static: tuple[str, str, Learned] | None,
             edited: tuple[str, ...]) -> None:
        try:
            for path, text in texts:
                try:
                    index_source(path, text)
                except Exception:  # noqa: S110 - the main thread's own call raises it again, as before
                    pass
        finally:
            self.indexed.set()
        from tsannotate.static import collect_garbage

        collect_garbage()  # earlier mypy builds' graphs, freed while the worker scripts
        if static is not None:
            try:
                from tsannotate.static import infer

                self._result = infer(static[0], static[1], learned=static[2])
            except BaseException as exc:  # raised where the serial step would have raised it
                self._error = exc
        for text in edited:  # the texts a pass's fixes would edit (the first's: the rest are cached)
            prepare(text)

    def busy(self) -> bool:
        return self._thread.is_alive()

    def join(self) -> None:
        self._thread.join()

    def static(self) -> StaticResult:
        """The mypy step's result (waiting for it), exactly as `infer` returned or raised it."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


class Loop:
    """Fix one model file, and the files of its project that its compiler errors point into."""

    def __init__(self, path: str, scripter: Scripter, options: Options) -> None:
        self.path = os.path.abspath(path)  # as the worker names it in what it reports
        self.scripter = scripter
        self.options = options
        self.tried: set[tuple[str, object]] = set()  # (file, fix key) applied or backed out: never again
        self.declined: dict[tuple[str, object], str] = {}  # (file, fix key) → why the rewrite left it
        self.static_seconds: list[float] = []  # the mypy step's time, per pass
        self.static_notes: tuple[str, ...] = ()
        self.static_learned: tuple[tuple[tuple[str, str], str], ...] = ()  # carried to the next pass
        # --annotations-only: decision fixes held back from the written text are still applied
        # to the text that is scripted, so the errors behind them surface and get annotated.
        self.held: dict[str, list[Edit]] = {}  # per file
        self.originals: dict[str, str] = {}  # every file being fixed, as it was: the model first
        self.closed: set[str] = set()  # files errors point into that may not be edited
        self.owner: dict[Fix, str] = {}  # the file each proposed fix edits
        self.deselected: set[tuple[str, object]] = set()  # fixes --select/--ignore left out
        self.ahead: _Ahead | None = None  # work done while the worker scripts (see _Ahead)

    def file(self, fix: Fix) -> str:
        return self.owner.get(fix, self.path)

    def deselected_notes(self) -> tuple[str, ...]:
        """Say which fixes select/ignore left out, so an error they would fix is not taken for unfixable."""
        if not self.deselected:
            return ()
        n, codes = len(self.deselected), sorted({code for code, _ in self.deselected})
        return (f"{n} fix{'es' if n != 1 else ''} left out by select/ignore ({', '.join(codes)})",)

    def shadow(self, path: str, text: str) -> str:
        held = self.held.get(path)
        return apply_edits(text, held).text if held else text

    def script(self, texts: dict[str, str], shadowed: bool = True, static: bool = False) -> ScriptReport:
        """How `texts` script. Meanwhile the CLI indexes them, and with `static` runs the mypy
        step the next propose would run on them (both only when no earlier such work is busy)."""
        def look(path: str) -> str:
            return self.shadow(path, texts[path]) if shadowed else texts[path]

        request = ScriptRequest(
            model_path=self.path, source=look(self.path), probe=self.options.probe,
            no_probe=self.options.no_probe, sources=tuple((p, look(p)) for p in texts if p != self.path))
        ahead = None
        if shadowed and not (self.ahead is not None and self.ahead.busy()):
            self.settle()
            mypy = (self.path, texts[self.path], self.static_learned) if static else None
            ahead = self.ahead = _Ahead([(request.model_path, request.source), *request.sources], mypy,
                                        edited=list(texts.values()))
        try:
            return self.scripter.script(request)
        finally:
            if ahead is not None:
                ahead.indexed.wait()  # indexing on two threads at once would only do it twice

    def settle(self) -> None:
        """Wait for the work started while the worker scripted (a mypy run nobody needed)."""
        if self.ahead is not None:
            self.ahead.join()
            self.ahead = None

    def speculate(self, report: ScriptReport, passes: int) -> bool:
        """Whether to run the next pass's mypy step while the worker scripts a pass's fixes: it
        is needed if they are kept and a pass follows (always, without probe observations:
        `static_evidence`). Unneeded, it costs only what it runs past the reply (the loop joins
        it): run it when the last script took the worker at least half as long as the last mypy
        step took here, so that what it can waste is at most what it saves when it is needed
        (on the 1500-line bench model: script 0.57 s, mypy 0.58 s, a second pass)."""
        if not self.options.static or passes + 1 >= self.options.max_passes or not self.static_seconds:
            return False
        return not report.observations or 2 * report.seconds >= self.static_seconds[-1]

    def hold(self, proposals: Sequence[Fix]) -> list[Fix]:
        """Remember the held-back decision fixes' edits; return the new ones."""
        new = [f for f in proposals if f.edit is not None and f.edit not in self.held.get(self.file(f), ())
               and f.safety is Safety.NEEDS_DECISION and self.options.annotations_only]
        for f in new:
            assert f.edit is not None
            self.held.setdefault(self.file(f), []).append(f.edit)
        return new

    def at_user_lines(self, fix: Fix, texts: dict[str, str]) -> Fix:
        """`fix` cites the scripted text of its file: show the user's lines instead."""
        path = self.file(fix)
        mapper = to_original(self.originals[path], self.shadow(path, texts[path]))
        return replace(fix, location=relocate(fix.location, path, mapper))

    def run(self, original: str, settle: bool = True) -> Outcome:
        """Fix `original`. With `settle=False` a mypy step started ahead may still be running
        when this returns: the caller calls `settle()` once it has used the time (verify)."""
        try:
            return self._run(original)
        finally:
            if settle:
                self.settle()

    def _run(self, original: str) -> Outcome:
        started = time.perf_counter()
        texts = {self.path: original}
        self.originals = {self.path: original}
        # While the worker starts (its `import torch`, ~1 s) and scripts, the first pass's mypy
        # step runs here. Not with a worker already running: its reply comes sooner than mypy's,
        # and a model that already scripts needs no mypy step at all.
        cold = getattr(self.scripter, "ready", True) is False
        report = self.script(texts, static=self.options.static and self.options.max_passes > 0 and cold)
        if report.load_error is not None:
            return Outcome(self.path, original, original, False, load_error=report.load_error,
                           seconds=time.perf_counter() - started, notes=report.notes)
        passes: list[PassRecord] = []
        advice: dict[tuple[str, object], Fix] = {}
        while len(passes) < self.options.max_passes:
            pass_started = time.perf_counter()
            proposals = self.propose(texts, report)
            while newly_held := self.hold(proposals):  # script past the held-back fixes' errors
                proposals = (*newly_held, *self.propose(texts, report := self.script(texts)))
            for fix in proposals:
                if fix.safety is Safety.DISPLAY_ONLY or (
                        fix.safety is Safety.NEEDS_DECISION and self.options.annotations_only):
                    # held back fixes are reported, not applied; at the user's lines, like applied ones
                    held = self.at_user_lines(fix, texts)
                    # advice once per line: a later pass sees the line after this run's edits, its
                    # columns shifted (the line maps back to the user's, a column cannot be trusted to)
                    line = (held.location.path, held.location.line) if held.location else None
                    advice.setdefault((self.file(fix), fix.key) if fix.edit else (fix.code, (fix.title, line)), held)
            if report.scripts:
                # It compiles (and calls correctly on the probe inputs); what is left are the
                # latent bugs the compiled signatures show, e.g. `mask=None` typed as a Tensor.
                # Without a probe, also a parameter compiled as a Tensor that the file's own calls
                # (the probe's inputs, read by mypy) pass as something else; and what the code shows
                # fails in another configuration (a flag's branch using a submodule None when it is off).
                proposals = tuple(f for f in proposals if f.evidence in (Source.SIGNATURE, Source.SOURCE)
                                  or _static_param_mismatch(f, report))
            candidates = [f for f in proposals if f.edit is not None and (self.file(f), f.key) not in self.tried
                          and not (self.options.annotations_only and f.safety is Safety.NEEDS_DECISION)]
            candidates = [f for f in candidates if self.accept(f, texts)]
            if not candidates:
                break
            scripted = texts
            try:
                texts, report, applied, backed_out = self.try_fixes(
                    texts, report, candidates, static=self.speculate(report, len(passes)))
            except _WorkerLost as lost:  # not the fixes' doing: an outside kill, memory, a hang
                error = replace(lost.error, message=f"{lost.error.message} (in pass {len(passes) + 1}, "
                                                    "scripting the fixed source; nothing was written)")
                return Outcome(self.path, original, original, False, load_error=error,
                               seconds=time.perf_counter() - started, notes=report.notes)
            declined = [f for f in candidates if (self.file(f), f.key) in self.declined]
            passes.append(PassRecord(
                len(passes) + 1, report.diagnostics,
                tuple(self.at_user_lines(f, scripted) for f in applied),
                tuple(self.at_user_lines(f, scripted) for f in backed_out if f not in declined),
                time.perf_counter() - pass_started,
                tuple((self.at_user_lines(f, scripted), self.declined[(self.file(f), f.key)]) for f in declined)))
            if self.options.on_pass is not None:
                self.options.on_pass(passes[-1])
            if not applied:
                break
        if any(self.held.values()):  # what is written lacks the held-back fixes: say how that text does
            report = self.script(texts, shadowed=False)
        return Outcome(
            path=self.path, original=original, final=texts[self.path], scripts=report.scripts,
            passes=tuple(passes), remaining=report.diagnostics,
            advice=tuple(advice.values()), targets=report.targets,
            uncompiled=tuple(u for p, t in texts.items() for u in _uncompiled(p, t)),
            notes=report.notes + self.static_notes + self.outside_notes(report) + self.deselected_notes(),
            seconds=time.perf_counter() - started,
            files=tuple(FileChange(p, self.originals[p], t) for p, t in texts.items()
                        if p != self.path and t != self.originals[p]),
            not_edited=tuple(sorted(self.closed)))

    def outside_notes(self, report: ScriptReport) -> tuple[str, ...]:
        """Why the errors still in files that may not be edited are left there."""
        from tsannotate.report import shown

        left = dict.fromkeys(d.location.path for d in report.diagnostics
                             if d.location is not None and d.location.path in self.closed)
        return tuple(f"{shown(p)} is outside this model's project (an installed package, the standard "
                     "library, or a file that cannot be read): tsannotate reports its errors but never "
                     "edits it; change how the project calls it" for p in left)

    def open_siblings(self, texts: dict[str, str], report: ScriptReport) -> None:
        """Add the project files that compiler errors point into to the files being fixed."""
        if self.options.open_sibling is None:
            return
        for d in report.diagnostics:
            for path in (d.location.path if d.location else None, d.function_path or None):
                if path is None or path in texts or path in self.closed:
                    continue
                text = self.options.open_sibling(path)
                if text is None:
                    self.closed.add(path)
                else:
                    texts[path] = self.originals[path] = text

    def propose(self, texts: dict[str, str], report: ScriptReport) -> tuple[Fix, ...]:
        self.open_siblings(texts, report)
        fixes: list[Fix] = []
        for path, text in texts.items():
            index = index_source(path, self.shadow(path, text))  # the text the diagnostics are about
            model = path == self.path
            diagnostics = tuple(d for d in report.diagnostics if _concerns(d, path, self.path, texts))
            signatures = tuple(s for s in report.signatures if s.path == path or (model and not s.path))
            observations = _for_file(path, self.path, report.observations)
            if model:  # first match wins: mypy's inferences fill in only what the probe did not see
                observations = self.static_evidence(text, report) + observations
            original = index_source(path, self.originals[path])  # what the user wrote (cached)
            for fix in rules.plan(Evidence(index, diagnostics, signatures, observations, original)):
                if not self.options.wants(fix.code):  # --select / --ignore, [tool.tsannotate]
                    self.deselected.add(fix.key)
                    continue
                self.owner[fix] = path
                fixes.append(fix)
        return tuple(fixes)

    def static_evidence(self, source: str, report: ScriptReport) -> tuple[Observation, ...]:
        """What mypy infers, for the symbols the probe observed nothing about (one mypy run)."""
        if not self.options.static or (report.scripts and report.observations):
            return ()  # it scripts and matched eager on the probe's inputs: nothing to learn
        from tsannotate.static import infer, unobserved

        ahead = self.ahead
        if ahead is not None and ahead.static_key == (source, self.static_learned):
            result = ahead.static()  # run while the worker scripted this source: the same call
        else:
            self.settle()  # one mypy build at a time
            result = infer(self.path, source, learned=self.static_learned)
        self.static_seconds.append(result.seconds)
        self.static_learned = result.learned
        if result.note:
            self.static_notes = (result.note,)
        return unobserved(result.observations, report.observations)

    def accept(self, fix: Fix, texts: dict[str, str]) -> bool:
        if self.options.decide is None:
            return True
        if self.options.decide(fix, texts[self.file(fix)]):
            return True
        self.tried.add((self.file(fix), fix.key))  # rejected stays rejected for the rest of the run
        return False

    def try_fixes(self, texts: dict[str, str], report: ScriptReport, fixes: Sequence[Fix], static: bool = False
                  ) -> tuple[dict[str, str], ScriptReport, list[Fix], list[Fix]]:
        """Apply fixes together; if that makes things worse, keep only the ones that help
        one at a time (cargo-fix semantics: a bad fix is backed out, never written). With
        `static`, the next pass's mypy step runs while the fixes together are scripted."""
        new_texts, new_report, applied = self.attempt(texts, fixes, static)
        if applied and not _worse(new_report, report, applied):
            return new_texts, new_report, applied, []
        if len(fixes) == 1:
            self.tried.update((self.file(f), f.key) for f in fixes)
            return texts, report, [], list(fixes)
        kept: list[Fix] = []
        backed_out: list[Fix] = []
        for fix in fixes:
            new_texts, new_report, applied = self.attempt(texts, [fix])
            if applied and not _worse(new_report, report, applied):
                texts, report = new_texts, new_report
                kept.extend(applied)
            else:
                self.tried.add((self.file(fix), fix.key))
                backed_out.append(fix)
        return texts, report, kept, backed_out

    def attempt(self, texts: dict[str, str], fixes: Sequence[Fix], static: bool = False
                ) -> tuple[dict[str, str], ScriptReport, list[Fix]]:
        """The texts with `fixes` applied, each in its own file, and how they script."""
        new = dict(texts)
        applied: list[Fix] = []
        for path in dict.fromkeys(self.file(f) for f in fixes):
            mine = [f for f in fixes if self.file(f) == path]
            result = apply_edits(texts[path], [f.edit for f in mine if f.edit is not None])
            applied.extend(f for f in mine if f.edit in result.applied)
            for edit, why in result.skipped:  # the rewrite cannot make it here: never again, and say why
                for f in (f for f in mine if f.edit == edit):
                    self.declined[(path, f.key)] = why
                    self.tried.add((path, f.key))
            new[path] = result.text
        self.tried.update((self.file(f), f.key) for f in applied)
        if not applied or new == texts:
            return texts, ScriptReport(), []
        report = self.script(new, static=static)
        if report.load_error is not None and report.load_error.failure in (LoadFailure.CRASH, LoadFailure.TIMEOUT):
            raise _WorkerLost(report.load_error)
        return new, report, applied
