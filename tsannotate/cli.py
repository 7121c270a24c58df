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
from tsannotate.cli_output import Color
from tsannotate.cli_output import err as _err
from tsannotate.cli_output import print_check as _print_check
from tsannotate.cli_output import print_fix as _print_fix
from tsannotate.files import InputError, SourceFile, check_parses, read_source, write_atomic

if TYPE_CHECKING:
    from tsannotate.loop import Options
    from tsannotate.records import Fix, LoadError, Outcome, ScriptReport, VerifyReport
    from tsannotate.worker.client import Worker

# Only typer and small modules load at start-up; records, report, the loop and the worker
# client are imported inside the commands (records ~16 ms, libcst ~0.25 s, torch seconds):
# `tsannotate --help` pays for none of them (tests/test_layers.py checks).

T = TypeVar("T")
EXIT_OK, EXIT_CHANGES, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 123

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


PathArg = Annotated[Path, typer.Argument(help="The model file.", show_default=False)]
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
    "--select", help="Only these fix codes or prefixes (TS001,TS004 or TS00); overrides [tool.tsannotate].",
    show_default=False)]
IgnoreOpt = Annotated[Optional[list[str]], typer.Option(  # noqa: UP007
    "--ignore", help="Never these fix codes or prefixes; overrides [tool.tsannotate].", show_default=False)]


