"""The mypy step's time per pass on a ~300-line model, next to one script pass, in the same run.

    python bench/mypy_step.py

The model is the golden cases' inputs concatenated (each case's `probe` renamed, so the
file is one module of ~20 classes and helpers, about 300 lines when capped by --lines).
Prints, for a `fix --no-probe` loop on it: per pass, the mypy step (all its builds) and
the script pass (the worker's load + script of every target); then the mypy step with a
cold cache (a fresh cache directory: what the first run on a machine pays), and the
number of fixes backed out over every golden case — the only thing a mypy check of a
pass's edits before scripting could save.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CASES = ROOT / "fixtures" / "cases"

from tsannotate import static  # noqa: E402
from tsannotate.loop import Loop, Options  # noqa: E402
from tsannotate.records import ScriptReport, ScriptRequest  # noqa: E402
from tsannotate.worker import Worker  # noqa: E402


def model(lines: int) -> str:
    """Golden inputs, concatenated until the file has about `lines` lines."""
    header = ("import math\nfrom typing import Dict, List, Optional, Tuple\n\nimport torch\n"
              "import torch.nn as nn\nimport torch.nn.functional as F\nfrom torch import Tensor\n")
    parts: list[str] = []
    names: set[str] = set()
    total = header.count("\n")
    for case in sorted(p for p in CASES.iterdir() if (p / "input.py").exists()):
        text = (case / "input.py").read_text().replace("\r\n", "\n")
        if "\t" in text or "jit.script" in text:
            continue
        defined = set(re.findall(r"^(?:class|def) (\w+)", text, re.M)) - {"probe"}
        if defined & names:
            continue
        names |= defined
        body = "\n".join(ln for ln in text.splitlines() if not ln.startswith(("import ", "from ")))
        body = body.replace("def probe():", f"def probe_{case.name}():")
        parts.append(body)
        total += body.count("\n") + 1
        if total >= lines:
            break
    return header + "\n\n".join(parts) + "\n"


class Timed:
    """The worker, remembering how long each script pass took."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.seconds: list[float] = []

    def script(self, request: ScriptRequest) -> ScriptReport:
        started = time.perf_counter()
        report = self.worker.script(request)
        self.seconds.append(time.perf_counter() - started)
        return report


def backed_out(worker: Worker) -> tuple[int, int]:
    """(fixes backed out, fixes applied) over every golden case, probe and --no-probe."""
    out = applied = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in sorted(p for p in CASES.iterdir() if (p / "input.py").exists()):
            for no_probe in (False, True):
                path = Path(tmp) / "model.py"
                path.write_bytes((case / "input.py").read_bytes())
                outcome = Loop(str(path), worker, Options(no_probe=no_probe)).run(path.read_text())
                out += sum(len(p.backed_out) for p in outcome.passes)
                applied += len(outcome.fixes)
    return out, applied


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=300)
    args = parser.parse_args()
    text = model(args.lines)
    with tempfile.TemporaryDirectory() as tmp, Worker(timeout=120) as worker:
        path = Path(tmp) / "big_model.py"
        path.write_text(text)
        timed = Timed(worker)
        timed.script(ScriptRequest(str(path), text, no_probe=True))  # warm: import torch
        timed.seconds.clear()
        static.infer(str(path), text)  # warm mypy's cache for this environment
        loop = Loop(str(path), timed, Options(no_probe=True))
        outcome = loop.run(text)
        cold_started = time.perf_counter()
        cold = static.infer(str(path), text, cache=str(Path(tmp) / "cold-cache"))
        cold_seconds = time.perf_counter() - cold_started
        print(f"model: {text.count(chr(10))} lines, {len(outcome.passes)} passes, "
              f"{len(outcome.fixes)} fixes, scripts={outcome.scripts}")
        print(f"{'pass':>4}  {'mypy step (s)':>13}  {'script pass (s)':>15}")
        scripts = timed.seconds  # the first is the loop's initial script of the unedited file
        for i, seconds in enumerate(loop.static_seconds):
            script = scripts[i] if i < len(scripts) else float("nan")
            print(f"{i + 1:>4}  {seconds:>13.3f}  {script:>15.3f}")
        print(f"median: mypy step {statistics.median(loop.static_seconds):.3f} s per pass, "
              f"script pass {statistics.median(scripts):.3f} s")
        print(f"mypy step with a cold cache: {cold_seconds:.2f} s "
              f"({len(cold.observations)} observations{', ' + cold.note if cold.note else ''})")
        out, applied = backed_out(worker)
        print(f"golden cases, probe and --no-probe: {out} of {out + applied} proposed fixes backed out "
              "(a mypy check before scripting could save at most that many script passes)")


if __name__ == "__main__":
    main()
