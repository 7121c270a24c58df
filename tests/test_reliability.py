"""The user's file survives the worst: SIGKILL in the middle of writing leaves it old or new."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

OLD = "x = 1\n" + "# old padding line\n" * 200_000
NEW = "x: int = 1\n" + "# new padding line\n" * 200_000

WRITER = """
import sys
from pathlib import Path
from tsannotate.files import read_source, write_atomic
path = Path(sys.argv[1])
old, new = Path(sys.argv[2]).read_text(), Path(sys.argv[3]).read_text()
print("ready", flush=True)
while True:
    source = read_source(path)
    write_atomic(source, new if source.text == old else old)
"""


def test_sigkill_while_writing_leaves_old_or_new(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(OLD)
    (tmp_path / "old.txt").write_text(OLD)
    (tmp_path / "new.txt").write_text(NEW)
    rng = random.Random(1234)
    for _ in range(12):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(tmp_path / "old.txt"), str(tmp_path / "new.txt")],
            stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 0.3))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert path.read_text() in (OLD, NEW)
    # a killed write may leave its temp file beside the model, never in place of it
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("model.py", "old.txt", "new.txt")]
    assert all(name.startswith(".model.py.") and name.endswith(".tsannotate") for name in leftovers)



def test_a_write_removes_what_a_killed_write_left_and_spares_a_running_one(tmp_path: Path) -> None:
    from tsannotate.files import read_source, write_atomic

    path = tmp_path / "model.py"
    path.write_text(OLD)
    orphan = tmp_path / ".model.py.abc123.tsannotate"  # a SIGKILLed write's, an hour ago
    orphan.write_text(NEW[:10])
    os.utime(orphan, (time.time() - 3600, time.time() - 3600))
    running = tmp_path / ".model.py.def456.tsannotate"  # another run's, mid-write
    running.write_text(NEW[:10])
    other = tmp_path / ".other.py.abc123.tsannotate"  # another file's: not this write's business
    other.write_text(NEW[:10])
    os.utime(other, (time.time() - 3600, time.time() - 3600))
    write_atomic(read_source(path), NEW)
    assert path.read_text() == NEW
    assert sorted(p.name for p in tmp_path.iterdir()) == [".model.py.def456.tsannotate",
                                                          ".other.py.abc123.tsannotate", "model.py"]

# ------------------------------------------------------------------ bad input through the command line
# README: every command exits 2 on bad input, with a one-line `error:` message saying what to
# do, and leaves the file byte-identical. (Syntax error, import error, not UTF-8, no target,
# probe hangs and segfaults are in tests/test_cli.py; SIGKILL while writing is above.)

import threading  # noqa: E402

import pytest  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from tsannotate.cli import app  # noqa: E402

NEEDS_A_FIX = """\
import torch
from torch import nn


class Net(nn.Module):
    def forward(self, x, k):
        return x * k


def probe():
    return Net(), [(torch.ones(2), 3)]
