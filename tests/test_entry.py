"""The console script's fast path: `--help` and `--version` without typer, the same text typer prints."""

from __future__ import annotations

import os
import subprocess
import sys

from typer.testing import CliRunner

from tsannotate import __version__
from tsannotate.cli import app
from tsannotate.entry import HELP

# prints, at exit (typer ends with SystemExit), which heavy packages the command imported
FRESH = [sys.executable, "-c", "import atexit, sys; atexit.register(lambda: print(sorted(m for m in "
                               "sys.modules if m.split('.')[0] in ('typer', 'click', 'torch', 'libcst', "
                               "'mypy')), file=sys.stderr)); from tsannotate.entry import main; main()"]


def test_the_kept_help_is_what_typer_prints() -> None:
    typer_help = CliRunner().invoke(app, ["--help"], prog_name="tsannotate", env={"COLUMNS": "80"}).stdout
    assert HELP == typer_help, (
        "tsannotate/entry.py's HELP is out of date (a command or its help changed); paste this:\n" + typer_help)


def _run(*args: str, columns: str = "80") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": columns}
    return subprocess.run([*FRESH[:2], FRESH[2].replace("main()", f"sys.argv[1:] = {list(args)!r}; main()")],
                          capture_output=True, text=True, env=env, timeout=60)


def test_help_and_version_import_no_typer() -> None:
    help_run = _run("--help")
    assert help_run.returncode == 0 and help_run.stdout == HELP
    assert help_run.stderr.strip() == "[]"
    version_run = _run("--version")
    assert version_run.stdout == f"tsannotate {__version__}\n"
    assert version_run.stderr.strip() == "[]"


def test_a_narrow_terminal_and_every_other_command_go_to_typer() -> None:
    narrow = _run("--help", columns="60")
    assert narrow.stdout.startswith("Usage: tsannotate [OPTIONS] COMMAND [ARGS]...")
    assert "'typer'" in narrow.stderr and "'torch'" not in narrow.stderr  # typer wrapped it for 60 columns
    sub = _run("fix", "--help")
    assert sub.stdout.startswith("Usage: tsannotate fix [OPTIONS]")
    assert "'typer'" in sub.stderr
