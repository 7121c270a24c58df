"""`tsannotate --help` time ÷ `python -c pass`, both measured in this run (best of N).

    python bench/startup.py [N]

The CLI never imports torch or libcst before a command needs them; this keeps it honest.
"""

from __future__ import annotations

import subprocess
import sys
import time


def best(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    baseline = best([sys.executable, "-c", "pass"], runs)
    helped = best([sys.executable, "-m", "tsannotate", "--help"], runs)
    print(f"python -c pass:        {baseline * 1000:7.1f} ms")
    print(f"tsannotate --help:     {helped * 1000:7.1f} ms")
    print(f"ratio:                 {helped / baseline:7.2f}x  (goal <= 3x)")


if __name__ == "__main__":
    main()
