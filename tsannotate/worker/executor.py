"""How the worker runs compiled models: each one's first call as deployed, the rest plain.

TorchScript's default (profiling) graph executor profiles a compiled function's first call
and, on the next, optimizes its graph for the shapes it saw, again for each new shape. On
the small models a probe builds, that is most of what running them costs: on the 1500-line
bench model, checking 57 scripted models on their probe and derived inputs took 0.47 s so,
and 0.11 s with the executor's optimizing passes off (`torch.jit.optimized_execution`).

The passes preserve meaning by contract (and on CPU fuse nothing), so outputs are the same
either way. The profiling run is another matter: it rejects some values the plain
interpreter takes (an EmbeddingBag's `per_sample_weights=None` on a parameter compiled as a
Tensor fails there, and in a deployed model). So a scripted model's first call runs as a
deployed model's first call does (`deployed()`), and every other call plainly (`plain()`,
which the worker's requests run under). Running the saved file from C++ (`--cpp`) uses
libtorch's defaults throughout.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import torch


def plain() -> AbstractContextManager[Any]:
    """Compiled code runs as the compiler built it, without the profiling executor."""
    return torch.jit.optimized_execution(False)  # type: ignore[attr-defined]


def deployed() -> AbstractContextManager[Any]:
    """Compiled code runs as in a deployed model: profiled first, then optimized."""
    return torch.jit.optimized_execution(True)  # type: ignore[attr-defined]
