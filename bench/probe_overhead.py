"""Eager probe run with the type recorder ÷ the same run without it, measured in one run.

    python bench/probe_overhead.py [REPS]

(a) `nn.TransformerEncoder`, 6 × `TransformerEncoderLayer(d_model=256, nhead=8,
    batch_first=True)`, input `torch.randn(8, 128, 256)`. Its code is torch's own, so
    nothing is recorded: the figure is the cost of the profile hook seeing every call.
(b) A Python-heavy model (written to a temp file, so it is "user code" and recorded):
    its forward makes 300 rounds of small method calls on 4-element tensors.

Each figure is the median of REPS timed forwards after a warm-up, with and without the
recorder alternating so that drift (thermal, allocator) hits both alike. Training mode,
gradients on (what a probe's eager run does unless the probe says otherwise); (a) is
also shown in eval mode under `torch.no_grad()`, where torch takes its fused fast path.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from tsannotate.worker.recorder import Recorder

PYTHON_HEAVY = '''
import torch
from torch import nn


class Cell(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(4))
        self.scale = 0.5
        self.seen = []

    def mix(self, x, k: float):
        return x * k + self.w

    def gate(self, x, lo: float, hi: float):
        return x.clamp(lo, hi)

    def step(self, x, i: int):
        y = self.mix(x, self.scale)
        if i % 2 == 0:
            y = self.gate(y, -1.0, 1.0)
        return y


class Heavy(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = Cell()

    def forward(self, x):
        for i in range(300):
            x = self.cell.step(x, i)
        return x
'''


def _load_heavy(directory: str) -> tuple[nn.Module, str]:
    path = os.path.join(directory, "heavy_model.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(textwrap.dedent(PYTHON_HEAVY))
    spec = importlib.util.spec_from_file_location("heavy_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    heavy: nn.Module = module.Heavy()
    return heavy, path


def ratio(call: Callable[[], Any], files: set[str], reps: int) -> tuple[float, float, Recorder]:
    """(median plain seconds, median recorded seconds, the last recorder)."""
    recorder = Recorder(files)
    for _ in range(3):  # warm-up: allocator, lazy inits, both paths
        call()
        with Recorder(files).active():
            call()
    plain: list[float] = []
    recorded: list[float] = []
    for _ in range(reps):
        started = time.perf_counter()
        call()
        plain.append(time.perf_counter() - started)
        recorder = Recorder(files)  # a fresh one each time: the 32-call cap starts over
        started = time.perf_counter()
        with recorder.active():
            call()
        recorded.append(time.perf_counter() - started)
    return statistics.median(plain), statistics.median(recorded), recorder


def events(call: Callable[[], Any]) -> str:
    counts: dict[str, int] = {}

    def count(frame: Any, event: str, arg: Any) -> None:
        counts[event] = counts.get(event, 0) + 1

    sys.setprofile(count)
    try:
        call()
    finally:
        sys.setprofile(None)
    return " ".join(f"{k}={v}" for k, v in sorted(counts.items()))


def row(label: str, plain: float, recorded: float, goal: float) -> None:
    r = recorded / plain
    verdict = "ok" if r <= goal else "OVER"
    print(f"{label:<46} {plain * 1000:8.2f} ms {recorded * 1000:8.2f} ms {r:6.2f}x"
          f"  (goal <= {goal}x: {verdict})")


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    torch.manual_seed(0)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(f"torch {torch.__version__}, python {sys.version.split()[0]}, "
          f"{torch.get_num_threads()} threads, median of {reps}")
    print(f"{'':<46} {'plain':>11} {'recorded':>11} {'ratio':>7}")

    with tempfile.TemporaryDirectory() as tmp:
        layer = nn.TransformerEncoderLayer(d_model=256, nhead=8, batch_first=True)
        encoder = nn.TransformerEncoder(layer, num_layers=6)
        x = torch.randn(8, 128, 256)
        files = {os.path.join(tmp, "model.py")}  # nothing of torch's is recorded
        encoder.train()
        plain, recorded, recorder = ratio(lambda: encoder(x), files, reps)
        row("(a) TransformerEncoder, train, grad", plain, recorded, 1.2)
        assert recorder.observations() == ()
        encoder.eval()
        with torch.no_grad():
            plain, recorded, _ = ratio(lambda: encoder(x), files, reps)
        row("(a) TransformerEncoder, eval, no_grad", plain, recorded, 1.2)

        heavy, path = _load_heavy(tmp)
        small = torch.randn(4)
        plain, recorded, recorder = ratio(lambda: heavy(small), {path}, reps * 4)
        row("(b) Python-heavy (300 rounds), train, grad", plain, recorded, 3.0)
        with torch.no_grad():
            plain, recorded, _ = ratio(lambda: heavy(small), {path}, reps * 4)
        row("(b) Python-heavy (300 rounds), no_grad", plain, recorded, 3.0)
        print(f"hook events per forward: (a) train {events(lambda: encoder.train()(x))}, "
              f"(b) {events(lambda: heavy(small))}")
        seen = recorder.observations()
        print(f"(b) recorded {len(seen)} observations, e.g. "
              + ", ".join(f"{o.qualname}/{o.name or 'return'}: {o.type}" for o in seen[:4]))


if __name__ == "__main__":
    main()
