"""How the CLI speaks to people: coloured or plain, quiet / normal / verbose, a line per pass.

Colour is decided per stream (the diff on stdout, the words on stderr): `--color always` or
`never`; else `NO_COLOR` (set, not empty) turns it off and `FORCE_COLOR` (set, not empty) on;
else it is on for a terminal (not `TERM=dumb`). `--quiet` leaves stderr to errors and the
summary line; `--verbose` adds each pass, timings and where each fix's evidence came from.
stdout (diffs, `check`'s diagnostic lines, JSON) is the same at every verbosity.

Imported by `cli.py` at start-up, so it stays cheap: records and report load where used.
"""

from __future__ import annotations

import enum
import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    from tsannotate.records import LoadError, Outcome, PassRecord


class Color(str, enum.Enum):
    auto = "auto"
    always = "always"
    never = "never"


class Verbosity(enum.IntEnum):
    QUIET = 0
    NORMAL = 1
    VERBOSE = 2


class _Settings:
    """One invocation's choices; `reset` runs before every command (the app's callback)."""

    color = Color.auto
    verbosity = Verbosity.NORMAL


_settings = _Settings()


def reset() -> None:
    configure()


def configure(color: Color = Color.auto, quiet: bool = False, verbose: bool = False) -> None:
    if quiet and verbose:
        raise typer.BadParameter("--quiet and --verbose exclude each other")
    _settings.color = color
    _settings.verbosity = Verbosity.QUIET if quiet else Verbosity.VERBOSE if verbose else Verbosity.NORMAL


def quiet() -> bool:
    return _settings.verbosity is Verbosity.QUIET


def verbose() -> bool:
    return _settings.verbosity is Verbosity.VERBOSE


def use_color(stream: object, choice: Color | None = None) -> bool:
    """Whether to colour what goes to `stream` (see the module docstring)."""
    choice = choice or _settings.color
    if choice is not Color.auto:
        return choice is Color.always
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return _is_terminal(stream) and os.environ.get("TERM") != "dumb"


def _paint(text: str, on: bool, **style: Any) -> str:
    return typer.style(text, **style) if on and text else text


# --- stderr: words for people ---------------------------------------------------------------

_WORDS: dict[str, dict[str, Any]] = {  # a leading word and its style
    "error:": {"fg": "red", "bold": True},
    "warning:": {"fg": "yellow", "bold": True},
    "note:": {"fg": "cyan"},
    "hint:": {"fg": "cyan"},
    "backed out:": {"fg": "yellow", "bold": True},
    "not applied:": {"fg": "yellow", "bold": True},
}
_TAGS: dict[str, dict[str, Any]] = {  # bracketed tags inside a fix line
    "[needs-decision]": {"fg": "yellow"},
    "[advice]": {"fg": "magenta"},
    "[held back: --annotations-only]": {"fg": "yellow"},
}


def _words(message: str, on: bool) -> str:
    if not on:
        return message
    for word, style in _WORDS.items():
        if message.startswith(word):
            return typer.style(word, **style) + message[len(word):]
    head, sep, rest = message.partition(" ")
    if sep and head[:2] == "TS" and head[2:].isdigit():  # a fix line: `TS004 annotate ...`
        message = typer.style(head, fg="cyan", bold=True) + sep + rest
    for tag, style in _TAGS.items():
        message = message.replace(tag, typer.style(tag, **style))
    return message


# The exit codes every command shares (README "Commands"): 0 scripts (nothing to do, or all fixed
# and written); 1 changes proposed or still failing; 2 bad input; 123 an internal error.
EXIT_OK, EXIT_CHANGES, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 123


def fail(error: LoadError) -> NoReturn:
    """Bad input the worker found (syntax, import, probe, no target, crash): its line, exit 2."""
    err(f"error: {error.message}")
    if error.details:
        err(error.details.rstrip())
    raise typer.Exit(EXIT_BAD_INPUT)


def err(message: str) -> None:
    """A line (or lines) for people on stderr, its leading `error:`/`note:`... word coloured."""
    on = use_color(sys.stderr)
    typer.echo(_words(message, on), err=True, color=on)


def info(message: str) -> None:
    """Like `err`, but not under --quiet: reasons, notes, advice."""
    if not quiet():
        err(message)


def closing(line: str, scripts: bool, done: bool) -> None:
    """The last line: green when the model scripts as written, yellow when it would, else red."""
    on = use_color(sys.stderr)
    colour = "green" if scripts and done else "yellow" if scripts else "red"
    typer.echo(_paint(line, on, fg=colour, bold=True), err=True, color=on)


def progress(record: PassRecord, where: str = "") -> None:
    """The loop's `on_pass`: one line per pass on a terminal (every pass with --verbose); `where`
    names the file when a run covers several."""
    if quiet() or not (verbose() or _is_terminal(sys.stderr)):
        return
    err(f"{where}: {pass_line(record)}" if where else pass_line(record))