@app.command()
def fix(
    paths: Annotated[list[Path], typer.Argument(
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
    results, codes = _guarded(lambda: _fix_all(files, many, options_for, apply, text=format is Format.text))
    if format is Format.json:
        from tsannotate import report

        texts = [report.to_json(o, written) for o, written in results]
        typer.echo(texts[0] if not many and texts else "[\n" + ",\n".join(texts) + "\n]")
    elif many and results:
        cli_output.check_total([o for o, _ in results], codes.count(EXIT_BAD_INPUT))
    if many and not results and EXIT_BAD_INPUT not in codes:
        _err(f"error: no model to fix in {', '.join(map(str, paths))}: no nn.Module with a "
             "zero-argument constructor and no probe() in any file")
        raise typer.Exit(EXIT_BAD_INPUT)
    raise typer.Exit(max(codes, default=EXIT_OK))


def _fix_all(files: list[Path], many: bool, options_for: Callable[[Path], Options], apply: bool,
             text: bool) -> tuple[list[tuple[Outcome, bool]], list[int]]:
    """Fix each model file with one worker; (outcome, written) per model, an exit code per file."""
    from dataclasses import replace

    from tsannotate.loop import Loop
    from tsannotate.project_files import ProjectFiles
    from tsannotate.records import LoadFailure
    from tsannotate.worker.client import Worker

    results: list[tuple[Outcome, bool]] = []
    codes: list[int] = []
    pending: dict[str, str] = {}  # review mode: what earlier models' fixes changed
    with Worker(timeout=options_for(files[0]).timeout) as worker:
        for path in files:
            try:
                source = read_source(path)
                check_parses(path, source.text)
            except InputError as exc:
                if not many:
                    raise
                _err(f"error: {exc}")
                codes.append(EXIT_BAD_INPUT)
                continue
            project = ProjectFiles(source, pending)
            options = replace(options_for(path), open_sibling=project.open)
            start = pending.get(str(path.resolve()), source.text)
            outcome = Loop(str(path.resolve()), worker, options).run(start)
            error = outcome.load_error
            if error is not None and many and error.failure is LoadFailure.NO_TARGET:
                continue  # a helper module, a test, a script: no model in it
            if error is not None:
                if not many:
                    _fail(error)
                _err(f"error: {error.message}")
                codes.append(EXIT_BAD_INPUT)
                continue
            gate: list[VerifyReport] = []  # --apply: the fixed sources must verify before they are written
            if apply:
                _verify_fixed(options, gate)(worker, start, outcome)
            refused = _refusal(outcome, gate)
            written = False
            if apply and outcome.changed and not refused:
                try:
                    project.write(outcome)
                    written = True
                except InputError as exc:
                    if not many:
                        raise
                    _err(f"error: {exc}")
                    codes.append(EXIT_BAD_INPUT)
                    continue
            elif not apply:
                project.remember(outcome)
            results.append((outcome, written))
            if text:
                _print_fix(outcome, written, summary=not refused)  # a refusal ends with its own line
            for line in refused:
                _err(line)
            codes.append(EXIT_CHANGES if refused else _fix_exit_code(outcome, written))
    return results, codes


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(
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
    from tsannotate import report
    from tsannotate.discover import model_files

    cli_output.configure(color, quiet, verbose)
    files = _guarded(lambda: model_files(paths))
    many = len(files) > 1 or any(p.is_dir() for p in paths)
    outcomes, codes = _guarded(lambda: _check_all(files, many, probe, timeout, no_probe,
                                                   text=format is Format.text))
    if format is Format.json:
        texts = [report.to_json(o, written=False) for o in outcomes]
        typer.echo(texts[0] if not many and texts else "[\n" + ",\n".join(texts) + "\n]")
    elif many and outcomes:
        cli_output.check_total(outcomes, codes.count(EXIT_BAD_INPUT))
    if many and not outcomes and EXIT_BAD_INPUT not in codes:
        _err(f"error: no model to script in {', '.join(map(str, paths))}: no nn.Module with a "
             "zero-argument constructor and no probe() in any file")
        raise typer.Exit(EXIT_BAD_INPUT)
    raise typer.Exit(max(codes, default=EXIT_OK))


def _check_all(files: list[Path], many: bool, probe: str | None, timeout: float | None,
               no_probe: bool, text: bool) -> tuple[list[Outcome], list[int]]:
    """Check each file with one worker (one `import torch` for all of them)."""
    from dataclasses import replace

    from tsannotate.loop import Loop
    from tsannotate.records import LoadFailure
    from tsannotate.worker.client import Worker

    outcomes: list[Outcome] = []
    codes: list[int] = []
    first = _options(files[0], probe, timeout, max_passes=0)
    with Worker(timeout=first.timeout) as worker:
        for path in files:
            try:
                source = read_source(path)
                check_parses(path, source.text)
            except InputError as exc:
                _err(f"error: {exc}")
                codes.append(EXIT_BAD_INPUT)
                continue
            options = replace(_options(path, probe, timeout, max_passes=0), no_probe=no_probe)
            outcome = Loop(str(path.resolve()), worker, options).run(source.text)
            error = outcome.load_error
            if error is not None and many and error.failure is LoadFailure.NO_TARGET:
                continue  # a helper module, a test, a script: nothing to check here
            if error is not None:
                _err(f"error: {error.message}")
                codes.append(EXIT_BAD_INPUT)
                continue
            outcomes.append(outcome)
            codes.append(EXIT_OK if outcome.scripts else EXIT_CHANGES)
            if text:
                _print_check(outcome, many)
    return outcomes, codes


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
        _err(verify_report.summary(result, shown))
    if result.failures:
        raise typer.Exit(EXIT_CHANGES)
    raise typer.Exit(EXIT_OK if result.compared else EXIT_BAD_INPUT)


def _verify_fixed(options: Options, gate: list[VerifyReport]) -> Callable[[Worker, str, Outcome], None]:
    """fix --apply: verify the fixed source (against the original's eager outputs) in the same worker."""
    def run(worker: Worker, original: str, outcome: Outcome) -> None:
        from tsannotate.records import VerifyRequest

        if outcome.changed and outcome.load_error is None:
            gate.append(worker.verify(VerifyRequest(
                outcome.path, outcome.final, probe=options.probe, original=original,
                sources=tuple((c.path, c.final) for c in outcome.files))))
    return run


def _refusal(outcome: Outcome, gate: list[VerifyReport]) -> list[str]:
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


def _fail(error: LoadError) -> NoReturn:
    _err(f"error: {error.message}")
    if error.details:
        _err(error.details.rstrip())
    raise typer.Exit(EXIT_BAD_INPUT)


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


def _fix_exit_code(outcome: Outcome, written: bool) -> int:
    if outcome.scripts and (written or not outcome.changed):
        return EXIT_OK
    return EXIT_CHANGES


def main() -> None:
    app(prog_name="tsannotate")


if __name__ == "__main__":  # pragma: no cover
    main()