"""


def _error_line(stderr: str) -> str:
    """The one `error:` line; anything after it is details (the model's traceback)."""
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    assert stderr.startswith(errors[0]), stderr  # it comes first, whatever follows
    return errors[0]


def test_probe_raises_and_nothing_else_can_be_scripted(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(NEEDS_A_FIX.replace("def forward", "def __init__(self, dim):\n        super().__init__()\n\n"
                                        "    def forward").replace(
        "    return Net()", "    raise RuntimeError('no weights at /data')\n    return Net(2)"))
    before = path.read_bytes()
    result = CliRunner().invoke(app, ["fix", str(path), "--apply"])
    assert result.exit_code == 2, result.stderr
    line = _error_line(result.stderr)
    assert "probe() raised RuntimeError: no weights at /data" in line, line
    assert path.read_bytes() == before


def test_a_probe_that_raises_is_bad_input_even_when_modules_could_be_scripted(tmp_path: Path) -> None:
    """A broken probe is never worked around silently: exit 2 with the user's traceback and
    the way on (--no-probe), the file untouched; with --no-probe the run goes ahead."""
    path = tmp_path / "model.py"
    path.write_text(NEEDS_A_FIX.replace("    return Net()", "    raise RuntimeError('no weights at /data')\n"
                                                          "    return Net()"))
    before = path.read_bytes()
    result = CliRunner().invoke(app, ["fix", str(path), "--apply"])
    assert result.exit_code == 2, result.stderr
    line = _error_line(result.stderr)
    assert "probe() raised RuntimeError: no weights at /data" in line and "--no-probe" in line, line
    assert 'raise RuntimeError(\'no weights at /data\')' in result.stderr  # the user's own traceback
    assert path.read_bytes() == before
    without = CliRunner().invoke(app, ["check", str(path), "--no-probe"])
    assert without.exit_code in (0, 1), without.stderr
    assert "error:" not in without.stderr


def test_fix_on_a_directory_with_no_models(tmp_path: Path) -> None:
    (tmp_path / "util.py").write_text("X = 1\n")
    result = CliRunner().invoke(app, ["fix", str(tmp_path), "--apply"])
    assert result.exit_code == 2, result.stderr
    assert str(tmp_path) in _error_line(result.stderr)
    assert (tmp_path / "util.py").read_text() == "X = 1\n"


def test_fix_on_a_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["fix", str(tmp_path / "nope.py"), "--apply"])
    assert result.exit_code == 2, result.stderr
    assert "no such file" in _error_line(result.stderr)
    assert not (tmp_path / "nope.py").exists()


def test_read_only_file_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(NEEDS_A_FIX)
    os.chmod(path, 0o444)
    result = CliRunner().invoke(app, ["fix", str(path), "--apply"])
    assert result.exit_code == 2, result.stderr
    assert "read-only" in _error_line(result.stderr)
    assert path.read_text() == NEEDS_A_FIX
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.py"]


def test_file_edited_by_someone_else_while_the_tool_runs(tmp_path: Path) -> None:
    """The probe (run in the worker, once per pass) plays the colleague: it edits the model
    file on disk after the tool has read it. The tool must not overwrite their edit."""
    path = tmp_path / "model.py"
    edited = NEEDS_A_FIX + "# someone else's edit\n"
    path.write_text(NEEDS_A_FIX.replace("def probe():\n", (
        "def probe():\n"
        f"    from pathlib import Path\n"
        f"    model_file = Path({str(path)!r})\n"
        f"    if not model_file.read_text().endswith('edit\\n'):\n"
        f"        model_file.write_text({edited!r})\n")))
    result = CliRunner().invoke(app, ["fix", str(path), "--apply"])
    assert result.exit_code == 2, result.stderr
    assert "changed on disk" in _error_line(result.stderr)
    assert path.read_text() == edited


def test_crlf_and_tabs_are_kept_when_written(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_bytes(NEEDS_A_FIX.replace("    ", "\t").replace("\n", "\r\n").encode())
    result = CliRunner().invoke(app, ["fix", str(path), "--apply"])
    assert result.exit_code == 0, result.stderr
    written = path.read_bytes()
    assert b"def forward(self, x, k: int):\r\n\t\treturn x * k\r\n" in written
    assert b"\n" not in written.replace(b"\r\n", b"") and b"    " not in written


PAUSES = """\
import os
import time
from pathlib import Path

CALLS = Path({calls!r})


def pause_on_call(n):
    \"\"\"The worker writes its pid and waits (to be killed) the n-th time the probe runs.\"\"\"
    calls = int(CALLS.read_text()) + 1 if CALLS.exists() else 1
    CALLS.write_text(str(calls))
    if calls == n:
        CALLS.with_name("pid").write_text(str(os.getpid()))
        time.sleep(60)
"""


def _kill_worker_when_it_waits(tmp_path: Path) -> threading.Thread:
    def kill() -> None:
        pid_file = tmp_path / "pid"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if pid_file.exists() and pid_file.read_text():
                time.sleep(0.2)
                os.kill(int(pid_file.read_text()), signal.SIGKILL)  # the worker this test started
                return
            time.sleep(0.05)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("call", [
    pytest.param(1, id="first-pass"),
    pytest.param(2, id="after-fixes"),
])
def test_worker_killed_by_a_signal_mid_pass(tmp_path: Path, call: int) -> None:
    (tmp_path / "pauses.py").write_text(PAUSES.format(calls=str(tmp_path / "calls")))
    path = tmp_path / "model.py"
    path.write_text(NEEDS_A_FIX.replace("def probe():\n", (
        "def probe():\n"
        "    import sys\n"
        f"    sys.path.insert(0, {str(tmp_path)!r})\n"
        "    from pauses import pause_on_call\n"
        f"    pause_on_call({call})\n")))
    before = path.read_bytes()
    killer = _kill_worker_when_it_waits(tmp_path)
    result = CliRunner().invoke(app, ["fix", str(path), "--apply"])
    killer.join(timeout=5)
    assert result.exit_code == 2, result.stderr
    line = _error_line(result.stderr)
    assert "killed by SIGKILL" in line, line
    assert path.read_bytes() == before


def test_sigterm_stops_the_run_cleanly(tmp_path: Path) -> None:
    """`kill` (a CI timeout, systemd) mid-run: exit 143, the model untouched, no worker left
    running, no worker log or temp file left behind."""
    model = tmp_path / "model.py"
    shutil.copyfile(Path(__file__).resolve().parent.parent / "examples" / "broken_transformer.py", model)
    before = model.read_bytes()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    child = subprocess.Popen([sys.executable, "-m", "tsannotate", "fix", str(model), "--apply"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 30
    while not list(scratch.glob("tsannotate-worker-*")) and time.monotonic() < deadline:
        time.sleep(0.02)  # the worker (and its log) exists: the run is under way
    time.sleep(0.3)
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 143, err
    assert "Traceback" not in err
    assert model.read_bytes() == before
    assert list(scratch.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tsannotate")] == []
