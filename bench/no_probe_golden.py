"""How many golden cases `fix --no-probe` gets right: compiler errors alone vs with mypy's static evidence.

    python bench/no_probe_golden.py

Every case's input.py is fixed through the real loop and worker without running its probe,
once from compiler errors alone (Options(static=False)) and once with static evidence (the
default); a case counts as fixed when the result scripts and is byte-identical to expected.py
(the fix the probe, or the case's author, says is right). Prints one row per case and the
fractions.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CASES = ROOT / "fixtures" / "cases"

from tsannotate.loop import Loop, Options  # noqa: E402
from tsannotate.worker import Worker  # noqa: E402


def run(worker: Worker, case: Path, static: bool) -> tuple[bool, int]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.py"
        path.write_bytes((case / "input.py").read_bytes())
        text = path.read_bytes().decode("utf-8")
        outcome = Loop(str(path), worker, Options(no_probe=True, static=static)).run(text)
        expected = (case / "expected.py").read_bytes().decode("utf-8")
        return outcome.scripts and outcome.final == expected, len(outcome.passes)


def main() -> None:
    cases = sorted(p for p in CASES.iterdir() if (p / "input.py").exists())
    compiler = static = 0
    print(f"{'case':36} {'compiler only':>14} {'+ static':>9}")
    with Worker(timeout=120) as worker:
        for case in cases:
            (alone, alone_passes), (both, both_passes) = run(worker, case, False), run(worker, case, True)
            compiler += alone
            static += both
            print(f"{case.name:36} {('yes' if alone else 'no') + f' ({alone_passes}p)':>14} "
                  f"{('yes' if both else 'no') + f' ({both_passes}p)':>9}")
    n = len(cases)
    print(f"\nfixed with --no-probe: compiler errors alone {compiler}/{n} ({compiler / n:.0%}); "
          f"with static evidence {static}/{n} ({static / n:.0%})")


if __name__ == "__main__":
    main()
