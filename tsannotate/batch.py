"""Running `fix` and `check` over files with one worker: the loop per model, the verify gate
before writing, the writes, and an exit code per file (the CLI reports the worst).

Never imports torch (the worker does); imported by the commands, not at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

import typer

from tsannotate.cli_output import EXIT_BAD_INPUT, EXIT_CHANGES, EXIT_OK, err, fail, print_check, print_fix, progress
from tsannotate.files import InputError, SourceFile, check_parses, read_source
from tsannotate.loop import Loop, Options
from tsannotate.records import LoadFailure, Outcome, VerifyReport, VerifyRequest
from tsannotate.worker.client import Worker


def fix_all(files: list[Path], many: bool, options_for: Callable[[Path], Options], apply: bool,
            text: bool) -> tuple[list[tuple[Outcome, bool]], list[int]]:
    """Fix each model file with one worker; (outcome, written) per model, an exit code per file."""
    from tsannotate.project_files import ProjectFiles

    results: list[tuple[Outcome, bool]] = []
    codes: list[int] = []
    pending: dict[str, str] = {}  # review mode: what earlier models' fixes changed
    with Worker(timeout=options_for(files[0]).timeout) as worker:
        for path in files:
            source = _read(path, many, codes)
            if source is None:
                continue
            project = ProjectFiles(source, pending)
            options = replace(options_for(path), open_sibling=project.open)
            if many and options.on_pass is progress:  # several files: each progress line names its own
                options = replace(options, on_pass=partial(progress, where=str(path)))
            start = pending.get(str(path.resolve()), source.text)
            loop = Loop(str(path.resolve()), worker, options)
            try:  # a mypy step run ahead that the last pass did not need ends while the worker verifies
                outcome = loop.run(start, settle=False)
                error = outcome.load_error
                if error is not None and many and error.failure is LoadFailure.NO_TARGET:
                    continue  # a helper module, a test, a script: no model in it
                if error is not None:
                    if not many:
                        fail(error)
                    err(f"error: {error.message}")
                    codes.append(EXIT_BAD_INPUT)
                    continue
                gate: list[VerifyReport] = []  # --apply: the fixed sources must verify before they are written
                if apply:
                    verify_fixed(options, gate)(worker, start, outcome)
            finally:
                loop.settle()
            refused = refusal(outcome, gate)
            written = False
            if apply and outcome.changed and not refused:
                try:
                    project.write(outcome)
                    written = True
                except InputError as exc:
                    if not many:
                        raise
                    err(f"error: {exc}")
                    codes.append(EXIT_BAD_INPUT)
                    continue
            elif not apply:
                project.remember(outcome)
            results.append((outcome, written))
            if text:
                print_fix(outcome, written, summary=not refused)  # a refusal ends with its own line
            for line in refused:
                err(line)
            codes.append(EXIT_CHANGES if refused else fix_exit_code(outcome, written))
    return results, codes



def check_all(files: list[Path], many: bool, options_for: Callable[[Path], Options],
              text: bool) -> tuple[list[Outcome], list[int]]:
    """Check each file with one worker (one `import torch` for all of them)."""
    outcomes: list[Outcome] = []
    codes: list[int] = []
    with Worker(timeout=options_for(files[0]).timeout) as worker:
        for path in files:
            source = _read(path, many, codes)
            if source is None:
                continue
            outcome = Loop(str(path.resolve()), worker, options_for(path)).run(source.text)
            error = outcome.load_error
            if error is not None and many and error.failure is LoadFailure.NO_TARGET:
                continue  # a helper module, a test, a script: nothing to check here
            if error is not None:
                err(f"error: {error.message}")
                codes.append(EXIT_BAD_INPUT)
                continue
            outcomes.append(outcome)
            codes.append(EXIT_OK if outcome.scripts else EXIT_CHANGES)
            if text:
                print_check(outcome, many)
    return outcomes, codes



def verify_fixed(options: Options, gate: list[VerifyReport]) -> Callable[[Worker, str, Outcome], None]:
    """fix --apply: verify the fixed source (against the original's eager outputs) in the same worker."""
    def run(worker: Worker, original: str, outcome: Outcome) -> None:
        if outcome.changed and outcome.load_error is None:
            gate.append(worker.verify(VerifyRequest(
                outcome.path, outcome.final, probe=options.probe, original=original,
                sources=tuple((c.path, c.final) for c in outcome.files))))
    return run



def refusal(outcome: Outcome, gate: list[VerifyReport]) -> list[str]:
    """Why the fixed source must not be written (empty: write it): a fix changed an eager output,
    or the model scripts and yet differs from eager."""
    from tsannotate import report, verify_report

    if not gate:
        return []
    result, shown = gate[0], report.shown(outcome.path)
    if result.load_error is not None:
        return [f"error: not written: verifying the fixed source failed: {result.load_error.message}"]
    from tsannotate.report_decisions import needs_python

    # an accepted @torch.jit.ignore keeps a Python call: that the model cannot be saved is its
    # stated consequence (the summary lists the method), not a reason to withhold the fix
    blocking = [c for c in result.failures if (c.stage == "eager" or outcome.scripts) and not (
        c.stage == "saved" and "Python function call" in c.message and needs_python(outcome))]
    if not blocking:
        return []
    n = len(blocking)
    why = ("the fixes change what the eager model computes" if any(c.stage == "eager" for c in blocking)
           else "it scripts, but does not verify against the eager model")
    return ([verify_report.failure_line(shown, c) for c in blocking]
            + [f"error: not written: {why} ({n} failed check{'s' if n != 1 else ''}, first above)"])



def fix_exit_code(outcome: Outcome, written: bool) -> int:
    if outcome.scripts and (written or not outcome.changed):
        return EXIT_OK
    return EXIT_CHANGES


def _read(path: Path, many: bool, codes: list[int]) -> SourceFile | None:
    """The file's text, checked to parse. Alone, a bad file is the run's error (raised); one of
    several is reported, given exit code 2, and skipped."""
    try:
        source = read_source(path)
        check_parses(path, source.text)
    except InputError as exc:
        if not many:
            raise
        err(f"error: {exc}")
        codes.append(EXIT_BAD_INPUT)
        return None
    return source
