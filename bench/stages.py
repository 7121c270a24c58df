"""Where the time of one `tsannotate fix MODEL --apply` goes, stage by stage.

    python bench/stages.py MODEL.py [--repeat 3]
    python bench/stages.py --built small|medium|large   # bench/lower_bound.py's models
    python bench/stages.py --built large --timeline     # and when each stage ran, last run

Runs the CLI in this process on a temporary copy of MODEL (the original is never touched),
with a timer around each stage, and prints seconds per stage (median of `--repeat` runs), how
often it ran, and the whole command's wall time. Stages that overlap (the worker starting
while the CLI imports, mypy while the worker scripts) are timed where the CLI waits for them,
so the column need not add up to the total: the total is what a user waits.

A stage this script cannot find (renamed by a refactor) is left out and named on stderr.
"""

from __future__ import annotations

import argparse
import collections
import functools
import importlib
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

# (module, attribute path, label): the stages, as the CLI process sees them
STAGES = [
    ("tsannotate.worker.client", "_Child.__init__", "worker start (import torch)"),
    ("tsannotate.worker.client", "Worker.script", "worker: script requests"),
    ("tsannotate.worker.client", "Worker.verify", "worker: verify gate"),
    ("tsannotate.loop", "apply_edits", "rewrite (apply_edits)"),
    ("tsannotate.loop", "index_source", "index_source (loop)"),
    ("tsannotate.rules", "plan", "rules.plan"),
    ("tsannotate.static", "infer", "mypy (static.infer)"),
    ("tsannotate.static", "collect_garbage", "gc"),
    ("tsannotate.loop", "_Ahead._run", "ahead thread"),
    ("tsannotate.loop", "Loop.settle", "settle"),
]


SPANS: list[tuple[str, float, float]] = []  # (label, start, end) of every timed call, perf_counter


def instrument(seconds: dict[str, float], calls: collections.Counter[str]) -> None:
    for module_name, attribute, label in STAGES:
        owner: Any = importlib.import_module(module_name)
        *parents, name = attribute.split(".")
        try:
            for parent in parents:
                owner = getattr(owner, parent)
            original: Callable[..., Any] = getattr(owner, name)
        except AttributeError:
            print(f"stages: {module_name}.{attribute} not found; {label!r} left out", file=sys.stderr)
            continue

        def timed(*args: Any, __f: Callable[..., Any] = original, __label: str = label, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return __f(*args, **kwargs)
            finally:
                ended = time.perf_counter()
                seconds[__label] += ended - started
                SPANS.append((__label, started, ended))
                calls[__label] += 1

        setattr(owner, name, functools.wraps(original)(timed))


def run_once(model: Path) -> tuple[float, float]:
    """The start and wall time of one in-process `fix --apply` of a copy of `model` (its output
    dropped)."""
    import contextlib
    import io

    from tsannotate.cli import app
    from tsannotate.static import collect_garbage

    collect_garbage(at_least=1)  # not inside the timed run: a user's one-file process never holds
    # earlier commands' mypy builds, so it seldom reaches static.py's collection threshold
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        copy = Path(tmp) / "model.py"
        shutil.copyfile(model, copy)
        started = time.perf_counter()
        try:
            app(["fix", str(copy), "--apply", "--format", "json", "--quiet"], prog_name="tsannotate",
                standalone_mode=False)
        except SystemExit:
            pass
        return started, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", nargs="?", type=Path)
    parser.add_argument("--built", choices=["small", "medium", "large"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeline", action="store_true", help="also print the last run's stages in time order")
    args = parser.parse_args()
    if (args.model is None) == (args.built is None):
        parser.error("give MODEL.py or --built SIZE")
    seconds: dict[str, float] = collections.defaultdict(float)
    calls: collections.Counter[str] = collections.Counter()
    instrument(seconds, calls)
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if args.built:
            import lower_bound

            model = Path(tmp) / f"{args.built}.py"
            model.write_text(lower_bound.build(lower_bound.SIZES[args.built]))
        run_once(model)  # warm: file cache, mypy's cache
        totals: list[float] = []
        per_run: list[dict[str, float]] = []
        began = 0.0
        for _ in range(args.repeat):
            seconds.clear()
            calls.clear()
            SPANS.clear()
            began, took = run_once(model)
            totals.append(took)
            per_run.append(dict(seconds))
    print(f"{'stage':32} {'seconds':>8} {'calls':>6}")
    for label in sorted(per_run[-1], key=lambda k: -per_run[-1][k]):
        print(f"{label:32} {statistics.median(r.get(label, 0.0) for r in per_run):8.2f} {calls[label]:6}")
    print(f"{'whole command (in-process)':32} {statistics.median(totals):8.2f}")
    if args.timeline:
        print(f"\nthe last run, in time order (seconds from the command's start; {totals[-1]:.2f} s in all)")
        for label, start, end in sorted(SPANS, key=lambda span: span[1]):
            print(f"{start - began:6.2f} -> {end - began:6.2f}  {label}")


if __name__ == "__main__":
    main()
