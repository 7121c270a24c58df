"""The console script's front door: `tsannotate --help` and `--version` without importing typer.

Start-up is most of what `--help` costs, and typer alone is ~2.6x `python -c pass`
(`bench/startup.py`). The top-level help is static, so it is kept here as typer renders it
(80 columns, no colour); tests/test_entry.py fails, with the text to paste, when a command or
its one-line help changes. Anything else, and a terminal narrower than 80 columns (where
typer would wrap differently), goes to the typer app.
"""

from __future__ import annotations

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
    from tsannotate.cli import main as typer_main

    typer_main()


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
