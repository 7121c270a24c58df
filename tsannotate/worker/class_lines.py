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

The same parse gives the *last* line of each def and class, which `inspect.getsourcelines`
otherwise finds by tokenizing from the first (`inspect.getblock`), once for every method
TorchScript compiles: another 50 ms of a script pass on that model. `install()` wraps
`inspect.getsourcelines` too: for a def or class whose body starts on a line of its own, the
block ends where `inspect.BlockFinder` ends it, at the last line of its last statement or
at a later comment indented at least as deep as the body (before the next line of code).
Anything else (a one-line def, a lambda, a file that does not parse) goes to the original.

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
# file -> (its lines, qualname -> a class's 0-based first line, 0-based first line -> end of block)
_tables: dict[str, tuple[list[str], dict[str, int], dict[int, int]]] = {}


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
    original_lines = inspect.getsourcelines

    def getsourcelines(obj: Any) -> tuple[list[str], int]:
        target = inspect.unwrap(obj)  # as the original does first
        if inspect.isfunction(target) or inspect.ismethod(target) or inspect.isclass(target):
            found = _block(target)
            if found is not None:
                return found
        return original_lines(obj)

    inspect.getsourcelines = getsourcelines  # type: ignore[assignment]


def _class_line(cls: type) -> tuple[list[str], int] | None:
    """`inspect.findsource(cls)`'s answer, or None to let the original give it (or fail)."""
    known = _table(cls)
    if known is None:
        return None
    line = known[1].get(cls.__qualname__)
    return None if line is None else (known[0], line)


def _block(obj: Any) -> tuple[list[str], int] | None:
    """`inspect.getsourcelines(obj)`'s answer for a def or class, or None for the original's."""
    known = _table(obj)
    if known is None:
        return None
    try:
        lines, first = inspect.findsource(obj)
    except (OSError, TypeError):
        return None
    end = known[2].get(first)
    if lines is not known[0] or end is None:
        return None
    return lines[first:end], first + 1


def _table(obj: Any) -> tuple[list[str], dict[str, int], dict[int, int]] | None:
    """The table of the file `obj` is defined in, as linecache has that file now."""
    try:
        file = inspect.getsourcefile(obj)
    except TypeError:
        return None
    if not file:
        return None
    linecache.checkcache(file)
    module = inspect.getmodule(obj, file)
    lines = linecache.getlines(file, module.__dict__) if module else linecache.getlines(file)
    if not lines:
        return None
    with _lock:
        known = _tables.get(file)
        if known is None or known[0] is not lines:
            try:
                tree = ast.parse("".join(lines))
            except (SyntaxError, ValueError, RecursionError):
                return None
            known = _tables[file] = (lines, _first_lines(tree), _block_ends(tree, lines))
    return known


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


Block = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _block_ends(tree: ast.AST, lines: list[str]) -> dict[int, int]:
    """0-based first line (first decorator, else `def`/`class`) -> the end (exclusive) of the
    lines `inspect.getblock` gives from there, for each def and class whose body starts a line
    of its own; a line that starts two such blocks (it cannot, in code that parses) is left out."""
    ends: dict[int, int] = {}
    for node in ast.walk(tree):
        if not isinstance(node, Block) or node.end_lineno is None:
            continue
        body = node.body[0]
        line = lines[body.lineno - 1]
        depth = len(line) - len(line.lstrip(" \t\f"))  # what the tokenizer's INDENT ends at
        if body.lineno <= node.lineno or depth != body.col_offset:
            continue  # a one-line def, or a body the tokenizer measures otherwise
        first = (node.decorator_list[0] if node.decorator_list else node).lineno - 1
        ends[first] = -1 if first in ends else _end(lines, node.end_lineno, depth)
    return {first: end for first, end in ends.items() if end >= 0}


def _end(lines: list[str], last: int, depth: int) -> int:
    """`last` (1-based: the block's last line of code), or a later comment line indented at
    least `depth` deep that comes before the next line of code (BlockFinder's rule)."""
    end = last
    for number in range(last, len(lines)):
        text = lines[number].lstrip(" \t\f")
        if not text.strip():
            continue
        if not text.startswith("#"):
            break
        if len(lines[number]) - len(text) >= depth:
            end = number + 1
    return end
