"""mypy's types → TorchScript types, in the typing spelling the rules read ("Optional[int]").

Only what an annotation can say and mypy is sure of: `Any` anywhere (an unannotated
parameter, an untyped call) gives no answer at all, and so do unions other than
`X | None`, variadic tuples and callables. An empty container's element type (mypy's
`Never`) becomes `Unknown`, which joins with the elements other evidence saw.
"""

from __future__ import annotations

from mypy.types import (
    AnyType,
    Instance,
    LiteralType,
    NoneType,
    TupleType,
    Type,
    UninhabitedType,
    UnionType,
    get_proper_type,
)

from tsannotate import tstypes
from tsannotate.tstypes import TSType

_PLAIN = {
    "builtins.int": "int",
    "builtins.float": "float",
    "builtins.bool": "bool",
    "builtins.str": "str",
    "torch._tensor.Tensor": "Tensor",
    "torch.Tensor": "Tensor",
    "torch.nn.parameter.Parameter": "Tensor",
    "torch._C.device": "Device",
    "torch._C.dtype": "dtype",
}
_GENERIC = {"builtins.list": "List", "builtins.dict": "Dict"}


def to_tstype(t: Type | None) -> TSType | None:
    """The TorchScript type mypy's `t` names, or None when it names none (or is unsure)."""
    if t is None:
        return None
    p = get_proper_type(t)
    if isinstance(p, LiteralType):
        p = p.fallback
    if isinstance(p, NoneType):
        return tstypes.NONE
    if isinstance(p, UninhabitedType):
        return tstypes.UNKNOWN  # `[]`'s element: nothing known, joins with anything
    if isinstance(p, AnyType):
        return None
    if isinstance(p, Instance):
        name = p.type.fullname
        if name in _PLAIN:
            return TSType(_PLAIN[name])
        if name in _GENERIC and len(p.args) == (1 if _GENERIC[name] == "List" else 2):
            args = [to_tstype(a) for a in p.args]
            if any(a is None for a in args):
                return None
            return TSType(_GENERIC[name], tuple(a for a in args if a is not None))
        return None
    if isinstance(p, TupleType):
        if p.partial_fallback.type.fullname != "builtins.tuple":
            return None  # a NamedTuple: TorchScript needs the class itself
        items = [to_tstype(i) for i in p.items]
        if any(i is None or i == tstypes.UNKNOWN for i in items):
            return None
        return TSType("Tuple", tuple(i for i in items if i is not None))
    if isinstance(p, UnionType):
        members = [get_proper_type(m) for m in p.items]
        others = [m for m in members if not isinstance(m, NoneType)]
        if len(others) != 1 or len(others) == len(members):
            return None  # int | str: no TorchScript annotation the rules would propose
        inner = to_tstype(others[0])
        return tstypes.optional(inner) if inner is not None and inner != tstypes.UNKNOWN else None
    return None


def spell(t: TSType | None) -> str | None:
    """`t` as an Observation's `type` text, when it is complete enough to be evidence."""
    if t is None or t == tstypes.UNKNOWN:
        return None
    return str(t)
