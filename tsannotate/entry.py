"""The console script's front door: `tsannotate --help` and `--version` without importing typer.

Start-up is most of what `--help` costs, and typer alone is ~2.6x `python -c pass`
(`bench/startup.py`). The top-level help is static, so it is kept here as typer renders it
(80 columns, no colour); tests/test_entry.py fails, with the text to paste, when a command or
its one-line help changes. Anything else, and a terminal narrower than 80 columns (where
typer would wrap differently), goes to the typer app.
"""

from __future__ import annotations

import atexit
import os
import sys

HELP = """\
Usage: tsannotate [OPTIONS] COMMAND [ARGS]...

  Make PyTorch models scriptable: run torch.jit.script, read its errors,
  annotate the source.

Options:
  --version  Show the version and exit.
  --help     Show this message and exit.

Commands:
  fix     Propose (and with --apply, write) the annotations that make each...
  check   Script each model and print what fails (path:line:col: TSxxx...
  probe   Run the probe eagerly and print the types seen for each function,...
  verify  Check that the scripted model, and its saved-and-loaded copy,...
"""


def main() -> None:
    args = sys.argv[1:]
    if args == ["--version"]:
        from tsannotate import __version__

        sys.stdout.write(f"tsannotate {__version__}\n")
        return
    if args == ["--help"] and _columns() >= 80:
        sys.stdout.write(HELP)
        return
    import signal  # here, not above: --help and --version stay as fast as `python -c pass`

    signal.signal(signal.SIGTERM, _terminated)
    if _needs_worker(args):
        from tsannotate.spawn import start_early

        start_early()  # its `import torch` runs while this process imports the CLI
    from tsannotate.cli import main as typer_main

    try:
        typer_main()
    except SystemExit as done:
        _exit_now(done.code)


# The commands that script or run the model in a worker; options taking a value, and flags.
_WORKER_COMMANDS = {"fix", "check", "verify", "probe"}
_VALUED = {"--probe", "--timeout", "--format", "--max-passes", "--select", "--ignore", "--color"}
_FLAGS = {"--apply", "--interactive", "-i", "--annotations-only", "--no-probe", "--quiet", "-q",
          "--verbose", "-v", "--trace", "--cpp"}


def _needs_worker(args: list[str]) -> bool:
    """Whether the command will run a worker: a worker command whose files read and parse
    (the CLI's own checks, in files.py). Input that fails those exits 2 without one; anything
    unusual (`--help`, `probe --template`, a directory, an option not known here) is left to
    typer, and the worker starts when first needed, as for in-process use."""
    if not args or args[0] not in _WORKER_COMMANDS:
        return False
    paths: list[str] = []
    rest = iter(args[1:])
    for arg in rest:
        if arg == "--":
            paths.extend(rest)
        elif arg.startswith("-") and arg != "-":
            name = arg.split("=", 1)[0]
            if name in _VALUED and "=" not in arg:
                next(rest, None)
            elif name not in _VALUED and arg not in _FLAGS:
                return False
        else:
            paths.append(arg)
    return bool(paths) and any(_readable_model(p) for p in paths)


_ONLY_AST = 0x400  # ast.PyCF_ONLY_AST: what ast.parse asks of compile(), without importing ast


def _readable_model(name: str) -> bool:
    """What files.read_source and check_parses accept: a file of UTF-8 text that parses. Here
    without importing them (ast and dataclasses would delay the worker's start by ~15 ms)."""
    if not os.path.isfile(name):
        return False
    try:
        with open(name, "rb") as f:
            text = f.read().decode("utf-8")
        compile(text, name, "exec", _ONLY_AST, dont_inherit=True)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return False
    return True


def _terminated(signum: int, _frame: object) -> None:
    """SIGTERM (`kill`, a CI runner's timeout, systemd) unwinds like an exception: the worker is
    stopped and its log removed, a half-written temp file is deleted, the model file is left as
    it was (or wholly replaced, if the write had already happened). Exit 128 + 15, as the
    shell reports a process killed by the signal."""
    raise SystemExit(128 + signum)


def _exit_now(code: object) -> None:
    """End the process without the interpreter's teardown: with libcst's and mypy's objects
    loaded, collecting them at exit takes ~0.5 s on a 300-line model, and nothing is left to do
    (every file is written and closed, the worker has exited). atexit's functions still
    run, and output is flushed."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # SystemExit("message"): Python prints it to stderr and exits 1
        sys.stderr.write(f"{code}\n")
        status = 1
    atexit._run_exitfuncs()  # what registered for exit still runs (coverage, a test's probe)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`): nothing more can be said
            pass
    os._exit(status)


def _columns() -> int:
    """The terminal's width as click (through shutil) sees it; 80 when there is none."""
    try:
        return int(os.environ["COLUMNS"]) or 80
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80
