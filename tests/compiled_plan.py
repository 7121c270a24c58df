"""A test helper (not a test module): the rules' plan for a file as the real compiler and probe
see it, from one script request of the worker."""

from __future__ import annotations

from pathlib import Path

from tsannotate import rules
from tsannotate.records import Evidence, Fix, ScriptRequest
from tsannotate.source import index_source
from tsannotate.worker import Worker


def plan_from_compiler(worker: Worker, path: Path, text: str) -> tuple[Fix, ...]:
    """Write `text` to `path`, script it in `worker`, and plan the fixes from what it reports."""
    path.write_text(text)
    report = worker.script(ScriptRequest(str(path), text))
    return rules.plan(Evidence(index_source(str(path), text), report.diagnostics, report.signatures,
                               report.observations))
