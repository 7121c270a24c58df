"""The user's file survives the worst: SIGKILL in the middle of writing leaves it old or new."""

from __future__ import annotations

import os
import random
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
