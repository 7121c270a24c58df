"""The `tsannotate` command: flags in, Outcome out, text and exit codes.

stdout carries diffs and JSON; stderr carries messages for people. Exit codes:
0 scripts (nothing to do, or all fixed and written); 1 changes proposed or still failing;
2 bad input (missing file, not UTF-8, syntax error, import error, no target, probe
trouble, worker crash or timeout); 123 internal error. This module never imports torch.
"""

from __future__ import annotations

import enum
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, NoReturn, Optional, TypeVar

import typer

from tsannotate import __version__, cli_output
from tsannotate.cli_output import EXIT_BAD_INPUT, EXIT_CHANGES, EXIT_INTERNAL, EXIT_OK, Color
from tsannotate.cli_output import err as _err
from tsannotate.cli_output import fail as _fail
from tsannotate.files import InputError, check_parses, read_source

if TYPE_CHECKING:
    from tsannotate.loop import Options
    from tsannotate.records import Fix, Outcome, ScriptReport, VerifyReport

# Only typer and small modules load at start-up; records, report, the loop and the worker
# client are imported inside the commands (records ~16 ms, libcst ~0.25 s, torch seconds):
# `tsannotate --help` pays for none of them (tests/test_layers.py checks).

T = TypeVar("T")

app = typer.Typer(
    add_completion=False, no_args_is_help=True, rich_markup_mode=None,
    help="Make PyTorch models scriptable: run torch.jit.script, read its errors, annotate the source.")


