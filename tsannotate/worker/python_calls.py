"""Which calls the scripted model makes back into Python (`@torch.jit.ignore`): the
`prim::PythonOp` nodes of its methods' graphs, with every call inlined."""

from __future__ import annotations

import re
from typing import Any

import torch
from torch import nn

from tsannotate.records import Location, PythonCall

_RANGE = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')


def python_calls(scripted: Any, root: Any) -> list[PythonCall]:
    """Every `prim::PythonOp` reachable from the scripted model's methods."""
    graphs = []
    if isinstance(scripted, torch.jit.ScriptModule):
        graphs = [scripted._c._get_method(name).graph for name in scripted._c._method_names()]
    elif hasattr(scripted, "graph"):
        graphs = [scripted.graph]
    owners: dict[str, str] = {}
    for module in (root.modules() if isinstance(root, nn.Module) else ()):
        for cls in type(module).__mro__:
            for name in vars(cls):
                owners.setdefault(name, cls.__name__)
    calls: list[PythonCall] = []
    for graph in graphs:
        graph = graph.copy()
        torch._C._jit_pass_inline(graph)
        for node in graph.findAllNodes("prim::PythonOp", True):  # in nested blocks too; in C++
            name = node.pyname()
            match = _RANGE.search(str(node.sourceRange()))
            where = Location(match["path"], int(match["line"])) if match else None
            calls.append(PythonCall(f"{owners[name]}.{name}" if name in owners else name, where))
    return calls
