"""Colour, verbosity and the progress line: plain when piped, coloured on a terminal (or when
asked), --quiet leaves errors and the summary, --verbose adds passes, timings and evidence."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tsannotate import cli_output
from tsannotate.cli import app
from tsannotate.cli_output import Color
from tsannotate.records import PassRecord

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"
ESC = "\x1b["


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(("choice", "env", "tty", "expected"), [
    pytest.param(Color.auto, {}, True, True, id="terminal"),
    pytest.param(Color.auto, {}, False, False, id="piped"),
    pytest.param(Color.auto, {"NO_COLOR": "1"}, True, False, id="no-color"),
    pytest.param(Color.auto, {"NO_COLOR": ""}, True, True, id="empty-no-color-ignored"),
    pytest.param(Color.auto, {"FORCE_COLOR": "1"}, False, True, id="force-color"),
    pytest.param(Color.auto, {"TERM": "dumb"}, True, False, id="dumb-terminal"),
    pytest.param(Color.always, {"NO_COLOR": "1"}, False, True, id="always-beats-env"),
    pytest.param(Color.never, {"FORCE_COLOR": "1"}, True, False, id="never-beats-env"),
])
def test_when_to_colour(monkeypatch: pytest.MonkeyPatch, choice: Color, env: dict[str, str], tty: bool,
                        expected: bool) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli_output.use_color(_Stream(tty), choice) is expected


def test_pass_line() -> None:
    record = PassRecord(2, diagnostics=(), fixes=(), backed_out=(), seconds=0.42)
    assert cli_output.pass_line(record) == "pass 2: 0 fixes applied, 0 errors left (0.4 s)"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _case(tmp_path: Path, case: str) -> Path:
    path = tmp_path / "model.py"
    shutil.copyfile(CASES / case / "input.py", path)
    return path


def test_piped_output_is_plain_and_color_always_colours(runner: CliRunner, tmp_path: Path) -> None:
    path = _case(tmp_path, "optional_local_tensor")
    plain = runner.invoke(app, ["fix", str(path)], color=True)  # the runner would keep colour codes
    assert ESC not in plain.stdout and ESC not in plain.stderr
    assert "pass 1" not in plain.stderr  # the progress line is for terminals
    coloured = runner.invoke(app, ["fix", str(path), "--color", "always"], color=True)
    assert coloured.exit_code == plain.exit_code == 1
    assert f"{ESC}32m+" in coloured.stdout and f"{ESC}31m-" in coloured.stdout  # added / removed lines
    assert typer.style("TS002", fg="cyan", bold=True) in coloured.stderr
    last = coloured.stderr.splitlines()[-1]
    assert last.startswith(ESC) and "would script after 1 fix" in last  # yellow: not written yet


def test_quiet_leaves_the_summary_verbose_adds_passes_and_evidence(runner: CliRunner, tmp_path: Path) -> None:
    path = _case(tmp_path, "optional_local_tensor")
    quiet = runner.invoke(app, ["fix", str(path), "--quiet"])
    assert quiet.exit_code == 1
    assert quiet.stdout.startswith("--- a/")  # stdout (the diff) is the same at every verbosity
    [summary] = quiet.stderr.splitlines()
    assert "would script after 1 fix in 1 pass; run with --apply" in summary
    verbose = runner.invoke(app, ["fix", str(path), "-v"])
    assert "pass 1: 1 fix applied, 0 errors left (" in verbose.stderr
    assert "    evidence: " in verbose.stderr and "time: " in verbose.stderr
    both = runner.invoke(app, ["fix", str(path), "-q", "-v"])
    assert both.exit_code == 2 and "exclude each other" in both.output


def test_check_quiet_over_a_directory_prints_failures_and_the_total(runner: CliRunner, tmp_path: Path) -> None:
    shutil.copyfile(CASES / "param_int_range" / "input.py", tmp_path / "broken.py")
    shutil.copyfile(CASES / "already_scriptable" / "input.py", tmp_path / "fine.py")
    result = runner.invoke(app, ["check", str(tmp_path), "--quiet"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'broken.py'}: fails to script (1 error)",
        "2 model files checked: 1 fails to script, 1 scripts"]


def test_a_terminal_gets_colour_and_one_progress_line_per_pass(tmp_path: Path) -> None:
    """Through a real pseudo-terminal: stdout and stderr are the terminal."""
    path = _case(tmp_path, "optional_local_tensor")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["TERM"] = "xterm"
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "tsannotate", "fix", str(path)], stdin=subprocess.DEVNULL,
                            stdout=follower, stderr=follower, env=env, cwd=tmp_path)
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the other side closed: the process ended
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(leader)
    text = b"".join(chunks).decode()
    assert proc.returncode == 1, text
    assert f"{ESC}32m+" in text  # the diff, coloured
    progress = [line for line in text.splitlines() if line.startswith("pass ")]
    assert progress and progress[0].startswith("pass 1: 1 fix applied, 0 errors left ("), text


def test_interactive_hunks_are_coloured_too(runner: CliRunner, tmp_path: Path) -> None:
    path = _case(tmp_path, "optional_local_tensor")
    result = runner.invoke(app, ["fix", str(path), "-i", "--color", "always"], input="n\n", color=True)
    assert result.exit_code == 1
    assert f"{ESC}32m+" in result.stdout  # the hunk asked about
    assert typer.style("TS002", fg="cyan", bold=True) in result.stderr


def test_progress_lines_name_the_file_when_a_run_covers_several(capsys: pytest.CaptureFixture[str]) -> None:
    from tsannotate.records import PassRecord

    cli_output.configure(verbose=True)
    try:
        cli_output.progress(PassRecord(1, (), (), (), 0.2), where="models/a.py")
    finally:
        cli_output.reset()
    assert capsys.readouterr().err == "models/a.py: pass 1: 0 fixes applied, 0 errors left (0.2 s)\n"
