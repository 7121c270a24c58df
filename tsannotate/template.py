"""`tsannotate probe FILE --template`: a probe skeleton for the user to fill in.

Printed, never written: append it to the model file (`>> model.py`) or save it elsewhere.
"""

from __future__ import annotations

from tsannotate.records import ClassFacts, FunctionFacts, SourceIndex


def _is_module(cls: ClassFacts) -> bool:
    return any(b.rsplit(".", 1)[-1] == "Module" for b in cls.bases)


def _top_module(source: SourceIndex) -> ClassFacts | None:
    """The last nn.Module class in the file: usually the whole model, defined after its parts."""
    modules = [c for c in source.classes if _is_module(c) and "." not in c.name]
    return modules[-1] if modules else None


def _args(func: FunctionFacts | None) -> list[tuple[str, str | None]]:
    if func is None:
        return []
    params = [p for p in func.params if not p.star]
    return [(p.name, p.default) for p in params[1:]]  # without self


def probe_template(source: SourceIndex) -> str:
    cls = _top_module(source)
    if cls is None:
        return ("def probe():\n"
                "    # TODO: return (function_or_module, [args_tuple, ...]): what to run eagerly\n"
                "    raise NotImplementedError\n")
    init = _args(source.function(f"{cls.name}.__init__"))
    forward = _args(source.function(f"{cls.name}.forward"))
    ctor = ", ".join(f"{n}={d if d is not None else '...'}" for n, d in init)
    todo = "  # TODO: constructor arguments" if any(d is None for _, d in init) else ""
    lines = [
        "",
        "",
        "def probe():",
        f'    """Inputs for tsannotate: how {cls.name} is really called. Cover every case the',
        "    deployed model must handle (optional arguments given and None, other lengths).\"\"\"",
        "    torch.manual_seed(0)",
        f"    model = {cls.name}({ctor}).eval(){todo}",
    ]
    for name, default in forward:
        hint = f"  # TODO: a real `{name}`" + (f" (default {default})" if default is not None else "")
        value = "torch.randn(2, 8)" if default is None else default
        lines.append(f"    {name} = {value}{hint}")
    call = ", ".join(n for n, _ in forward)
    lines.append(f"    return model, [({call}{',' if len(forward) == 1 else ''})]")
    return "\n".join(lines) + "\n"
