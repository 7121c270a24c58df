"""Pure node rewrites behind `rewrite.apply_edits`: one function per Edit kind.

Each takes the target FunctionDef / ClassDef and returns the rewritten node, or a
one-line reason (a `str`) why it was left alone. `ALREADY` is the reason for an edit
whose annotation is already in place. No torch; libcst only (see `source_values`).
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Sequence
from typing import TypeVar

import libcst as cst

from tsannotate.source_values import dotted_name, is_empty_dict, is_empty_list, same_expression

ALREADY = "already annotated"

_EMPTY_MODULE = cst.Module(body=[])


def code(node: cst.CSTNode) -> str:
    return _EMPTY_MODULE.code_for_node(node)


_Root = TypeVar("_Root", bound=cst.CSTNode)


class _PathTo(cst.CSTVisitor):
    """The nodes from the visited root down to `target` (the same object), walking no further."""

    def __init__(self, target: cst.CSTNode) -> None:
        super().__init__()
        self.target = target
        self.stack: list[cst.CSTNode] = []
        self.path: list[cst.CSTNode] | None = None

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.path is not None:
            return False
        self.stack.append(node)
        if node is self.target:
            self.path = list(self.stack)
            return False
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if self.path is None:
            self.stack.pop()


def _with_child(parent: cst.CSTNode, old: cst.CSTNode, new: cst.CSTNode) -> cst.CSTNode:
    for field in dataclasses.fields(parent):
        value = getattr(parent, field.name)
        if value is old:
            return parent.with_changes(**{field.name: new})
        if isinstance(value, (list, tuple)) and any(item is old for item in value):
            return parent.with_changes(**{field.name: type(value)(new if item is old else item for item in value)})
    raise ValueError(f"{type(old).__name__} is not a child of {type(parent).__name__}")


def replace(root: _Root, old: cst.CSTNode, new: cst.CSTNode) -> _Root:
    """`root.deep_replace(old, new)` rebuilding only `old`'s ancestors: deep_replace rebuilds every
    node under `root` (a whole def, per edit)."""
    finder = _PathTo(old)
    root.visit(finder)
    if finder.path is None:
        return root
    node = new
    for parent, child in zip(reversed(finder.path[:-1]), reversed(finder.path[1:])):
        node = _with_child(parent, child, node)
    return cst.ensure_type(node, type(root))


def _annotation(old: cst.Annotation | None, new: cst.BaseExpression) -> cst.Annotation:
    return cst.Annotation(new) if old is None else old.with_changes(annotation=new)


# --------------------------------------------------------------------------- functions


def annotate_param(fn: cst.FunctionDef, where: str, name: str, ann: cst.BaseExpression) -> cst.FunctionDef | str:
    params = fn.params
    candidates = [*params.posonly_params, *params.params, *params.kwonly_params]
    for extra in (params.star_arg, params.star_kwarg):
        if isinstance(extra, cst.Param):
            candidates.append(extra)
    param = next((p for p in candidates if p.name.value == name.lstrip("*")), None)
    if param is None:
        return f"no parameter '{name}' in {where}"
    if param.annotation is not None and same_expression(code(param.annotation.annotation), code(ann)):
        return ALREADY
    changed = param.with_changes(annotation=_annotation(param.annotation, ann))
    if param.annotation is None and param.default is not None:
        changed = changed.with_changes(equal=cst.MaybeSentinel.DEFAULT)  # `p=1` -> `p: T = 1`
    return replace(fn, param, changed)


def annotate_return(fn: cst.FunctionDef, ann: cst.BaseExpression) -> cst.FunctionDef | str:
    if fn.returns is not None and same_expression(code(fn.returns.annotation), code(ann)):
        return ALREADY
    return fn.with_changes(returns=_annotation(fn.returns, ann))


class GatherAssignmentsVisitor(cst.CSTVisitor):
    """`name = ...` / `name: T = ...` statements of one function body, in source order.

    `name` may be dotted ("self.buf"). Nested defs, classes and lambdas are not entered.
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.found: list[cst.Assign | cst.AnnAssign] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Assign(self, node: cst.Assign) -> bool:
        if any(dotted_name(t.target) == self.name for t in node.targets):
            self.found.append(node)
        return False

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        if dotted_name(node.target) == self.name:
            self.found.append(node)
        return False


