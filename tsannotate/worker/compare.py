"""Compare what the scripted target returned with what the eager model returned."""

from __future__ import annotations

import copy
import dataclasses
import enum
import functools
import math
import types
from typing import Any

import torch
from torch import nn


def snapshot(value: Any, _memo: dict[int, Any] | None = None) -> Any:
    """A copy of an output that later calls (or restored state) cannot change.

    Records (a dataclass, a NamedTuple, a plain object: see `_fields`) are copied too, field by
    field; one that cannot be copied is kept as it is."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    memo = {} if _memo is None else _memo
    if id(value) in memo:  # shared, or a cycle through a record
        return memo[id(value)]
    fields = _fields(value)
    if fields is not None:
        return _snapshot_record(value, fields, memo)
    if isinstance(value, tuple):
        return tuple(snapshot(v, memo) for v in value)
    if isinstance(value, list):
        return [snapshot(v, memo) for v in value]
    if isinstance(value, dict):
        return {k: snapshot(v, memo) for k, v in value.items()}
    return value


def _snapshot_record(value: Any, fields: dict[str, Any], memo: dict[int, Any]) -> Any:
    if isinstance(value, tuple):  # a NamedTuple (or torch.return_types): rebuilt, not mutated
        items = [snapshot(v, memo) for v in value]
        make = getattr(type(value), "_make", None)
        try:
            return make(items) if make is not None else type(value)(items)
        except Exception:
            return value
    try:
        new = copy.copy(value)
    except Exception:
        return value
    if new is value:
        return value
    memo[id(value)] = new
    try:
        for name, item in fields.items():
            object.__setattr__(new, name, snapshot(item, memo))  # a frozen dataclass too
        if isinstance(value, dict):  # a dict that is also a dataclass (transformers' ModelOutput)
            for key, item in value.items():
                dict.__setitem__(new, key, snapshot(item, memo))
    except Exception:
        memo[id(value)] = value
        return value
    return new


def fresh_args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The probe's arguments, copied so an in-place op in one call cannot leak into the next.

    What `copy.deepcopy` makes of them; the common case (plain tensors, each alone in its
    storage, and immutable scalars) the quicker way, tensor by tensor (a third of deepcopy's
    time: it is run before every call a script pass and a verify make)."""
    if _plain(args):
        return tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in args)
    try:
        return copy.deepcopy(args)
    except Exception:
        return args


_IMMUTABLE = (int, float, bool, str, bytes, type(None), complex)


def _plain(args: tuple[Any, ...]) -> bool:
    """Whether `clone()` copies each argument as deepcopy would: immutable scalars, and dense
    CPU tensors of class Tensor that need no grad, fill their own storage contiguously and
    share it with no other argument (deepcopy keeps such sharing; clones would not)."""
    storages: set[int] = set()
    for a in args:
        if type(a) in _IMMUTABLE:
            continue
        if type(a) is not torch.Tensor or a.requires_grad or a.layout is not torch.strided \
                or a.device.type != "cpu" or a.is_quantized or a.is_conj() or a.is_neg() \
                or a.storage_offset() != 0 or not a.is_contiguous() or a.__dict__:
            return False
        storage = a.untyped_storage()
        if storage.nbytes() != a.numel() * a.element_size() or storage.data_ptr() in storages:
            return False
        storages.add(storage.data_ptr())
    return True


def mismatch(eager: Any, scripted: Any, where: str = "output") -> tuple[str, str, str] | None:
    """(where, scripted description, eager description) of the first difference, or None.

    A record (dataclass, NamedTuple, plain object) matches one whose class has the same
    qualified name — not the same class object: the original and the fixed source are loaded
    as different modules — and equal fields, compared as outputs are (`output.logits`)."""
    try:
        return _mismatch(eager, scripted, where, set())
    except RecursionError:  # a cycle through lists or dicts
        return None  # cannot tell; do not accuse the scripted model


