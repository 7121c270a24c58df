"""`tsannotate --help` time ÷ `python -c pass`, both measured in this run (best of N, in turns).

    python bench/startup.py [N]

The CLI never imports torch or libcst before a command needs them; this keeps it honest.

Both commands run with their bytecode cached (in a private PYTHONPYCACHEPREFIX, after a warm-up
run), as an installed package has it: with PYTHONDONTWRITEBYTECODE=1 (set on the project's
machine) every run would recompile tsannotate's own modules, which is not start-up. That
figure is printed too, for comparison.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time


Run = tuple[list[str], dict[str, str]]  # a command and its environment


def best(runs: int, commands: dict[str, Run]) -> tuple[dict[str, float], dict[str, float]]:
    """Each command's fastest of `runs`, wall time and CPU time, taken in turns (one run of each
    per round), so that a load that comes and goes on a shared machine weighs on all alike."""
    for cmd, env in commands.values():  # warm-up: writes the bytecode
        subprocess.run(cmd, check=True, capture_output=True, env=env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (cmd, env) in commands.items():
            used = _children_cpu()
            started = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, env=env)
            times[name].append(time.perf_counter() - started)
            cpu[name].append(_children_cpu() - used)
    return {name: min(t) for name, t in times.items()}, {name: min(t) for name, t in cpu.items()}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    py = sys.executable
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        t, c = best(runs, {
            "baseline": ([py, "-c", "pass"], env),
            "help": ([py, "-m", "tsannotate", "--help"], env),
            "typer": ([py, "-c", "import typer"], env),
            "uncached": ([py, "-m", "tsannotate", "--help"], {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}),
        })
    base = t["baseline"]
    print(f"python -c pass:        {base * 1000:7.1f} ms")
    print(f"tsannotate --help:     {t['help'] * 1000:7.1f} ms")
    print(f"ratio:                 {t['help'] / base:7.2f}x  (goal <= 3x)")
    print(f"for scale, `import typer` alone: {t['typer'] * 1000:.1f} ms = {t['typer'] / base:.2f}x")
    print(f"without cached bytecode (PYTHONDONTWRITEBYTECODE=1): {t['uncached'] * 1000:.1f} ms "
          f"= {t['uncached'] / base:.2f}x")
    print(f"CPU time (user + sys; steadier than wall time on a busy machine): --help "
          f"{c['help'] * 1000:.1f} ms / pass {c['baseline'] * 1000:.1f} ms = {c['help'] / c['baseline']:.2f}x; "
          f"import typer {c['typer'] / c['baseline']:.2f}x")


if __name__ == "__main__":
    main()
