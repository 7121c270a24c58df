"""The files one `fix` run edits besides the model: its project's own, read once, written together.

The loop asks for a file when a compiler error points into it (`Options.open_sibling`);
it gets the text when the file belongs to the model's project (`tsannotate.project`)
and reads as UTF-8 Python, else None, and the error is reported instead of fixed. Every
file an outcome changes is written only if none of them changed on disk meanwhile.
"""

from __future__ import annotations

from pathlib import Path

from tsannotate.files import InputError, SourceFile, check_parses, read_source, write_atomic
from tsannotate.project import is_project_file, project_root
from tsannotate.records import Outcome


class ProjectFiles:
    def __init__(self, model: SourceFile, pending: dict[str, str] | None = None) -> None:
        self.model = model
        self.root = project_root(str(model.path))
        self.read: dict[str, SourceFile] = {}
        # texts this run already fixed but did not write (review mode, several models):
        # a later model starts from them, so its diff adds to the earlier one
        self.pending = pending if pending is not None else {}

    def open(self, path: str) -> str | None:
        if not is_project_file(path, self.root):
            return None
        try:
            source = read_source(Path(path))
            check_parses(source.path, source.text)
        except InputError:
            return None
        self.read[path] = source
        return self.pending.get(path, source.text)

    def write(self, outcome: Outcome) -> None:
        """Write every changed file, atomically each; none if any changed on disk or fails to parse."""
        writes = [(self.model if c.path == outcome.path else self.read[c.path], c.final)
                  for c in outcome.changes]
        for source, text in writes:
            check_parses(source.path, text)
            if source.digest != read_source(source.path).digest:
                raise InputError(f"{source.path}: changed on disk while tsannotate ran; nothing written "
                                 "— run it again")
        for source, text in writes:
            write_atomic(source, text)

    def remember(self, outcome: Outcome) -> None:
        """Review mode: keep what this outcome would write for the models fixed after it."""
        self.pending.update((c.path, c.final) for c in outcome.changes)
