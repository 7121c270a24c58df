"""The console script's fast path: `--help` and `--version` without typer, the same text typer prints."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
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


# ---------------------------------------------------------------- the worker, started early

MODEL = Path(__file__).resolve().parent.parent / "fixtures" / "cases" / "bool_flag_param" / "input.py"

# Runs the console script with subprocess.Popen recording each worker it starts: whether typer
# was imported yet, and, at the very end (this atexit function runs last), whether it still runs
# and its log is still there. The last line of stderr is that record, as JSON.
RECORDING = """\
import atexit, json, os, subprocess, sys
started = []
class Recording(subprocess.Popen):
    def __init__(self, args, *more, **kwargs):
        super().__init__(args, *more, **kwargs)
        if "tsannotate.worker" in args:
            started.append((self, "typer" in sys.modules, kwargs["stdout"].name))
subprocess.Popen = Recording
atexit.register(lambda: print(json.dumps([
    {"after_typer": typer, "running": p.poll() is None, "log_left": os.path.exists(log)}
    for p, typer, log in started]), file=sys.stderr))
sys.argv[1:] = %r
from tsannotate.entry import main
main()
"""


def _recorded(*args: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, bool]]]:
    import json

    run = subprocess.run([sys.executable, "-c", RECORDING % (list(args),)], capture_output=True, text=True,
                         timeout=300)
    return run, json.loads(run.stderr.strip().splitlines()[-1])


def test_fix_starts_its_worker_before_the_cli_imports_and_uses_that_one(tmp_path: Path) -> None:
    model = tmp_path / "model.py"
    shutil.copyfile(MODEL, model)
    run, workers = _recorded("fix", str(model), "--format", "json")
    assert run.returncode == 1 and '"scripts": true' in run.stdout  # the diff is proposed
    assert workers == [{"after_typer": False, "running": False, "log_left": False}]


@pytest.mark.parametrize("text", [None, "def broken(:\n", b"\xff\xfe"])
def test_bad_input_exits_2_without_starting_a_worker(tmp_path: Path, text: str | bytes | None) -> None:
    model = tmp_path / "model.py"
    if isinstance(text, str):
        model.write_text(text)
    elif text is not None:
        model.write_bytes(text)
    for command in ("fix", "check", "verify", "probe"):
        run, workers = _recorded(command, str(model))
        assert run.returncode == 2 and "error: " in run.stderr
        assert workers == []


def test_a_worker_started_for_a_command_that_then_fails_is_killed_at_exit(tmp_path: Path) -> None:
    model = tmp_path / "model.py"
    shutil.copyfile(MODEL, model)
    run, workers = _recorded("fix", str(model), "--max-passes", "0")  # typer refuses 0, after the start
    assert run.returncode == 2 and "--max-passes" in run.stderr
    assert workers == [{"after_typer": False, "running": False, "log_left": False}]


@pytest.mark.parametrize(("args", "early"), [
    (["fix", "MODEL"], True),
    (["fix", "MODEL", "--apply", "--format", "json", "-q"], True),
    (["fix", "--probe", "other.py:probe", "MODEL", "--select=TS001"], True),  # a value is not a path
    (["check", "MISSING", "MODEL"], True),  # several files: the worker is for the good ones
    (["verify", "--trace", "--", "MODEL"], True),
    (["probe", "MODEL"], True),
    (["fix", "MISSING"], False),
    (["fix", "BROKEN"], False),
    (["fix", "--probe", "MODEL"], False),  # MODEL is the probe: no file to fix
    (["fix", "DIR"], False),  # left to the commands (the worker starts when first needed)
    (["fix", "MODEL", "--help"], False),
    (["probe", "MODEL", "--template"], False),
    (["fix", "MODEL", "--no-such-flag"], False),
    (["--version"], False),
    (["fix"], False),
])
def test_which_commands_start_the_worker_early(tmp_path: Path, args: list[str], early: bool) -> None:
    from tsannotate.entry import _needs_worker

    (tmp_path / "model.py").write_text("x = 1\n")
    (tmp_path / "broken.py").write_text("def f(:\n")
    names = {"MODEL": tmp_path / "model.py", "BROKEN": tmp_path / "broken.py",
             "MISSING": tmp_path / "missing.py", "DIR": tmp_path}
    assert _needs_worker([str(names.get(a, a)) for a in args]) is early


def test_the_first_worker_adopts_the_early_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from tsannotate import spawn
    from tsannotate.records import ScriptRequest
    from tsannotate.worker.client import Worker

    monkeypatch.setattr(spawn, "_early", None)
    spawn.start_early()
    early = spawn._early
    assert early is not None
    with Worker(python=sys.executable + "-other") as other:  # another interpreter: not for it
        assert spawn._early is early and other.log_path != early.log_path
    with Worker() as worker:
        assert spawn._early is None and worker.log_path == early.log_path and not worker.ready
        report = worker.script(ScriptRequest(str(MODEL), MODEL.read_text()))
        assert report.load_error is None and worker.starts == 1 and worker.ready
        assert early.proc.poll() is None  # the same process serves the request
    assert early.proc.poll() is not None and not os.path.exists(early.log_path)


def test_an_adopted_process_never_used_is_stopped_with_its_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    from tsannotate import spawn
    from tsannotate.worker.client import Worker

    monkeypatch.setattr(spawn, "_early", None)
    spawn.start_early()
    early = spawn._early
    assert early is not None
    with Worker():
        pass
    assert early.proc.poll() is not None and not os.path.exists(early.log_path)


def test_the_early_parse_check_is_ast_parse() -> None:
    import ast

    from tsannotate import entry

    assert entry._ONLY_AST == ast.PyCF_ONLY_AST


def test_the_early_start_knows_every_option_of_the_worker_commands() -> None:
    """entry.py parses the command line before typer is imported, from its own lists of options:
    an option the CLI gains and the lists miss would quietly lose the early start."""
    import typer.main

    from tsannotate.cli import app
    from tsannotate.entry import _FLAGS, _VALUED, _WORKER_COMMANDS

    group = typer.main.get_command(app)
    left_to_typer = {"--help", "--template"}  # on purpose: they start no worker
    for name in sorted(_WORKER_COMMANDS):
        command = group.commands[name]  # type: ignore[attr-defined]
        for param in command.params:
            for opt in (*param.opts, *param.secondary_opts):
                if not opt.startswith("-") or opt in left_to_typer:
                    continue
                known = _FLAGS if param.is_flag else _VALUED
                assert opt in known, f"{name} {opt} is missing from entry.py's {'_FLAGS' if param.is_flag else '_VALUED'}"
