"""Find a class's first line with one parse per file, not one per lookup.

TorchScript reads a class's source through `inspect.getsourcelines`. Before Python 3.13,
`inspect.findsource` finds a class by parsing the *whole file* with `ast` and walking it, on
every call, and TorchScript asks several times per module it compiles (the class itself,
then twice per method for `@torch.jit._overload_method`). On a 1500-line model that is a
third of a script pass. The answer depends only on the file's lines and the class's
qualified name, so `install()` wraps `inspect.findsource`: classes are looked up in a table
built from one parse of those lines, with `inspect`'s own rule (the first class, in source
order, whose dotted path of enclosing names equals `__qualname__`; its first decorator's line
if it has one). Anything else, a file that does not parse, and a name the table lacks
(so the error is the standard one) go to the original function.

Python 3.13 and later read `__firstlineno__` instead of parsing; nothing is installed there.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import sys
import threading
from typing import Any

_lock = threading.Lock()
_tables: dict[str, tuple[list[str], dict[str, int]]] = {}  # file -> (its lines, qualname -> 0-based line)


def install() -> None:
    if sys.version_info >= (3, 13) or getattr(inspect.findsource, "_tsannotate", False):
        return
    original = inspect.findsource

    def findsource(obj: Any) -> tuple[list[str], int]:
        if inspect.isclass(obj):
            found = _class_line(obj)
            if found is not None:
                return found
        return original(obj)

    findsource._tsannotate = True  # type: ignore[attr-defined]
    inspect.findsource = findsource  # type: ignore[assignment]


def _class_line(cls: type) -> tuple[list[str], int] | None:
    """`inspect.findsource(cls)`'s answer, or None to let the original give it (or fail)."""
    try:
        file = inspect.getsourcefile(cls)
    except TypeError:
        return None
    if not file:
        return None
    linecache.checkcache(file)
    module = inspect.getmodule(cls, file)
    lines = linecache.getlines(file, module.__dict__) if module else linecache.getlines(file)
    if not lines:
        return None
    with _lock:
        known = _tables.get(file)
        if known is None or known[0] is not lines:
            try:
                table = _first_lines(ast.parse("".join(lines)))
            except (SyntaxError, ValueError, RecursionError):
                return None
            known = _tables[file] = (lines, table)
    line = known[1].get(cls.__qualname__)
    return None if line is None else (lines, line)


def _first_lines(tree: ast.AST) -> dict[str, int]:
    """Every class's qualified name -> its 0-based first line (first decorator, else `class`)."""
    table: dict[str, int] = {}

    def visit(node: ast.AST, path: tuple[str, ...]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                inner = path + (child.name,)
                name = ".".join(inner)
                if name not in table:
                    first = child.decorator_list[0] if child.decorator_list else child
                    table[name] = first.lineno - 1
                visit(child, inner)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, path + (child.name, "<locals>"))
            else:
                visit(child, path)

    visit(tree, ())
    return table