def pass_line(record: PassRecord) -> str:
    n, out, left = len(record.fixes), len(record.backed_out), len(record.diagnostics)
    backed = f", {out} backed out" if out else ""
    return (f"pass {record.number}: {n} fix{'es' if n != 1 else ''} applied{backed}, "
            f"{left} error{'s' if left != 1 else ''} left ({record.seconds:.1f} s)")


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return isatty is not None and bool(isatty())


# --- stdout: data ---------------------------------------------------------------------------

def out(text: str, nl: bool = True) -> None:
    typer.echo(text, nl=nl)


def diff(text: str) -> None:
    """A unified diff on stdout, git's colours on a terminal."""
    on = use_color(sys.stdout)
    if on:
        text = "".join(_diff_line(line) for line in text.splitlines(keepends=True))
    typer.echo(text, nl=False, color=on)


def _diff_line(line: str) -> str:
    body, end = (line[:-1], "\n") if line.endswith("\n") else (line, "")
    if line.startswith(("+++", "---")):
        return typer.style(body, bold=True) + end
    if line.startswith("@@"):
        return typer.style(body, fg="cyan") + end
    if line.startswith("+"):
        return typer.style(body, fg="green") + end
    if line.startswith("-"):
        return typer.style(body, fg="red") + end
    return line


def diagnostic(line: str) -> None:
    """`path:line:col: TSxxx message` on stdout, ruff's colours on a terminal."""
    on = use_color(sys.stdout)
    if on:
        place, sep, rest = line.partition(": ")
        code, sep2, message = rest.partition(" ")
        line = (typer.style(place, bold=True) + sep + typer.style(code, fg="red", bold=True)
                + sep2 + message) if sep else line
    typer.echo(line, color=on)


# --- whole reports --------------------------------------------------------------------------

def print_fix(outcome: Outcome, written: bool, summary: bool = True) -> None:
    from tsannotate import report

    if outcome.changed:
        diff(report.unified_diff(outcome))
    if verbose():
        for p in outcome.passes:
            for f in p.fixes:
                info(f"{report.fix_line(f)}\n    evidence: {f.evidence.value} (pass {p.number})")
        for line in report.explain(outcome)[len(outcome.fixes):]:
            info(line)  # the backed-out fixes
    else:
        for line in report.explain(outcome):
            info(line)
    for note in outcome.notes:
        info(f"note: {note}")
    if not outcome.scripts:
        for line in report.remaining_lines(outcome, written):
            err(line)  # errors: shown even under --quiet
    for line in report.decisions(outcome, written):
        info(line)
    if verbose():
        info(timings(outcome))
    if summary:
        closing(report.summary(outcome, written), outcome.scripts, written or not outcome.changed)


def print_json(outcome: Outcome, written: bool) -> None:
    """`--format json`: the run as one object on stdout (docs/json.md)."""
    from tsannotate import report

    out(report.to_json(outcome, written))


def timings(outcome: Outcome) -> str:
    passes = ", ".join(f"pass {p.number} {p.seconds:.2f} s" for p in outcome.passes)
    return f"time: {outcome.seconds:.2f} s" + (f" ({passes})" if passes else "")


def print_check(outcome: Outcome, many: bool = False) -> None:
    """One file's `check`: its errors on stdout, then its verdict (with many files, under
    --quiet, only the failing files' verdicts; `check_total` closes the run)."""
    from tsannotate import report

    for d in outcome.remaining:
        diagnostic(report.diagnostic_line(d))
    for note in outcome.notes:
        info(f"note: {note}")
    n = len(outcome.remaining)
    verdict = "scripts" if outcome.scripts else f"fails to script ({n} error{'s' if n != 1 else ''})"
    line = f"{report.shown(outcome.path)}: {verdict}"
    if verbose():
        line += f" ({outcome.seconds:.2f} s)"
    if not (many and quiet() and outcome.scripts):
        closing(line, outcome.scripts, done=True)


def check_total(outcomes: list[Outcome], bad_input: int, written: int | None = None) -> None:
    """The closing line of a `check` (or, given `written`, a `fix`) over several files."""
    failing = sum(not o.scripts for o in outcomes)
    ok = len(outcomes) - failing
    verb = "checked" if written is None else "fixed"
    parts = [f"{len(outcomes)} model file{'s' if len(outcomes) != 1 else ''}{' checked' if written is None else ''}: "
             f"{failing} fail{'s' if failing == 1 else ''} to script, {ok} script{'s' if ok == 1 else ''}"]
    if written is not None:
        changed = sum(o.changed for o in outcomes)
        parts.append(f"{written} written" if written else
                     f"{changed} with changes to review (--apply writes them)" if changed else "nothing to change")
    if bad_input:
        parts.append(f"{bad_input} could not be {verb} (see error: above)")
    closing("; ".join(parts), scripts=not failing and not bad_input, done=True)
