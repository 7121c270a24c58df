"""Derive more inputs from the probe's: another batch size, another sequence length.

A model that scripts can still have frozen a shape (a traced `len(x)`, a scripted branch on
a size the probe happened to have); running both models on inputs of another shape is the
cheapest way to see it. Tensors are resized by repeating (or dropping) their own slices, so
token ids stay valid ids and masks stay masks. A sorted 1-d integer tensor (EmbeddingBag or
CSR offsets, a PyG `ptr` or `batch` vector) grows by repeating its last value instead, so it
stays sorted: offsets `[0, 2]` for a batch of 3 become `[0, 2, 2]` (an empty last bag), where
repeating them cyclically would give `[0, 2, 0]`, which no model accepts as offsets. Either way
a resized tensor holds no value the probe's did not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch


def derive(inputs: list[tuple[Any, ...]]) -> list[tuple[str, tuple[Any, ...]]]:
    """(label, args) for each derived input whose shapes differ from every other input's."""
    seen = {signature(args) for args in inputs}
    out: list[tuple[str, tuple[Any, ...]]] = []
    for i, args in enumerate(inputs):
        for label, variant in _variants(args):
            key = signature(variant)
            if key not in seen:
                seen.add(key)
                out.append((f"probe input {i} with {label}", variant))
    return out


def _variants(args: tuple[Any, ...]) -> list[tuple[str, tuple[Any, ...]]]:
    tensors = [t for t in _tensors(args) if t.dim() >= 1]
    if not tensors:
        return []
    out: list[tuple[str, tuple[Any, ...]]] = []
    batch = tensors[0].shape[0]
    if batch >= 1:
        new = batch + 1

        def resize_batch(t: torch.Tensor) -> torch.Tensor:
            return resize(t, 0, new) if t.dim() >= 1 and t.shape[0] == batch else t

        out.append((f"batch {new} (dim 0: {batch} → {new})", _map(args, resize_batch)))
    first = next((t for t in tensors if t.dim() >= 2), None)
    if first is not None:
        dim = 1 if first.dim() <= 3 else first.dim() - 2
        length = first.shape[dim]
        new_length = length - 1 if length >= 3 else length + 1

        def resize_length(t: torch.Tensor) -> torch.Tensor:
            for d in range(1, t.dim()):
                if t.shape[d] == length:
                    t = resize(t, d, new_length)
            return t

        out.append((f"length {new_length} (dim {dim}: {length} → {new_length})",
                    _map(args, resize_length)))
    return out


def resize(t: torch.Tensor, dim: int, size: int) -> torch.Tensor:
    """`t` with `size` entries along `dim`: its first ones, or its own repeated cyclically."""
    n = t.shape[dim]
    if size <= n:
        return t.narrow(dim, 0, size).clone()
    if _sorted_integers(t):  # offsets stay offsets: pad with the last one
        index = torch.arange(size, device=t.device).clamp(max=n - 1)
    else:
        index = torch.arange(size, device=t.device) % n
    return t.index_select(dim, index)


def _sorted_integers(t: torch.Tensor) -> bool:
    """A 1-d integer tensor of 2 or more values, in ascending order (not strictly)."""
    if t.dim() != 1 or t.shape[0] < 2 or t.dtype == torch.bool or t.is_floating_point() or t.is_complex():
        return False
    try:
        return bool((t[1:] >= t[:-1]).all())
    except Exception:  # a tensor subclass or device without the comparison: cycle it
        return False


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def _map(value: Any, fn: Callable[[torch.Tensor], torch.Tensor]) -> Any:
    if isinstance(value, torch.Tensor):
        return fn(value)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_map(v, fn) for v in value)
    if isinstance(value, list):
        return [_map(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: _map(v, fn) for k, v in value.items()}
    return value


def signature(value: Any) -> object:
    """What tells two inputs apart for this purpose: tensor shapes and dtypes, other values."""
    if isinstance(value, torch.Tensor):
        return ("tensor", tuple(value.shape), str(value.dtype))
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(signature(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((repr(k), signature(v)) for k, v in value.items()))
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


def describe_input(args: tuple[Any, ...]) -> str:
    """`(Tensor[2, 7] int64, None)` — for messages."""
    def one(v: Any) -> str:
        if isinstance(v, torch.Tensor):
            return f"Tensor{list(v.shape)} {str(v.dtype).removeprefix('torch.')}"
        if isinstance(v, (tuple, list)):
            inner = ", ".join(one(x) for x in v[:4]) + (", ..." if len(v) > 4 else "")
            return f"({inner})" if isinstance(v, tuple) else f"[{inner}]"
        text = repr(v)
        return text if len(text) <= 30 else text[:27] + "..."
    return "(" + ", ".join(one(a) for a in args) + ")"