def _mismatch(eager: Any, scripted: Any, where: str,
              active: set[tuple[int, int]]) -> tuple[str, str, str] | None:
    if isinstance(eager, torch.Tensor) or isinstance(scripted, torch.Tensor):
        if not (isinstance(eager, torch.Tensor) and isinstance(scripted, torch.Tensor)):
            return where, describe(scripted), describe(eager)
        if eager.shape != scripted.shape or eager.dtype != scripted.dtype:
            return where, describe(scripted), describe(eager)
        if not _tensors_close(eager, scripted):
            return where, describe(scripted) + " with different values", describe(eager)
        return None
    if isinstance(eager, enum.Enum) and isinstance(scripted, enum.Enum):
        same = (_same_class(type(eager), type(scripted)) and eager.name == scripted.name
                and _mismatch(eager.value, scripted.value, where, active) is None)
        return None if same else (where, describe(scripted), describe(eager))
    eager_fields, scripted_fields = _fields(eager), _fields(scripted)
    if eager_fields is not None and scripted_fields is not None:
        return _record_mismatch(eager, scripted, eager_fields, scripted_fields, where, active)
    if isinstance(eager, (tuple, list)) and isinstance(scripted, (tuple, list)):
        # a NamedTuple against a plain tuple (a trace's, C++'s) is compared item by item
        if len(eager) != len(scripted):
            return where, describe(scripted), describe(eager)
        for i, (e, s) in enumerate(zip(eager, scripted)):
            found = _mismatch(e, s, f"{where}[{i}]", active)
            if found:
                return found
        return None
    if isinstance(eager, dict) and isinstance(scripted, dict):
        if set(eager) != set(scripted):
            return where, f"a dict with keys {sorted(map(repr, scripted))}", \
                f"a dict with keys {sorted(map(repr, eager))}"
        for key in eager:
            found = _mismatch(eager[key], scripted[key], f"{where}[{key!r}]", active)
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


def _record_mismatch(eager: Any, scripted: Any, eager_fields: dict[str, Any],
                     scripted_fields: dict[str, Any], where: str,
                     active: set[tuple[int, int]]) -> tuple[str, str, str] | None:
    if not _same_class(type(eager), type(scripted)):
        return where, describe(scripted), describe(eager)
    if set(eager_fields) != set(scripted_fields):
        return where, _with_fields(scripted, scripted_fields), _with_fields(eager, eager_fields)
    pair = (id(eager), id(scripted))
    if pair in active:
        return None  # a cycle: compared where it started
    active.add(pair)
    try:
        for name, item in eager_fields.items():
            found = _mismatch(item, scripted_fields[name], f"{where}.{name}", active)
            if found:
                return found
    finally:
        active.discard(pair)
    return None


def _fields(value: Any) -> dict[str, Any] | None:
    """Field name -> value of a record: a dataclass instance, a NamedTuple, or a plain object
    with a __dict__ (not a module, class, function, enum member...); None for anything else."""
    if isinstance(value, tuple):
        names = getattr(value, "_fields", None)
        if not isinstance(names, tuple) or len(names) > len(value):
            return None
        return dict(zip(names, value))
    if isinstance(value, _NOT_RECORDS) or not hasattr(value, "__dict__"):
        return None
    if dataclasses.is_dataclass(value):
        try:
            return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        except AttributeError:  # a field deleted, or not set in __post_init__
            pass
    if isinstance(value, (list, dict, set, frozenset, str, bytes)):
        return None  # a container subclass is compared as its container
    try:
        return dict(vars(value))
    except TypeError:
        return None


_NOT_RECORDS = (torch.Tensor, nn.Module, torch.ScriptObject, enum.Enum, type, types.ModuleType,
                types.FunctionType, types.MethodType, types.BuiltinFunctionType, functools.partial)


def _same_class(a: type, b: type) -> bool:
    """The same class by qualified name: the original and the fixed source are loaded under
    different module names. TorchScript rebuilds a NamedTuple it returns under its bare name
    (in module torch._jit_internal), so a class nested in another matches it by name."""
    if a.__qualname__ == b.__qualname__:
        return True
    rebuilt = any(c.__module__.startswith("torch.") for c in (a, b))
    return rebuilt and a.__name__ == b.__name__


def _with_fields(value: Any, fields: dict[str, Any]) -> str:
    return f"{describe(value)} with fields {', '.join(fields) or '(none)'}"


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
    if isinstance(value, enum.Enum):
        return f"{type(value).__qualname__}.{value.name}"
    if isinstance(value, tuple) and _fields(value) is not None:
        return f"a {type(value).__qualname__} (a named tuple of {len(value)})"
    if isinstance(value, (tuple, list)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return f"a {kind} of {len(value)}"
    if isinstance(value, dict) and not dataclasses.is_dataclass(value):
        return f"a dict of {len(value)}"
    if isinstance(value, (bool, int, float, str)):
        text = repr(value)
        return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"
    return f"a {type(value).__qualname__}"
