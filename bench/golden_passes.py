"""Passes and wall time of `tsannotate fix --apply` on every golden case, as a user runs it.

    python bench/golden_passes.py

Each case is copied to a temp dir and fixed through the real command line (a new
process per case: `import torch` included, as a user pays it). Prints one row per case
and the medians; also the time of `python -c "import torch"` measured in the same run,
so the figures can be read as a ratio on any machine.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"


def timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    return time.perf_counter() - started, done


def main() -> None:
    import_torch, _ = timed([sys.executable, "-c", "import torch"])
    rows = []
    for case in sorted(p for p in CASES.iterdir() if (p / "input.py").exists()):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.py"
            shutil.copyfile(case / "input.py", path)
            seconds, done = timed([sys.executable, "-m", "tsannotate", "fix", str(path), "--apply",
                                   "--format", "json"])
            data = json.loads(done.stdout)
            same = path.read_bytes() == (case / "expected.py").read_bytes()
            rows.append((case.name, len(data["passes"]), len(data["fixes"]), seconds, data["scripts"], same))
    print(f"{'case':32} passes fixes  wall(s)  scripts  ==expected")
    for name, passes, fixes, seconds, scripts, same in rows:
        print(f"{name:32} {passes:6} {fixes:5} {seconds:8.2f}  {scripts!s:7}  {same}")
    changed = [r for r in rows if r[2]]
    print(f"\nimport torch alone: {import_torch:.2f} s")
    print(f"median passes (cases with fixes): {statistics.median(r[1] for r in changed)}, "
          f"mean {statistics.mean(r[1] for r in changed):.2f}, max {max(r[1] for r in changed)}; "
          f"{sum(r[2] for r in rows)} fixes in {sum(r[1] for r in rows)} passes")
    print(f"median wall time: {statistics.median(r[3] for r in rows):.2f} s "
          f"({statistics.median(r[3] for r in rows) / import_torch:.2f}x import torch)")
    print(f"scripted: {sum(r[4] for r in rows)}/{len(rows)}, identical to expected: {sum(r[5] for r in rows)}/{len(rows)}")


if __name__ == "__main__":
    main()
