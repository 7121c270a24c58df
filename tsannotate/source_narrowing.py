"""Where a parameter may not hold what its function was passed: `Narrowing` facts (and where a
local may not hold what it was assigned: the same facts for tested locals, without rebinding ones).

TorchScript refines an `Optional[T]` to `T` where a None test guards the code: the body and the
`else` of `if mask is not None:`, the branches of `a if mask is None else b`, the right of
`mask is not None and ...`, everything after `assert mask is not None` or after an
`if mask is None: return ...`. A parameter the function rebinds holds something else anywhere.

The facts over-approximate: every statement whose own expressions test a parameter (`is None`,
`is not None`, `== None`, `isinstance`, truth, a `not` or `and`/`or` operand) narrows it on that
statement's lines, to the end of the function when the statement is an `assert` or a compound
statement with a `return`, `raise`, `break` or `continue` in it; a rebinding anywhere narrows it
on every line. A rule that hands a caller's new `Optional` on to a helper relies on this: on a
narrowed line the helper may be given a plain `T`.

Both readers (`source_ast`, and libcst's in `source.py`) take these facts from here: they need
only line numbers, which the stdlib `ast` gives as libcst does (`\\r` and form feeds included).
Functions are named as the flow facts name them: top-level functions and methods (of classes
not inside a function), nested definitions skipped.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterator

from tsannotate.records import Narrowing

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_EXITS = (ast.Return, ast.Raise, ast.Break, ast.Continue)


def narrowings_of_text(text: str) -> tuple[Narrowing, ...]:
    """The facts of `text` (none when the stdlib cannot parse it: no narrowing is then claimed,
    and a rule relying on them does nothing, as `narrowed` is only asked about lines of calls
    that the readers found)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ()
    return narrowings(tree)


def narrowings(tree: ast.Module) -> tuple[Narrowing, ...]:
    out: list[Narrowing] = []
    for qualname, func in _functions(tree.body, []):
        out.extend(_of_function(qualname, func))
    return tuple(out)


def _functions(body: list[ast.stmt], path: list[str]) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Top-level functions and methods, with the flow facts' qualnames. Compound statements at
    module or class level (`if TYPE_CHECKING:`, `try:`) are entered, as the visitors enter them."""
    for stmt in body:
        if isinstance(stmt, _DEFS):
            yield ".".join([*path, stmt.name]), stmt
        elif isinstance(stmt, ast.ClassDef):
            yield from _functions(stmt.body, [*path, stmt.name])
        else:
            for block in _blocks(stmt):
                yield from _functions(block, path)


def _blocks(stmt: ast.stmt) -> Iterator[list[ast.stmt]]:
    for name in ("body", "orelse", "finalbody"):
        block = getattr(stmt, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            yield block
    for handler in getattr(stmt, "handlers", []) or []:
        yield handler.body
    for case in getattr(stmt, "cases", []) or []:
        yield case.body


def _of_function(qualname: str, func: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[Narrowing]:
    args = func.args
    params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    first, last = func.lineno, _end(func)
    stored = _stored(func)
    rebound = stored & params
    for name in sorted(rebound):
        yield Narrowing(qualname, name, first, last, "rebinding")
    names = (params - rebound) | (stored - params)  # a local: narrowed where tested (its binding is the rule's to check)
    seen: set[tuple[str, int, int, str]] = set()
    for stmt in _statements(func.body):
        tested = {n: by for n, by in _tested(stmt).items() if n in names}
        if not tested:
            continue
        through = last if isinstance(stmt, ast.Assert) or (_compound(stmt) and _exits(stmt)) else _end(stmt)
        for name in sorted(tested):
            key = (name, stmt.lineno, through, tested[name])
            if key not in seen:
                seen.add(key)
                yield Narrowing(qualname, name, stmt.lineno, through, tested[name])


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of a function body, nested blocks included, nested scopes not."""
    for stmt in body:
        if isinstance(stmt, _SCOPES):
            continue
        yield stmt
        for block in _blocks(stmt):
            yield from _statements(block)


def _own_expressions(stmt: ast.stmt) -> Iterator[ast.AST]:
    """The expressions of `stmt` itself: not those of the statements in its blocks."""
    for _, value in ast.iter_fields(stmt):
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, ast.AST) and not isinstance(item, (ast.stmt, ast.excepthandler, ast.match_case)):
                yield item
    for handler in getattr(stmt, "handlers", []) or []:
        if handler.type is not None:
            yield handler.type
    for case in getattr(stmt, "cases", []) or []:
        yield case.pattern
        if case.guard is not None:
            yield case.guard


def _tested(stmt: ast.stmt) -> dict[str, str]:
    """Names a None test, an `isinstance` or a truth test in `stmt`'s own expressions may refine:
    name → "none-test" when compared with None, else "test"."""
    names: dict[str, str] = {}

    def add(found: set[str], by: str = "test") -> None:
        for name in found:
            if names.get(name) != "none-test":
                names[name] = by

    if isinstance(stmt, (ast.If, ast.While, ast.Assert)):
        add(_truth_names(stmt.test))
    for root in _own_expressions(stmt):
        for node in ast.walk(root):
            if isinstance(node, ast.Compare) and _mentions_none(node):
                operands = [node.left, *node.comparators]
                none = any(isinstance(o, ast.Constant) and o.value is None for o in operands)
                add({o.id for o in operands if isinstance(o, ast.Name)}, "none-test" if none else "test")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance" \
                    and node.args and isinstance(node.args[0], ast.Name):
                add({node.args[0].id})
            elif isinstance(node, (ast.IfExp, ast.comprehension)):
                tests = [node.test] if isinstance(node, ast.IfExp) else node.ifs
                for test in tests:
                    add(_truth_names(test))
            elif isinstance(node, ast.BoolOp):
                add({v.id for v in node.values if isinstance(v, ast.Name)})
            elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not) and isinstance(node.operand, ast.Name):
                add({node.operand.id})
    return names


def _truth_names(test: ast.expr) -> set[str]:
    if isinstance(test, ast.Name):
        return {test.id}
    if isinstance(test, ast.BoolOp):
        return {n for v in test.values for n in _truth_names(v)}
    return set()


def _mentions_none(node: ast.Compare) -> bool:
    operands = [node.left, *node.comparators]
    return any(isinstance(o, ast.Constant) and o.value is None for o in operands) \
        or any(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops)


def _stored(func: ast.AST) -> set[str]:
    """Names the function binds anywhere (nested scopes included: a `nonlocal` rebinds too)."""
    names: set[str] = set()
    for node in ast.walk(func):
        if node is func:
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.arg) and not _is_own_arg(func, node):
            names.add(node.arg)  # a nested def's or lambda's parameter shadows it there
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    return names


def _is_own_arg(func: ast.AST, arg: ast.arg) -> bool:
    args = func.args  # type: ignore[attr-defined]
    return any(arg is a for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg])


def _compound(stmt: ast.stmt) -> bool:
    return any(True for _ in _blocks(stmt))


def _exits(stmt: ast.stmt) -> bool:
    """A `return`, `raise`, `break` or `continue` anywhere in `stmt`'s blocks (nested scopes not)."""
    return any(isinstance(s, _EXITS) for s in _statements([stmt]))


def _end(node: ast.AST) -> int:
    end: int | None = getattr(node, "end_lineno", None)
    return end if end is not None else getattr(node, "lineno", 0)
