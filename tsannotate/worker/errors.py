"""Load failures as one-line messages plus the user's own traceback (stdlib only)."""

from __future__ import annotations

import os
import traceback
import types

from tsannotate.records import LoadError, LoadFailure

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class LoadFailed(Exception):
    def __init__(self, error: LoadError) -> None:
        super().__init__(error.message)
        self.error = error


def compile_source(source: str, path: str, what: str) -> types.CodeType:
    try:
        return compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        where = f"{path}:{line}" if line else path
        msg = getattr(exc, "msg", None) or str(exc)
        details = "".join(traceback.format_exception_only(type(exc), exc))
        failure = LoadFailure.SYNTAX if what == "model" else LoadFailure.PROBE
        raise LoadFailed(LoadError(
            failure,
            f"{where}: {type(exc).__name__}: {msg} — fix the syntax error first"
            + ("" if what == "model" else " (in the probe file)"),
            details,
        )) from None


def import_failure(exc: BaseException, path: str, what: str) -> LoadError:
    """LoadError(IMPORT) naming the innermost line of `path` in the traceback."""
    frames = user_frames(exc)
    line = next((f.lineno for f in reversed(frames) if f.filename == path), None)
    if line is None and isinstance(exc, SyntaxError) and exc.filename:
        path, line = exc.filename, exc.lineno
    elif line is None and frames:  # raised in a package __init__ or a sibling module
        path, line = frames[-1].filename, frames[-1].lineno
    where = f"{path}:{line}" if line else path
    failure = LoadFailure.PROBE if what == "probe" else LoadFailure.IMPORT
    fix = (
        "the probe must import cleanly" if what == "probe"
        else "the model must import cleanly before it can be scripted"
    )
    return LoadError(
        failure,
        f"{where}: {describe(exc)} (while importing the {what}) — {fix}",
        format_user_traceback(exc),
    )


def describe(exc: BaseException) -> str:
    """`ExcType: first line of the message`, shortened for a one-line report."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def user_frames(exc: BaseException) -> list[traceback.FrameSummary]:
    """The traceback without tsannotate's own frames and importlib's machinery."""
    return [
        f for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith(_PACKAGE_DIR + os.sep) and not f.filename.startswith("<frozen")
    ]


def format_user_traceback(exc: BaseException) -> str:
    frames = user_frames(exc)
    head = ["Traceback (most recent call last):\n"] + traceback.format_list(frames) if frames else []
    return "".join(head + traceback.format_exception_only(type(exc), exc)).rstrip("\n")
