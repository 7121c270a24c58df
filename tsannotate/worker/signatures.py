"""How TorchScript typed what it compiled: schemas → CompiledSignature records.

Types are spelled the typing way (`Optional[Tensor]`, `List[int]`, `Dict[str, Tensor]`,
`Tuple[int, float]`), which is what `torch._C` types print as `annotation_str`; classes
defined in the model file appear under their plain name.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any, cast

from torch import nn

from tsannotate.records import CompiledParam, CompiledSignature
from tsannotate.worker.loader import Loaded


def type_text(jit_type: Any, loaded: Loaded) -> str:
    text = str(getattr(jit_type, "annotation_str", None) or jit_type)
    for fresh in loaded.renames:  # the model's and its sibling modules' classes: plain names
        text = text.replace(f"__torch__.{fresh}.", "")
    return loaded.scrub(text)


def schema_signature(qualname: str, schema: Any, loaded: Loaded, *, method: bool,
                     path: str = "") -> CompiledSignature:
    arguments = list(schema.arguments)[1:] if method else list(schema.arguments)  # skip self
    params = tuple(
        CompiledParam(a.name, type_text(a.type, loaded), bool(a.has_default_value()))
        for a in arguments
    )
    returns = [type_text(r.type, loaded) for r in schema.returns]
    if not returns:
        result = "NoneType"
    elif len(returns) == 1:
        result = returns[0]
    else:
        result = f"Tuple[{', '.join(returns)}]"
    return CompiledSignature(qualname, params, result, path or loaded.path)


def method_signatures(loaded: Loaded, eager: nn.Module, scripted: Any) -> list[CompiledSignature]:
    """Every compiled method of every submodule whose class the model's project defines."""
    out: list[CompiledSignature] = []
    for name, sub in eager.named_modules():
        cls = type(sub)
        if not loaded.in_project(cls):
            continue
        try:
            compiled = scripted
            for part in name.split(".") if name else ():
                compiled = getattr(compiled, part)  # ScriptModules have no get_submodule
            names = list(compiled._c._method_names())
        except Exception:
            continue
        for method in names:
            try:
                schema = getattr(compiled, method).schema
            except Exception:
                continue
            sig = schema_signature(f"{cls.__qualname__}.{method}", schema, loaded, method=True,
                                   path=loaded.file_of(cls))
            if sig not in out:
                out.append(sig)
    return out


def function_signatures(loaded: Loaded) -> list[CompiledSignature]:
    """Free functions of the model file (and its project modules) that TorchScript compiled.

    Read from torch's cache of successfully scripted functions: the compilation unit
    itself also holds functions whose compile failed, with made-up return types.
    """
    from torch.jit import _state

    cached = cast(Callable[[object], Any], _state._try_get_jit_cached_function)
    out: list[CompiledSignature] = []
    modules = [loaded.module, *(sys.modules.get(fresh) for fresh in loaded.renames)]
    functions = {id(obj): obj for module in modules if module is not None
                 for obj in list(vars(module).values())
                 if inspect.isfunction(obj) and loaded.in_project(obj)}
    for obj in functions.values():
        try:
            compiled = cached(obj)
        except Exception:
            continue
        if compiled is not None:
            out.append(schema_signature(obj.__qualname__, compiled.schema, loaded, method=False,
                                        path=loaded.file_of(obj)))
    return out

