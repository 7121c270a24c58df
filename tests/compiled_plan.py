"""Test helpers (not a test module): the rules' plan for a file as the real compiler and probe
see it, from one script request of the worker; and a whole fix, verified and run twice."""

from __future__ import annotations

from pathlib import Path

from tsannotate import rules
from tsannotate.loop import Loop, Options
from tsannotate.records import Evidence, Fix, Outcome, ScriptRequest, VerifyRequest
from tsannotate.source import index_source
from tsannotate.worker import Worker


def plan_from_compiler(worker: Worker, path: Path, text: str) -> tuple[Fix, ...]:
    """Write `text` to `path`, script it in `worker`, and plan the fixes from what it reports."""
    path.write_text(text)
    report = worker.script(ScriptRequest(str(path), text))
    return rules.plan(Evidence(index_source(str(path), text), report.diagnostics, report.signatures,
                               report.observations))


def fixed_and_verified(worker: Worker, path: Path, text: str) -> Outcome:
    """Run the fix loop on `text` (written to `path`): it must script, the fixed text must verify
    against `text`'s eager outputs, and a second run on it must change nothing. The outcome."""
    path.write_text(text)
    outcome = Loop(str(path), worker, Options(max_passes=10)).run(text)
    assert outcome.scripts, outcome.remaining
    path.write_text(outcome.final)
    verified = worker.verify(VerifyRequest(str(path), outcome.final, original=text))
    assert verified.load_error is None and verified.checks and verified.ok, verified.failures
    again = Loop(str(path), worker, Options(max_passes=10)).run(outcome.final)
    assert again.scripts and not again.changed and again.passes == ()
    return outcome