class Format(str, enum.Enum):
    text = "text"
    json = "json"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tsannotate {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[Optional[bool], typer.Option(  # noqa: UP007 - typer needs Optional
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")] = None,
) -> None:
    """tsannotate: annotate a model file until `torch.jit.script` accepts it."""
    cli_output.reset()  # each invocation starts from the default colour and verbosity


PathArg = Annotated[Path, typer.Argument(help="The model file.", show_default=False, metavar="FILE")]
ProbeOpt = Annotated[Optional[str], typer.Option(  # noqa: UP007
    "--probe", help="PATH.py:CALLABLE returning (model, [inputs, ...]); default: `probe` in the model file.")]
TimeoutOpt = Annotated[Optional[float], typer.Option(  # noqa: UP007
    "--timeout", help="Seconds one script pass may take [default: 120].", show_default=False)]
FormatOpt = Annotated[Format, typer.Option("--format", help="text, or json on stdout.")]
NoProbeOpt = Annotated[bool, typer.Option(
    "--no-probe", help="Don't run the probe: compiler errors and mypy's inferences only.")]
ColorOpt = Annotated[Color, typer.Option(
    "--color", help="Colour the diff and messages: auto (a terminal, unless NO_COLOR is set), always, never.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="On stderr, only errors and the summary line.")]
VerboseOpt = Annotated[bool, typer.Option(
    "--verbose", "-v", help="Also each pass, timings and where each fix's evidence came from.")]
SelectOpt = Annotated[Optional[list[str]], typer.Option(  # noqa: UP007
    "--select", metavar="CODES", show_default=False,
    help="Only these fix codes or prefixes (TS001,TS004 or TS00); overrides [tool.tsannotate].")]
IgnoreOpt = Annotated[Optional[list[str]], typer.Option(  # noqa: UP007
    "--ignore", metavar="CODES", show_default=False,
    help="Never these fix codes or prefixes; overrides [tool.tsannotate].")]


@app.command()
def fix(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH",
        help="Model files, or directories to fix every model file under.", show_default=False)],
    apply: Annotated[bool, typer.Option("--apply", help="Write the fixed file (default: only show the diff).")] = False,
    interactive: Annotated[bool, typer.Option("--interactive", "-i", help="Ask before each fix.")] = False,
    max_passes: Annotated[Optional[int], typer.Option(  # noqa: UP007
        "--max-passes", min=1, help="Stop after this many passes [default: 10].", show_default=False)] = None,
    probe: ProbeOpt = None,
    timeout: TimeoutOpt = None,
    format: FormatOpt = Format.text,
    annotations_only: Annotated[bool, typer.Option(
        "--annotations-only", help="Apply only annotations; list @torch.jit.ignore/unused fixes without applying "
                                   "them (they change what the deployed model can do).")] = False,
    no_probe: NoProbeOpt = False,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    color: ColorOpt = Color.auto,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Propose (and with --apply, write) the annotations that make each model script.

    A compiler error inside another file of the model's project (a helper module it imports)
    is fixed in that file; files outside the project (installed packages, the standard
    library) are never edited. Given a directory, every model file under it, with one worker.
    """
    from dataclasses import replace

    from tsannotate.discover import model_files
    from tsannotate.interactive import Reviewer

    cli_output.configure(color, quiet, verbose)

    def options_for(path: Path) -> Options:
        reviewer = Reviewer(path) if interactive else None
        options = _options(path, probe, timeout, max_passes, decide=reviewer.decide if reviewer else None,
                           select=select, ignore=ignore)
        return replace(options, annotations_only=annotations_only, no_probe=no_probe)

    files = _guarded(lambda: model_files(paths))
    many = len(files) > 1 or any(p.is_dir() for p in paths)
    from tsannotate.batch import fix_all

    results, codes = _guarded(lambda: fix_all(files, many, options_for, apply, text=format is Format.text))
    _finish(paths, many, results, codes, format, "fix")


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH",
        help="Model files, or directories to check every Python file under.", show_default=False)],
    probe: ProbeOpt = None,
    timeout: TimeoutOpt = None,
    format: FormatOpt = Format.text,
    no_probe: NoProbeOpt = False,
    color: ColorOpt = Color.auto,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Script each model and print what fails (path:line:col: TSxxx message); change nothing.

    Given a directory (or several files, as pre-commit passes them), files without a model
    to script are skipped; the exit code is the worst of all: 2 bad input, 1 fails, 0 scripts.
    """
    from dataclasses import replace

    from tsannotate.batch import check_all
    from tsannotate.discover import model_files

    cli_output.configure(color, quiet, verbose)
    files = _guarded(lambda: model_files(paths))
    many = len(files) > 1 or any(p.is_dir() for p in paths)

    def options_for(path: Path) -> Options:
        return replace(_options(path, probe, timeout, max_passes=0), no_probe=no_probe)

    outcomes, codes = _guarded(lambda: check_all(files, many, options_for, text=format is Format.text))
    _finish(paths, many, [(o, False) for o in outcomes], codes, format, "script")


def _finish(paths: list[Path], many: bool, results: list[tuple[Outcome, bool]], codes: list[int],
            format: Format, verb: str) -> NoReturn:
    """fix/check over files: the JSON (one object, or a list for several files), the total
    line, and the worst exit code; a directory without any model is bad input."""
    from tsannotate import report

    if format is Format.json:
        texts = [report.to_json(o, written) for o, written in results]
        typer.echo(texts[0] if not many and texts else "[\n" + ",\n".join(texts) + "\n]")
    elif many and results:
        cli_output.check_total([o for o, _ in results], codes.count(EXIT_BAD_INPUT),
                               written=sum(w for _, w in results) if verb == "fix" else None)
    if many and not results and EXIT_BAD_INPUT not in codes:
        _err(f"error: no model to {verb} in {', '.join(map(str, paths))}: no nn.Module with a "
             "zero-argument constructor and no probe() in any file")
        raise typer.Exit(EXIT_BAD_INPUT)
    raise typer.Exit(max(codes, default=EXIT_OK))


@app.command()
def probe(
    path: PathArg,
    probe: ProbeOpt = None,
    timeout: TimeoutOpt = None,
    template: Annotated[bool, typer.Option(
        "--template", help="Print a probe() skeleton for this model to fill in (e.g. >> model.py).")] = False,
) -> None:
    """Run the probe eagerly and print the types seen for each function, local and attribute."""
    from tsannotate import report
    from tsannotate.records import ScriptRequest

    if template:
        from tsannotate.source import index_source
        from tsannotate.template import probe_template

        source = _guarded(lambda: read_source(path))
        _guarded(lambda: check_parses(path, source.text))
        typer.echo(probe_template(index_source(str(path), source.text)), nl=False)
        raise typer.Exit(EXIT_OK)
    options = _options(path, probe, timeout, max_passes=0)

    def work() -> ScriptReport:
        source = read_source(path)
        check_parses(path, source.text)
        from tsannotate.worker.client import Worker

        with Worker(timeout=options.timeout) as worker:
            return worker.script(ScriptRequest(str(path.resolve()), source.text, probe=options.probe))

    result = _guarded(work)
    if result.load_error is not None:
        _fail(result.load_error)
    for line in report.observation_lines(result.observations):
        typer.echo(line)
    for note in result.notes:
        _err(f"note: {note}")
    if not result.observations:
        _err(f"{report.shown(str(path))}: nothing observed; the probe is what tsannotate runs eagerly — "
             f"add a probe() (see `tsannotate probe {path} --template`) or pass --probe")
    raise typer.Exit(EXIT_OK)


@app.command()
def verify(
    path: PathArg,
    probe: ProbeOpt = None,
    timeout: TimeoutOpt = None,
    trace: Annotated[bool, typer.Option(
        "--trace", help="Also torch.jit.trace with the first input; point at the lines a trace freezes.")] = False,
    cpp: Annotated[bool, typer.Option(
        "--cpp", help="Also run the saved model from C++ (a small runner, built once and cached).")] = False,
    format: FormatOpt = Format.text,
    color: ColorOpt = Color.auto,
) -> None:
    """Check that the scripted model, and its saved-and-loaded copy, compute what the eager model does."""
    from tsannotate import report, verify_report
    from tsannotate.records import VerifyRequest

    cli_output.configure(color)
    options = _options(path, probe, timeout, max_passes=0)

    def work() -> VerifyReport:
        source = read_source(path)
        check_parses(path, source.text)
        from tsannotate.worker.client import Worker

        with Worker(timeout=options.timeout) as worker:
            return worker.verify(VerifyRequest(str(path.resolve()), source.text, probe=options.probe,
                                               trace=trace, cpp=cpp))

    result = _guarded(work)
    if result.load_error is not None:
        _fail(result.load_error)
    shown = report.shown(str(path))
    if format is Format.json:
        typer.echo(verify_report.to_json(result, shown))
    else:
        for line in verify_report.lines(result, shown):
            typer.echo(line)
        for note in result.notes:
            _err(f"note: {note}")
        cli_output.closing(verify_report.summary(result, shown), scripts=result.ok, done=result.compared)
    if result.failures:
        raise typer.Exit(EXIT_CHANGES)
    raise typer.Exit(EXIT_OK if result.compared else EXIT_BAD_INPUT)


def _options(path: Path, probe: str | None, timeout: float | None, max_passes: int | None,
             decide: Callable[[Fix, str], bool] | None = None,
             select: list[str] | None = None, ignore: list[str] | None = None) -> Options:
    """Flags over `[tool.tsannotate]` over the defaults."""
    from tsannotate.config import codes_flag, load_config
    from tsannotate.loop import Options

    config = _guarded(lambda: load_config(path))
    return Options(
        max_passes=max_passes if max_passes is not None else config.max_passes or 10,
        probe=probe or config.probe,
        timeout=timeout or config.timeout or 120.0,
        decide=decide,
        on_pass=cli_output.progress,
        select=config.select if select is None else _guarded(lambda: codes_flag("--select", select)),
        ignore=config.ignore if ignore is None else _guarded(lambda: codes_flag("--ignore", ignore)))


def _guarded(work: Callable[[], T]) -> T:
    """Run `work`; turn bad input into a one-line error and exit 2, bugs into exit 123."""
    try:
        return work()
    except InputError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception:
        import traceback

        _err(traceback.format_exc().rstrip())
        _err("error: internal error in tsannotate (the file was not changed); please report it "
             "with the traceback above")
        raise typer.Exit(EXIT_INTERNAL) from None


def main() -> None:
    app(prog_name="tsannotate")


if __name__ == "__main__":  # pragma: no cover
    main()
