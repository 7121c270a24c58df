"""`fix --interactive`: show each fix (hunk, reason, safety) and ask before applying it."""

from __future__ import annotations

from pathlib import Path

import typer

from tsannotate import cli_output, report
from tsannotate.records import Fix
from tsannotate.rewrite import apply_edits

_PROMPT = "Apply this fix? [y]es / [n]o / [a]ll remaining / [q]uit"


class Reviewer:
    """Answers the loop's `decide(fix, source)`; a rejected fix stays rejected all run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.accept_all = False
        self.quit = False

    def decide(self, fix: Fix, source: str) -> bool:
        if self.quit:
            return False
        if self.accept_all:
            return True
        cli_output.diff(self._hunk(fix, source))  # coloured on a terminal, like the full diff
        cli_output.err(report.fix_line(fix))
        while True:
            answer = typer.prompt(_PROMPT, default="y", err=True).strip().lower()[:1]
            if answer in ("y", "n", "a", "q"):
                break
        if answer == "a":
            self.accept_all = True
        if answer == "q":
            self.quit = True
        return answer in ("y", "a")

    def _hunk(self, fix: Fix, source: str) -> str:
        if fix.edit is None:
            return ""
        path = fix.location.path if fix.location else str(self.path)  # a sibling module's fix: its file
        return report.diff_text(path, source, apply_edits(source, [fix.edit]).text, context=2)
