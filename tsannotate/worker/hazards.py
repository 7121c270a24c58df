"""Lines that freeze a runtime value into a trace: where `torch.jit.trace` goes wrong.

The tracer records tensor operations only; a value that leaves the tensor world — `len(x)`,
`x.item()`, `x.tolist()`, `int(x.shape[0])`, a numpy round trip, a device literal — becomes a
constant of the trace, correct only for inputs like the one traced. The tracer warns about
some (TracerWarning, with the user's line); a scan of the model file finds the rest.
"""

from __future__ import annotations

import ast
import os
import warnings

from tsannotate.records import Hazard, Location

_METHODS = {
    "item": "`.item()` turns a tensor into a Python number, a constant of the trace",
    "tolist": "`.tolist()` turns a tensor into Python values, constants of the trace",
    "numpy": "`.numpy()` leaves torch: the tracer records the result as a constant",
    "cuda": "`.cuda()` fixes the device in the trace",
    "cpu": "`.cpu()` fixes the device in the trace",
}
_SHAPE_TO_INT = {"int", "float", "range"}


def from_warnings(caught: list[warnings.WarningMessage], torch_dir: str) -> list[Hazard]:
    """The tracer's own warnings that point into the user's code (not into torch)."""
    out: list[Hazard] = []
    for w in caught:
        if type(w.message).__name__ != "TracerWarning":
            continue
        path = os.path.abspath(w.filename)
        if path.startswith(torch_dir):
            continue
        text = str(w.message).strip().split(". ")[0].rstrip(".")
        out.append(Hazard(Location(path, w.lineno), f"the tracer warns: {text}", warned=True))
    return out


def scan(source: str, path: str) -> list[Hazard]:
    """Every construct in `source` that can freeze a value when traced."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    out: list[Hazard] = []
    for node in ast.walk(tree):
        what = _what(node)
        if what and isinstance(node, (ast.expr, ast.keyword)):
            out.append(Hazard(Location(path, node.lineno, node.col_offset), what))
    return sorted(set(out), key=lambda h: (h.location.line, h.location.column))


def merge(warned: list[Hazard], scanned: list[Hazard]) -> tuple[Hazard, ...]:
    """One hazard per line; the tracer's warning first, then the scan's description."""
    by_line: dict[tuple[str, int], Hazard] = {}
    for h in warned + scanned:
        key = (h.location.path, h.location.line)
        first = by_line.get(key)
        if first is None:
            by_line[key] = h
        elif first.warned and not h.warned:  # the scan names the construct; the tracer confirms it
            by_line[key] = Hazard(h.location, h.what, warned=True)
    return tuple(by_line[key] for key in sorted(by_line))


def _what(node: ast.AST) -> str:
    if not isinstance(node, ast.Call):
        if isinstance(node, ast.keyword) and node.arg == "device" and _is_str(node.value):
            return f"device={ast.unparse(node.value)} fixes the device in the trace"
        return ""
    func = node.func
    name = func.id if isinstance(func, ast.Name) else ""
    if name == "len" and node.args:
        return f"`len({ast.unparse(node.args[0])})` of a tensor becomes a constant of the trace"
    if name in _SHAPE_TO_INT and any(_mentions_shape(a) for a in node.args):
        return f"`{ast.unparse(node)[:60]}` turns a shape into a Python number, a constant of the trace"
    if isinstance(func, ast.Attribute):
        if func.attr in _METHODS and not node.args and not node.keywords:
            return _METHODS[func.attr]
        base = func.value
        if isinstance(base, ast.Name) and base.id in {"np", "numpy"}:
            return f"`{base.id}.{func.attr}(...)` computes outside torch: a constant of the trace"
        if func.attr == "to" and node.args and _is_str(node.args[0]):
            return f"`.to({ast.unparse(node.args[0])})` fixes the device in the trace"
        if func.attr == "device" and node.args and _is_str(node.args[0]):
            return f"`torch.device({ast.unparse(node.args[0])})` fixes the device in the trace"
    return ""


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _mentions_shape(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr == "shape":
            return True
        if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
                and sub.func.attr in {"size", "dim", "numel"}):
            return True
    return False
