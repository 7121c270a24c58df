"""`tsannotate --help` time ÷ `python -c pass`, both measured in this run (best of N).

    python bench/startup.py [N]

The CLI never imports torch or libcst before a command needs them; this keeps it honest.

Both commands run with their bytecode cached (in a private PYTHONPYCACHEPREFIX, after a warm-up
run), as an installed package has it: with PYTHONDONTWRITEBYTECODE=1 (set on the project's
machine) every run would recompile tsannotate's own modules, which is not start-up. That
figure is printed too, for comparison.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time


def best(cmd: list[str], runs: int, env: dict[str, str]) -> float:
    subprocess.run(cmd, check=True, capture_output=True, env=env)  # warm-up: writes the bytecode
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    help_cmd = [sys.executable, "-m", "tsannotate", "--help"]
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        baseline = best([sys.executable, "-c", "pass"], runs, env)
        helped = best(help_cmd, runs, env)
        typer_alone = best([sys.executable, "-c", "import typer"], runs, env)
    uncached = best(help_cmd, runs, {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    print(f"python -c pass:        {baseline * 1000:7.1f} ms")
    print(f"tsannotate --help:     {helped * 1000:7.1f} ms")
    print(f"ratio:                 {helped / baseline:7.2f}x  (goal <= 3x)")
    print(f"for scale, `import typer` alone: {typer_alone * 1000:.1f} ms = {typer_alone / baseline:.2f}x")
    print(f"without cached bytecode (PYTHONDONTWRITEBYTECODE=1): {uncached * 1000:.1f} ms "
          f"= {uncached / baseline:.2f}x")


if __name__ == "__main__":
    main()
