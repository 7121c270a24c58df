"""The TorchScript type of a runtime value, as the eager probe run sees it.

`type_of(value)` answers a `TSType` (containers joined element-wise with
`tstypes.join`), an `Opaque` when no TorchScript type holds the value (with a note
saying why), or `None` for values that are not recorded at all (`nn.Module`s:
submodules are never annotated). Cheap by construction: a tensor's elements are never
looked at, a list or dict contributes at most its first `MAX_ITEMS` entries, and
containers nested deeper than `MAX_DEPTH` answer `Unknown`.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass

import torch
from torch import nn

from tsannotate.tstypes import NONE, TENSOR, UNKNOWN, TSType, join, namedtuple_note

MAX_ITEMS = 64  # elements of one list / items of one dict looked at
MAX_DEPTH = 4  # container nesting looked into; deeper containers are Unknown


@dataclass(frozen=True)
class Opaque:
    """A value no TorchScript type holds; `note` says what it was, for people."""

    note: str  # "a Python object of type Config"


Seen = TSType | Opaque | None  # None: not recorded (an nn.Module)

INT = TSType("int")
FLOAT = TSType("float")
BOOL = TSType("bool")
STR = TSType("str")
COMPLEX = TSType("complex")
DEVICE = TSType("Device")
DTYPE = TSType("dtype")
LIST_INT = TSType("List", (INT,))
LIST_UNKNOWN = TSType("List", (UNKNOWN,))
DICT_UNKNOWN = TSType("Dict", (UNKNOWN, UNKNOWN))

EXACT: dict[type, TSType] = {
    torch.Tensor: TENSOR,
    nn.Parameter: TENSOR,
    bool: BOOL,
    int: INT,
    float: FLOAT,
    str: STR,
    type(None): NONE,
    complex: COMPLEX,
    torch.device: DEVICE,
    torch.dtype: DTYPE,
    torch.Size: LIST_INT,  # `x.shape`: TorchScript's `x.size()` is List[int]
}

# One List object per plain element type, so that the recorder's `is` test hits.
_FLAT_LISTS = {t.name: TSType("List", (t,)) for t in {*EXACT.values(), NONE} if not t.args}


def type_of(value: object) -> Seen:
    """The TorchScript type of `value`; see the module docstring."""
    return _type(value, 0)


def _type(value: object, depth: int) -> Seen:
    exact = EXACT.get(type(value))
    if exact is not None:
        return exact
    if isinstance(value, torch.Tensor):
        return TENSOR
    if isinstance(value, nn.Module):
        return None
    if isinstance(value, list):
        return _list(value, depth)
    if isinstance(value, tuple):
        return _tuple(value, depth)
    if isinstance(value, dict):
        return _dict(value, depth)
    if isinstance(value, enum.Enum):
        return Opaque(f"an enum member of type {type(value).__qualname__}")
    if isinstance(value, bool):  # subclasses of the scalars (numpy's float64 is a float)
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, str):
        return STR
    return Opaque(f"a Python object of type {type(value).__qualname__}")


def _list(value: list[object], depth: int) -> Seen:
    if depth >= MAX_DEPTH or not value:
        return LIST_UNKNOWN
    element: TSType = UNKNOWN
    for item in value[:MAX_ITEMS]:
        seen = _type(item, depth + 1)
        if seen is None:
            return None
        if isinstance(seen, Opaque):
            return Opaque(f"a list holding {seen.note}")
        if seen is not element:
            element = join(element, seen)
    flat = None if element.args else _FLAT_LISTS.get(element.name)
    return flat or TSType("List", (element,))


def _tuple(value: tuple[object, ...], depth: int) -> Seen:
    cls = type(value)
    if hasattr(value, "_fields") and getattr(cls, "__module__", "") != "torch.return_types":
        fields = [(name, _type(item, depth + 1)) for name, item in zip(value._fields, value)]
        return Opaque(namedtuple_note(cls.__qualname__, ((f, t if isinstance(t, TSType) else None) for f, t in fields)))
    if len(value) > MAX_ITEMS:
        return Opaque(f"a tuple of {len(value)} elements")
    if depth >= MAX_DEPTH:
        return TSType("Tuple", tuple(UNKNOWN for _ in value))
    items: list[TSType] = []
    for item in value:
        seen = _type(item, depth + 1)
        if seen is None:
            return None
        if isinstance(seen, Opaque):
            return Opaque(f"a tuple holding {seen.note}")
        items.append(seen)
    return TSType("Tuple", tuple(items))


def _dict(value: dict[object, object], depth: int) -> Seen:
    if depth >= MAX_DEPTH or not value:
        return DICT_UNKNOWN
    key: TSType = UNKNOWN
    val: TSType = UNKNOWN
    for k, v in itertools.islice(value.items(), MAX_ITEMS):
        seen_key, seen_value = _type(k, depth + 1), _type(v, depth + 1)
        if seen_key is None or seen_value is None:
            return None
        for seen in (seen_key, seen_value):
            if isinstance(seen, Opaque):
                return Opaque(f"a dict holding {seen.note}")
        assert isinstance(seen_key, TSType) and isinstance(seen_value, TSType)
        if seen_key is not key:
            key = join(key, seen_key)
        if seen_value is not val:
            val = join(val, seen_value)
    return TSType("Dict", (key, val))