def assignments(fn: cst.FunctionDef, name: str) -> list[cst.Assign | cst.AnnAssign]:
    visitor = GatherAssignmentsVisitor(name)
    fn.body.visit(visitor)
    return visitor.found


def annotate_local(fn: cst.FunctionDef, where: str, name: str, ann: cst.BaseExpression) -> cst.FunctionDef | str:
    found = assignments(fn, name)
    if not found:
        return f"no assignment to '{name}' in {where}"
    first = found[0]
    if isinstance(first, cst.AnnAssign):
        if same_expression(code(first.annotation.annotation), code(ann)):
            return ALREADY
        changed: cst.AnnAssign = first.with_changes(annotation=_annotation(first.annotation, ann))
    elif len(first.targets) != 1:
        return f"the first assignment to '{name}' in {where} is a chained assignment"
    else:
        target = first.targets[0]
        changed = cst.AnnAssign(
            target=target.target,
            annotation=cst.Annotation(ann),
            value=first.value,
            equal=cst.AssignEqual(
                whitespace_before=target.whitespace_before_equal,
                whitespace_after=target.whitespace_after_equal,
            ),
            semicolon=first.semicolon,
        )
    return replace(fn, first, changed)


# --------------------------------------------------------------------------- empty containers


def _jit_annotate_type(expr: cst.BaseExpression) -> cst.Arg | None:
    """The type argument of `<alias>.jit.annotate(T, value)`, if `expr` is such a call."""
    if not isinstance(expr, cst.Call) or len(expr.args) != 2:
        return None
    name = dotted_name(expr.func)
    if name is None or not (name == "jit.annotate" or name.endswith(".jit.annotate")):
        return None
    return expr.args[0]


def _wrap_empty(value: cst.BaseExpression, ann: cst.BaseExpression, torch: str) -> cst.BaseExpression | str | None:
    """`[]` -> `torch.jit.annotate(T, [])`; ALREADY / re-typed when already wrapped; None if neither."""
    type_arg = _jit_annotate_type(value)
    if type_arg is not None:
        if same_expression(code(type_arg.value), code(ann)):
            return ALREADY
        return replace(value, type_arg, type_arg.with_changes(value=ann))
    if is_empty_list(value):
        empty: cst.BaseExpression = value if isinstance(value, cst.List) else cst.List([])
    elif is_empty_dict(value):
        empty = value if isinstance(value, cst.Dict) else cst.Dict([])
    else:
        return None
    call = cst.ensure_type(cst.parse_expression(f"{torch}.jit.annotate(T, [])"), cst.Call)
    return call.with_changes(
        args=[call.args[0].with_changes(value=ann), call.args[1].with_changes(value=empty)],
    )


def _same_key(a: str, b: str) -> bool:
    if a.strip() == b.strip():
        return True
    try:
        return bool(ast.literal_eval(a.strip()) == ast.literal_eval(b.strip()))
    except (ValueError, SyntaxError, TypeError):
        return False


def _wrap_key(
    value: cst.BaseExpression, key: str, ann: cst.BaseExpression, torch: str
) -> cst.BaseExpression | str | None:
    if not isinstance(value, cst.Dict):
        return None
    for element in value.elements:
        if isinstance(element, cst.DictElement) and _same_key(code(element.key), key):
            wrapped = _wrap_empty(element.value, ann, torch)
            if wrapped is None or isinstance(wrapped, str):
                return wrapped
            return replace(value, element, element.with_changes(value=wrapped))
    return None


def annotate_empty(
    fn: cst.FunctionDef, where: str, name: str, ann: cst.BaseExpression, key: str | None, torch: str
) -> cst.FunctionDef | str:
    for stmt in assignments(fn, name):
        if stmt.value is None:
            continue
        if key is None:
            wrapped = _wrap_empty(stmt.value, ann, torch)
        else:
            wrapped = _wrap_key(stmt.value, key, ann, torch)
        if wrapped is None:
            continue
        if isinstance(wrapped, str):
            return wrapped
        return replace(fn, stmt, stmt.with_changes(value=wrapped))
    if key is None:
        return f"no assignment `{name} = []` / `{name} = {{}}` in {where}"
    return f"no assignment `{name} = {{{key}: [], ...}}` in {where}"


