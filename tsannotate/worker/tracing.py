"""Tracing for `verify --trace`: trace once, note the model-file lines the trace ran and the
tracer's warnings; compare a trace's outputs with eager fairly."""

from __future__ import annotations

import os
import sys
import warnings
from types import FrameType
from typing import Any

import torch

from tsannotate.records import Hazard
from tsannotate.worker import hazards

_TORCH_DIR = os.path.dirname(os.path.abspath(torch.__file__)) + os.sep


def trace(model: Any, args: tuple[Any, ...], path: str
          ) -> tuple[Any, set[tuple[str, int]], list[Hazard]]:
    """(the trace, the lines of `path` it ran, the tracer's warnings as hazards); raises what
    torch.jit.trace raises."""
    lines: set[tuple[str, int]] = set()

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        if frame.f_code.co_filename == path:
            lines.add((path, frame.f_lineno))
            return tracer
        return None

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        previous = sys.gettrace()
        sys.settrace(tracer)
        try:
            traced = torch.jit.trace(  # type: ignore[no-untyped-call]
                model, args, check_trace=False, strict=False)
        finally:
            sys.settrace(previous)
    return traced, lines, hazards.from_warnings(caught, _TORCH_DIR)


def same_call(args: tuple[Any, ...], traced_with: tuple[Any, ...]) -> bool:
    """Whether a trace made with `traced_with` can take `args`: same count, tensors in the same
    places, the same other values (a trace keeps those as constants)."""
    return _call_shape(args) == _call_shape(traced_with)


def _call_shape(args: tuple[Any, ...]) -> object:
    """What a trace fixes about its arguments: how many, which are tensors, the other values."""
    def one(v: Any) -> object:
        if isinstance(v, torch.Tensor):
            return "tensor"
        if isinstance(v, (tuple, list)):
            return tuple(one(x) for x in v)
        if isinstance(v, dict):
            return tuple((k, one(x)) for k, x in v.items())
        return repr(v)
    return one(args)


def numbers_from_tensors(expected: Any, got: Any) -> Any:
    """`got` with 0-dim tensors turned into numbers where eager returned a number."""
    if isinstance(got, torch.Tensor) and got.dim() == 0 and type(expected) in (int, float, bool):
        return type(expected)(got.item())
    if isinstance(expected, (tuple, list)) and isinstance(got, (tuple, list)) and len(expected) == len(got):
        return type(got)(numbers_from_tensors(e, g) for e, g in zip(expected, got))
    if isinstance(expected, dict) and isinstance(got, dict):
        return {k: numbers_from_tensors(expected.get(k), v) for k, v in got.items()}
    return got
