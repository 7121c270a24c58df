"""Read mypy's types of the model file into static Observations.

See `tsannotate.static` for what is read (locals, returns, attributes, call-site arguments).
The structure (functions, returns, `self.a = v`) comes from the stdlib `ast` of the same
text; the types from mypy's expression map, matched by exact source span (mypy's visitor
classes cannot be subclassed from interpreted code). Qualified names follow the rules'
convention: "helper", "Net.forward"; ATTR observations are keyed by class name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from mypy.nodes import ARG_NAMED, ARG_POS, CallExpr, Decorator, Expression, FuncDef, MemberExpr, NameExpr, TypeInfo, Var
from mypy.types import Instance, Type, get_proper_type

from tsannotate import tstypes
from tsannotate.records import Observation, Role
from tsannotate.static_types import spell, to_tstype
from tsannotate.tstypes import TSType

Key = tuple[str, str, Role]
Span = tuple[int, int, int, int]


def _span(node: ast.expr) -> Span:
    return (node.lineno, node.col_offset, node.end_lineno or node.lineno, node.end_col_offset or 0)


class _Reader:
    def __init__(self, tree: ast.Module, types: dict[Expression, Type], module: str) -> None:
        self.types = types
        self.module = module
        self.by_span: dict[Span, Type] = {}
        for e, t in types.items():
            if e.line > 0 and e.end_line is not None and e.end_column is not None:
                self.by_span.setdefault((e.line, e.column, e.end_line, e.end_column), t)
        self.seen: dict[Key, list[TSType | None]] = {}
        self.fills: dict[Key, list[TSType | None]] = {}  # element types stored into locals
        self.empties: set[Key] = set()  # locals assigned an empty `[]` / `{}`
        self.functions: list[tuple[str, int, int, set[str]]] = []  # qualname, lines, params
        self.tree = tree

    def note(self, key: Key, t: TSType | None) -> None:
        self.seen.setdefault(key, []).append(t)

    def typeof(self, node: ast.expr) -> TSType | None:
        return to_tstype(self.by_span.get(_span(node)))

    # ------------------------------------------------------------------ structure (ast)

    def read(self) -> None:
        for top in self.tree.body:
            if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.function(top, top.name, "")
            elif isinstance(top, ast.ClassDef):
                for item in top.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.function(item, f"{top.name}.{item.name}", top.name)
            if isinstance(top, ast.FunctionDef) and top.name == "probe":
                self.probe_inputs(top)
        self.locals_and_calls()

    def probe_inputs(self, probe: ast.FunctionDef) -> None:
        """`return model, [(x, 2.0), (x, None)]` in the file's `probe()`, read without running it:
        each input tuple is a call of the model's forward (or of the function) with those types."""
        for sub in _own_nodes(probe):
            if not (isinstance(sub, ast.Return) and isinstance(sub.value, ast.Tuple) and len(sub.value.elts) == 2):
                continue
            target, inputs = sub.value.elts
            if not isinstance(inputs, (ast.List, ast.Tuple)):
                continue
            called = get_proper_type(self.by_span.get(_span(target)))
            found = self.method(called.type, "forward") if isinstance(called, Instance) else None
            if found is None:
                continue
            qualname, func, _ = found
            params = [a.variable.name for a in func.arguments][1:]
            for args in inputs.elts:
                if not isinstance(args, ast.Tuple) or any(isinstance(a, ast.Starred) for a in args.elts):
                    continue
                for param, arg in zip(params, args.elts):
                    self.note((qualname, param, Role.ARG), self.typeof(arg))

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str, cls: str) -> None:
        params = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
        static = any(isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod")
                     for d in node.decorator_list)
        self_name = params[0] if cls and params and not static else ""
        extra = [a.arg for a in (node.args.vararg, node.args.kwarg) if a is not None]
        self.functions.append((qualname, node.lineno, node.end_lineno or node.lineno, set(params + extra)))
        returns_value = False
        for sub in _own_nodes(node):
            returns_value |= isinstance(sub, (ast.Yield, ast.YieldFrom, ast.Await))
            if isinstance(sub, ast.Return) and sub.value is not None:
                returns_value = True
                self.note((qualname, "", Role.RETURN), self.typeof(sub.value))
            self.fill(qualname, sub)
            if (isinstance(sub, ast.Assign) and len(sub.targets) == 1 and isinstance(sub.targets[0], ast.Name)
                    and (isinstance(sub.value, ast.Dict) and not sub.value.keys
                         or isinstance(sub.value, ast.List) and not sub.value.elts)):
                self.empties.add((qualname, sub.targets[0].id, Role.LOCAL))
            if not self_name:
                continue
            if isinstance(sub, (ast.Assign, ast.AnnAssign)) and sub.value is not None:
                targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
                for target in targets:
                    if (attr := _self_attr(target, self_name)) is not None:
                        self.note((cls, attr, Role.ATTR), self.typeof(sub.value))
                    elif isinstance(target, ast.Subscript) and (attr := _self_attr(target.value, self_name)):
                        self.container((cls, attr, Role.ATTR), "Dict", [target.slice, sub.value])
            elif (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
                  and sub.func.attr == "append" and len(sub.args) == 1
                  and (attr := _self_attr(sub.func.value, self_name)) is not None):
                self.container((cls, attr, Role.ATTR), "List", [sub.args[0]])
        if not returns_value:  # no `return value` anywhere (and no yield): it returns None
            self.note((qualname, "", Role.RETURN), tstypes.NONE)

    def container(self, key: Key, kind: str, parts: list[ast.expr], into: dict[Key, list[TSType | None]] | None = None
                  ) -> None:
        items = [self.typeof(p) for p in parts]
        (self.seen if into is None else into).setdefault(key, []).append(
            None if any(i is None for i in items) else TSType(kind, tuple(i for i in items if i is not None)))

    def fill(self, qualname: str, sub: ast.AST) -> None:
        """`d[k] = v` / `xs.append(v)` on a local: its element types, for when mypy gives up
        on an empty literal used before it is filled (`d.get(k, 0)` → dict[Any, Any])."""
        if isinstance(sub, ast.Assign):
            for target in sub.targets:
                if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                    self.container((qualname, target.value.id, Role.LOCAL), "Dict", [target.slice, sub.value],
                                   self.fills)
        elif (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "append"
              and isinstance(sub.func.value, ast.Name) and len(sub.args) == 1):
            self.container((qualname, sub.func.value.id, Role.LOCAL), "List", [sub.args[0]], self.fills)

    def scope(self, line: int) -> tuple[str, set[str]] | None:
        best: tuple[str, int, int, set[str]] | None = None
        for f in self.functions:
            if f[1] <= line <= f[2] and (best is None or f[1] >= best[1]):
                best = f
        return (best[0], best[3]) if best else None

    # ------------------------------------------------------------------ mypy's expressions

    def locals_and_calls(self) -> None:
        for e in self.types:
            if isinstance(e, NameExpr) and e.is_inferred_def and isinstance(e.node, Var):
                where = self.scope(e.line)
                if where is not None and e.name not in where[1] and e.node.is_inferred:
                    key = (where[0], e.name, Role.LOCAL)
                    if key not in self.seen:  # the Var holds the final type: one note per local
                        self.note(key, to_tstype(e.node.type))
            elif isinstance(e, CallExpr):
                target = self.target(e)
                if target is not None:
                    self.arguments(e, *target)

    def target(self, call: CallExpr) -> tuple[str, FuncDef, bool] | None:
        """The file's own function this call reaches: (qualname, def, bound to self)."""
        callee = call.callee
        if isinstance(callee, NameExpr):
            node = callee.node.func if isinstance(callee.node, Decorator) else callee.node
            if isinstance(node, FuncDef) and node.fullname.startswith(self.module + "."):
                qualname = node.fullname.removeprefix(self.module + ".")
                return (qualname, node, False) if "." not in qualname else None
        if isinstance(callee, MemberExpr):
            owner = get_proper_type(self.types.get(callee.expr))
            found = self.method(owner.type, callee.name) if isinstance(owner, Instance) else None
            if found is not None:
                return found
        called = get_proper_type(self.types.get(callee))
        if isinstance(called, Instance):  # calling a module (`self.block(x)`, `model(x)`): its forward
            return self.method(called.type, "forward")
        return None

    def method(self, info: TypeInfo, name: str) -> tuple[str, FuncDef, bool] | None:
        node = info.get_method(name)
        func = node.func if isinstance(node, Decorator) else node
        if (not isinstance(func, FuncDef) or not func.fullname.startswith(self.module + ".")
                or func.is_static or func.is_class):
            return None
        return func.fullname.removeprefix(self.module + "."), func, True

    def arguments(self, call: CallExpr, qualname: str, func: FuncDef, bound: bool) -> None:
        params = [a.variable.name for a in func.arguments][1 if bound else 0:]
        if any(k not in (ARG_POS, ARG_NAMED) for k in call.arg_kinds):
            for p in params:  # *args / **kwargs at the call: nothing is sure
                self.note((qualname, p, Role.ARG), None)
            return
        for i, (arg, kind, name) in enumerate(zip(call.args, call.arg_kinds, call.arg_names)):
            param = params[i] if kind == ARG_POS and i < len(params) else name
            if param in params:
                self.note((qualname, param, Role.ARG), to_tstype(self.types.get(arg)))


def _self_attr(node: ast.expr, self_name: str) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == self_name:
        return node.attr
    return None


def _own_nodes(func: ast.AST) -> Iterator[ast.AST]:
    """Every node of a function's body, not descending into nested functions or classes."""
    stack = list(ast.iter_child_nodes(func))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def observations(source: str, types: dict[Expression, Type], module: str) -> Iterator[Observation]:
    reader = _Reader(ast.parse(source), types, module)
    reader.read()
    for key, fills in reader.fills.items():
        if key in reader.empties and any(t is None for t in reader.seen.get(key, [None])):
            reader.seen[key] = fills  # mypy gave up on the literal; what is stored in it says
    for (qualname, name, role), seen in reader.seen.items():
        if not qualname or any(t is None for t in seen):
            continue
        text = spell(tstypes.join_all(t for t in seen if t is not None))
        if text is None or (role in (Role.ARG, Role.ATTR) and text == "NoneType"):
            continue
        yield Observation(qualname, name, role, text, count=len(seen), static=True)