# --------------------------------------------------------------------------- classes


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _is_declaration(stmt: cst.BaseSmallStatement) -> bool:
    """A class-level `name: T [= v]` or `__constants__ = [...]`."""
    if isinstance(stmt, cst.AnnAssign):
        return True
    return isinstance(stmt, cst.Assign) and any(
        dotted_name(t.target) == "__constants__" for t in stmt.targets
    )


def _insert_at(body: Sequence[cst.BaseStatement]) -> int:
    """After the docstring and the class-level declarations above the first compound statement."""
    index = 1 if body and _is_docstring(body[0]) else 0
    for position in range(index, len(body)):
        stmt = body[position]
        if not isinstance(stmt, cst.SimpleStatementLine):
            break
        if any(_is_declaration(small) for small in stmt.body):
            index = position + 1
    return index


def annotate_attribute(cls: cst.ClassDef, attr: str, ann: cst.BaseExpression) -> cst.ClassDef | str:
    block = cls.body
    if isinstance(block, cst.IndentedBlock):
        lines: list[cst.BaseStatement] = list(block.body)
    else:  # `class A: pass`
        suite = cst.ensure_type(block, cst.SimpleStatementSuite)
        lines = [cst.SimpleStatementLine(suite.body)]
    for line in lines:
        if not isinstance(line, cst.SimpleStatementLine):
            continue
        for small in line.body:
            if isinstance(small, cst.AnnAssign) and dotted_name(small.target) == attr:
                if same_expression(code(small.annotation.annotation), code(ann)):
                    return ALREADY
                changed = small.with_changes(annotation=_annotation(small.annotation, ann))
                return replace(cls, small, changed)
            if isinstance(small, cst.Assign) and len(small.targets) == 1 and dotted_name(small.targets[0].target) == attr:
                # a class-level `SCALE = 2.5` becomes `SCALE: Final[float] = 2.5` in place
                target = small.targets[0]
                declared = cst.AnnAssign(target.target, cst.Annotation(ann), small.value, equal=cst.AssignEqual(
                    whitespace_before=target.whitespace_before_equal, whitespace_after=target.whitespace_after_equal),
                    semicolon=small.semicolon)
                return replace(cls, small, declared)
    declaration = cst.SimpleStatementLine([cst.AnnAssign(cst.Name(attr), cst.Annotation(ann))])
    at = _insert_at(lines)
    lines.insert(at, declaration)
    after = lines[at + 1] if at + 1 < len(lines) else None
    if isinstance(after, (cst.FunctionDef, cst.ClassDef)) and not after.leading_lines:
        # a blank line between the class's declarations and its first method (PEP 8)
        lines[at + 1] = after.with_changes(leading_lines=[cst.EmptyLine(indent=False)])
    if isinstance(block, cst.IndentedBlock):
        return cls.with_changes(body=block.with_changes(body=lines))
    suite = cst.ensure_type(block, cst.SimpleStatementSuite)
    return cls.with_changes(body=cst.IndentedBlock(body=lines, header=suite.trailing_whitespace))


# --------------------------------------------------------------------------- decorators


def _jit_modifier(decorator: cst.Decorator) -> str | None:
    """"ignore" for `@torch.jit.ignore` (any alias, with or without arguments), "unused", ...; else None."""
    expr = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
    name = dotted_name(expr)
    if name is None or not (name.startswith("jit.") or ".jit." in name):
        return None
    return name.rsplit(".", 1)[-1]


def decorate(fn: cst.FunctionDef, decorator: cst.BaseExpression,
             returns: cst.BaseExpression | None) -> cst.FunctionDef | str:
    """`@decorator` above every other decorator (so `@torch.jit.unused` overrides an
    `@torch.jit.export` below it); `returns` is added only where there is no return annotation."""
    wanted = (dotted_name(decorator) or "").rsplit(".", 1)[-1]
    present = [m for m in (_jit_modifier(d) for d in fn.decorators) if m in ("ignore", "unused")]
    needs_returns = returns is not None and fn.returns is None
    if present and present[0] != wanted:
        return f"already decorated @torch.jit.{present[0]}"
    if present and not needs_returns:
        return ALREADY
    if not present:
        fn = fn.with_changes(decorators=[cst.Decorator(decorator), *fn.decorators])
    if needs_returns and returns is not None:
        fn = fn.with_changes(returns=cst.Annotation(returns))
    return fn
