"""Compare what the scripted target returned with what the eager model returned."""

from __future__ import annotations

import copy
import math
from typing import Any

import torch


def snapshot(value: Any) -> Any:
    """A copy of an output that later calls (or restored state) cannot change."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(snapshot(v) for v in value)
    if isinstance(value, list):
        return [snapshot(v) for v in value]
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    return value


def fresh_args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The probe's arguments, copied so an in-place op in one call cannot leak into the next."""
    try:
        return copy.deepcopy(args)
    except Exception:
        return args


def mismatch(eager: Any, scripted: Any, where: str = "output") -> tuple[str, str, str] | None:
    """(where, scripted description, eager description) of the first difference, or None."""
    if isinstance(eager, torch.Tensor) or isinstance(scripted, torch.Tensor):
        if not (isinstance(eager, torch.Tensor) and isinstance(scripted, torch.Tensor)):
            return where, describe(scripted), describe(eager)
        if eager.shape != scripted.shape or eager.dtype != scripted.dtype:
            return where, describe(scripted), describe(eager)
        if not _tensors_close(eager, scripted):
            return where, describe(scripted) + " with different values", describe(eager)
        return None
    if isinstance(eager, (tuple, list)) and isinstance(scripted, (tuple, list)):
        if len(eager) != len(scripted):
            return where, describe(scripted), describe(eager)
        for i, (e, s) in enumerate(zip(eager, scripted)):
            found = mismatch(e, s, f"{where}[{i}]")
            if found:
                return found
        return None
    if isinstance(eager, dict) and isinstance(scripted, dict):
        if set(eager) != set(scripted):
            return where, f"a dict with keys {sorted(map(repr, scripted))}", \
                f"a dict with keys {sorted(map(repr, eager))}"
        for key in eager:
            found = mismatch(eager[key], scripted[key], f"{where}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(eager, float) and isinstance(scripted, (float, int)):
        if math.isnan(eager) and math.isnan(scripted):
            return None
        same = math.isclose(eager, scripted, rel_tol=1e-6, abs_tol=1e-9)
        return None if same else (where, describe(scripted), describe(eager))
    try:
        same = type(eager) is type(scripted) and bool(eager == scripted)
    except Exception:
        return None  # cannot tell; do not accuse the scripted model
    if same or _same_kind_opaque(eager, scripted):
        return None
    return where, describe(scripted), describe(eager)


def _same_kind_opaque(eager: Any, scripted: Any) -> bool:
    """Objects without value equality (a returned module, say) of matching type."""
    return type(eager) is type(scripted) and getattr(type(eager), "__eq__") is getattr(object, "__eq__")


def _tensors_close(a: torch.Tensor, b: torch.Tensor) -> bool:
    try:
        if a.is_floating_point() or a.is_complex():
            return torch.allclose(a, b.to(a.device), rtol=1e-5, atol=1e-6, equal_nan=True)
        return torch.equal(a, b.to(a.device))
    except Exception:
        return True  # sparse, quantized...: not worth a false alarm


def describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {str(value.dtype).removeprefix('torch.')} tensor of shape {list(value.shape)}"
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return f"a {kind} of {len(value)}"
    if isinstance(value, dict):
        return f"a dict of {len(value)}"
    if isinstance(value, (bool, int, float, str)):
        text = repr(value)
        return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"
    return f"a {type(value).__name__}"
