"""Answer TorchScript's "is this method overloaded?" without computing its qualified name.

For every module it compiles, TorchScript walks every attribute of the module's class (an
`nn.Module` has about 200) and, for each callable, asks `_jit_internal._get_overloaded_methods`
whether `@torch.jit._overload_method` declared overloads for it: it builds the callable's
qualified name (`__torch__.<module>.<name>`) and looks it up in a table of the qualified names
declared so far. On the 1500-line bench model that is 27,000 calls per script pass, about 30 ms.

The table's keys end in `.<name>`, so a plain function, or a method of one, whose `__name__`
ends no key gets the original's answer, None, without building the name. `install()` wraps the
function with that test; everything else (a callable of another kind, a name the original would
reject or rewrite, a `_jit_override_qualname`, a name some key ends in) goes to the original.
If torch no longer has the function, nothing is installed.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

_MARK = "_tsannotate_fast"


def install() -> None:
    import torch._jit_internal as internal

    original = getattr(internal, "_get_overloaded_methods", None)
    table = getattr(internal, "_overloaded_methods", None)
    if original is None or not isinstance(table, dict) or getattr(original, _MARK, False):
        return
    internal._get_overloaded_methods = _fast(original, internal)


def _fast(original: Callable[[Any, Any], Any], internal: Any) -> Callable[[Any, Any], Any]:
    names: tuple[int, frozenset[str]] = (-1, frozenset())  # (the table's size, its keys' last parts)

    @functools.wraps(original)  # its __wrapped__ is torch's function
    def get_overloaded_methods(method: Any, mod_class: Any) -> Any:
        nonlocal names
        table: dict[str, Any] = internal._overloaded_methods
        if len(table) != names[0]:  # keys are only ever added
            names = (len(table), frozenset(key.rsplit(".", 1)[-1] for key in table))
        name = _plain_name(method)
        if name is not None and name not in names[1]:
            return None  # what the original returns: no key ends in `.<name>`
        return original(method, mod_class)

    setattr(get_overloaded_methods, _MARK, True)
    return get_overloaded_methods


def _plain_name(method: Any) -> str | None:
    """The last part of the qualified name `_jit_internal._qualified_name` gives `method`, when
    that is sure to be its `__name__` (a bound method's attributes are its function's); None
    for anything the original must look at itself."""
    function = method.__func__ if type(method) is types.MethodType else method
    if type(function) is not types.FunctionType or "_jit_override_qualname" in function.__dict__:
        return None  # another kind of callable, or a qualified name set by hand
    name, module = function.__name__, function.__module__
    if not isinstance(module, str) or module == "torch._classes" or "." in name or name == "<lambda>":
        return None  # what the original rejects, or names otherwise
    return name
