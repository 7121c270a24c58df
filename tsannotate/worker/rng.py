"""`torch.manual_seed(0)` before every probe, eager and scripted call, at the cost of the one
generator that exists.

`torch.manual_seed` also seeds each accelerator; one that is not initialized gets the seed
queued for later with a formatted stack trace (`traceback.format_stack`), ~0.3 ms a call in
the worker, which seeds ~800 times while verifying a 60-model file. Without an accelerator
those queued seeds can never run, so seeding the CPU generator alone is the same thing.
"""

from __future__ import annotations

import torch

_cpu_only: bool | None = None  # no CUDA, XPU, MTIA or MPS device in this process: known once


def seed() -> None:
    """What `torch.manual_seed(0)` does, without its no-op work when only the CPU can run."""
    global _cpu_only
    if _cpu_only is None:
        _cpu_only = _no_accelerator()
    if _cpu_only and not hasattr(torch, torch._C._get_privateuse1_backend_name()):
        torch.default_generator.manual_seed(0)
    else:  # an accelerator, or a custom backend a model registered: seed them all
        torch.manual_seed(0)


def _no_accelerator() -> bool:
    try:
        return not (torch.cuda.is_available() or torch.xpu.is_available()
                    or torch.backends.mps.is_available()
                    or getattr(getattr(torch, "mtia", None), "is_available", lambda: False)())
    except Exception:  # cannot tell: seed as torch does
        return False
