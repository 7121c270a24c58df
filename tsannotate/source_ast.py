"""`index_source`'s fast path: the same SourceIndex, read from the stdlib `ast` instead of libcst.

libcst takes ~0.6 s on a 1500-line model (parse, then a CodeRange for every node, then two
walks); `ast.parse` takes ~15 ms and gives every node its lines. What libcst adds is exact
source text, so this reader cuts each text out of the file the way libcst's `code_for_node`
prints it: the node's span widened by the parentheses it owns (ast leaves them out), and the
enclosing block's indentation dropped from continuation lines inside brackets (libcst stores
that indentation on the block, not on the expression). The walk is one pre-order pass in
source order that runs the two libcst visitors' state machines side by side
(`source.GatherSourceVisitor`, `source_flow.GatherFlowVisitor`), quirks included, so each
list comes out in the same order.

`gather` returns None when it cannot promise libcst's answer (no `ast` parse, `\\r` or form
feeds in the file, very deep nesting):
the caller then takes the libcst path. tests/test_source_equivalence.py holds the two equal.
"""

from __future__ import annotations

import ast
import re
import warnings
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Union

from tsannotate.records import (
    AttributeAssignment,
    AttributeRead,
    Branch,
    CallSite,
    ClassFacts,
    FunctionFacts,
    LocalAssignment,
    ParamFacts,
    SourceIndex,
    TruthUse,
    ValueKind,
)
from tsannotate.source_narrowing import narrowings
from tsannotate.source_values import ModuleImports

_Def = Union[ast.FunctionDef, ast.AsyncFunctionDef]
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_BOOLS = ("True", "False")

# Strings (triple-quoted first) and comments: where a newline or a `#` is not code.
_TRIVIA = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""' r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"' r"|'(?:[^'\\\n]|\\.)*'" r"|#[^\n]*",
    re.DOTALL,
)


class Unsupported(Exception):
    """Something this reader does not reproduce exactly; the caller uses libcst instead."""


def gather(path: str, text: str) -> SourceIndex | None:
    """The SourceIndex of `text`, or None to have the caller read it with libcst."""
    if "\r" in text or "\x0c" in text:
        return None
    try:
        with warnings.catch_warnings():  # `"\d"` and the like: the user's file, not ours to report
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    reader = _Reader(text)
    try:
        reader.walk(tree)
        style = module_imports(tree).style()
    except Exception:  # Unsupported, RecursionError, or a case this reader gets wrong: libcst knows
        return None
    return SourceIndex(
        path=path,
        functions=tuple(reader.functions),
        classes=tuple(reader.classes),
        locals=tuple(reader.locals),
        attributes=tuple(reader.attributes),
        style=style,
        branches=tuple(reader.branches),
        calls=tuple(reader.calls),
        reads=tuple(reader.reads),
        truth_uses=tuple(reader.truth_uses),
        narrowings=narrowings(tree),
    )


# --------------------------------------------------------------------------- source text


class _Text:
    """The file's text, addressed the way ast addresses it (1-based lines, UTF-8 byte columns)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")
        self.starts = [0] * len(self.lines)
        offset = 0
        for i, line in enumerate(self.lines):
            self.starts[i] = offset
            offset += len(line) + 1
        self.ascii = text.isascii()
        self._strings: list[tuple[int, int]] | None = None
        self._string_starts: list[int] = []
        self._comments: dict[int, int] = {}  # end (the newline's index) -> start of a comment

    def offset(self, line: int, column: int) -> int:
        start = self.starts[line - 1]
        if self.ascii:
            return start + column
        text = self.lines[line - 1]
        if text.isascii():
            return start + column
        return start + len(text.encode()[:column].decode())

    def span(self, node: ast.AST) -> tuple[int, int]:
        end_line, end_col = node.end_lineno, node.end_col_offset  # type: ignore[attr-defined]
        if end_line is None or end_col is None:
            raise Unsupported("a node without an end")
        return self.offset(node.lineno, node.col_offset), self.offset(end_line, end_col)  # type: ignore[attr-defined]

    def indent(self, line: int) -> str:
        text = self.lines[line - 1]
        return text[: len(text) - len(text.lstrip(" \t"))]

    def _trivia(self) -> None:
        if self._strings is not None:
            return
        self._strings = []
        for match in _TRIVIA.finditer(self.text):
            if match.group().startswith("#"):
                self._comments[match.end()] = match.start()
            else:
                self._strings.append(match.span())
        self._string_starts = [s for s, _ in self._strings]

    def in_string(self, index: int) -> bool:
        self._trivia()
        assert self._strings is not None
        i = bisect_right(self._string_starts, index) - 1
        return i >= 0 and index < self._strings[i][1]

    def before(self, index: int) -> int:
        """The index of the last code character before `index` (skipping blanks, comments,
        line breaks and continuations), or -1."""
        text = self.text
        i = index - 1
        while i >= 0:
            c = text[i]
            if c == " " or c == "\t":
                i -= 1
            elif c == "\n":
                self._trivia()
                if i in self._comments:
                    i = self._comments[i] - 1
                elif i > 0 and text[i - 1] == "\\":
                    i -= 2
                else:
                    i -= 1
            else:
                return i
        return -1

    def after(self, index: int) -> int:
        """The index of the first code character at or after `index`, or len(text)."""
        text, n = self.text, len(self.text)
        i = index
        while i < n:
            c = text[i]
            if c == " " or c == "\t" or c == "\n":
                i += 1
            elif c == "\\" and i + 1 < n and text[i + 1] == "\n":
                i += 2
            elif c == "#":
                end = text.find("\n", i)
                i = n if end < 0 else end
            else:
                return i
        return n

    def widen(self, start: int, end: int, blocked: int) -> tuple[int, int]:
        """The span with the parentheses around it (ast leaves them out, libcst gives them to the
        node), except a pair whose `(` or `)` is at `blocked` (a call's or class's own)."""
        text = self.text
        while True:
            b = self.before(start)
            if b < 0 or text[b] != "(" or b == blocked:
                return start, end
            a = self.after(end)
            if a >= len(text) or text[a] != ")" or a == blocked:
                return start, end
            start, end = b, a + 1

    def dedent(self, start: int, end: int, indent: str) -> str:
        """text[start:end] without `indent` at the start of each continuation line inside brackets
        (libcst prints a node alone at indentation zero)."""
        self._trivia()
        text = self.text
        out: list[str] = []
        last = start
        q = text.find("\n", start, end)
        while q >= 0:
            continued = q > 0 and text[q - 1] == "\\" and q not in self._comments
            if not continued and not self.in_string(q) and text.startswith(indent, q + 1) and q + 1 < end:
                out.append(text[last:q + 1])
                last = q + 1 + len(indent)
            q = text.find("\n", q + 1, end)
        out.append(text[last:end])
        return "".join(out)


# --------------------------------------------------------------------------- value shapes


def _empty_list(expr: ast.expr) -> bool:
    if isinstance(expr, ast.List):
        return not expr.elts
    return _bare_call(expr, "list")


def _empty_dict(expr: ast.expr) -> bool:
    if isinstance(expr, ast.Dict):
        return not expr.keys
    return _bare_call(expr, "dict")


def _bare_call(expr: ast.expr, func: str) -> bool:
    return (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == func
            and not expr.args and not expr.keywords)


def _dict_of_empty_lists(expr: ast.expr) -> list[ast.expr] | None:
    """The keys of a non-empty dict literal whose values are all empty lists."""
    if not isinstance(expr, ast.Dict) or not expr.keys:
        return None
    keys: list[ast.expr] = []
    for key, value in zip(expr.keys, expr.values):
        if key is None or not _empty_list(value):
            return None
        keys.append(key)
    return keys


def _beside_none(value: ast.expr | None) -> ast.expr | None:
    """`A` of `A if c else None` or `None if c else A`."""
    if not isinstance(value, ast.IfExp):
        return None
    none = [isinstance(v, ast.Constant) and v.value is None for v in (value.body, value.orelse)]
    if none == [False, True]:
        return value.body
    return value.orelse if none == [True, False] else None


def value_kind(expr: ast.expr) -> ValueKind:
    """`source_values.value_kind`, on an ast expression."""
    if isinstance(expr, ast.Constant):
        if expr.value is None:
            return ValueKind.NONE
        if expr.value is True or expr.value is False:
            return ValueKind.BOOL
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
        expr = expr.operand
    if isinstance(expr, ast.Constant):
        kind = type(expr.value)
        if kind is int:
            return ValueKind.INT
        if kind is float:
            return ValueKind.FLOAT
        return ValueKind.STR if kind is str else ValueKind.OTHER
    if isinstance(expr, ast.JoinedStr):
        return ValueKind.STR
    if _empty_list(expr):
        return ValueKind.EMPTY_LIST
    if _empty_dict(expr):
        return ValueKind.EMPTY_DICT
    if _dict_of_empty_lists(expr) is not None:
        return ValueKind.DICT_OF_EMPTY_LISTS
    return ValueKind.OTHER


def _string_items(expr: ast.expr) -> list[str]:
    if not isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return []
    out: list[str] = []
    for element in expr.elts:
        value = element.value if isinstance(element, ast.Starred) else element
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            out.append(value.value)
    return out


# --------------------------------------------------------------------------- imports


def module_imports(tree: ast.Module) -> ModuleImports:
    """`source_values.module_imports`, on an ast module."""
    imports = ModuleImports()
    below_code = False

    def bind(local: str, origin: str) -> None:
        if local not in imports.bindings:
            (imports.late if below_code else imports.bindings).setdefault(local, origin)

    def statements(body: Sequence[ast.stmt]) -> None:
        nonlocal below_code
        for stmt in body:
            if isinstance(stmt, (*_DEFS, ast.ClassDef)):
                below_code = True
            elif isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.asname is not None:
                        bind(alias.asname, alias.name)
                    else:
                        root = alias.name.split(".")[0]
                        bind(root, root)
            elif isinstance(stmt, ast.ImportFrom):
                module = "." * stmt.level + (stmt.module or "")
                for alias in stmt.names:
                    if alias.name == "*":
                        if not below_code:
                            imports.star_modules.add(module)
                    else:
                        bind(alias.asname or alias.name, f"{module}.{alias.name}")
            else:
                for blocks in _blocks(stmt):
                    statements(blocks)

    statements(tree.body)
    return imports


def _blocks(stmt: ast.stmt) -> Iterator[Sequence[ast.stmt]]:
    """The statement lists inside a compound statement, in source order."""
    for name in ("body", "handlers", "orelse", "finalbody", "cases"):
        value = getattr(stmt, name, None)
        if not value:
            continue
        if name == "handlers" or name == "cases":
            for part in value:
                yield part.body
        else:
            yield value


# --------------------------------------------------------------------------- the walk


def _source_order(node: ast.AST) -> list[ast.AST]:
    """The child nodes the way libcst visits them: in source order."""
    cls = type(node)
    if cls is ast.Call:
        assert isinstance(node, ast.Call)
        rest: list[ast.AST] = [*node.args, *node.keywords]
        if node.keywords and node.args:
            rest.sort(key=lambda a: (a.lineno, a.col_offset))  # type: ignore[attr-defined]
        return [node.func, *rest]
    if cls is ast.FunctionDef or cls is ast.AsyncFunctionDef:
        assert isinstance(node, _DEFS)
        head: list[ast.AST] = [*node.decorator_list, *_argument_nodes(node.args)]
        if node.returns is not None:
            head.append(node.returns)
        return [*head, *node.body]
    if cls is ast.Lambda:
        assert isinstance(node, ast.Lambda)
        return [*_argument_nodes(node.args), node.body]
    if cls is ast.Dict:
        assert isinstance(node, ast.Dict)
        out: list[ast.AST] = []
        for key, value in zip(node.keys, node.values):
            if key is not None:
                out.append(key)
            out.append(value)
        return out
    if cls is ast.IfExp:
        assert isinstance(node, ast.IfExp)
        return [node.body, node.test, node.orelse]
    if cls is ast.ClassDef:
        assert isinstance(node, ast.ClassDef)
        return [*node.decorator_list, *node.bases, *node.keywords, *node.body]
    if cls is ast.MatchMapping:
        assert isinstance(node, ast.MatchMapping)
        pairs: list[ast.AST] = []
        for key, pattern in zip(node.keys, node.patterns):
            pairs += [key, pattern]
        return pairs
    children: list[ast.AST] = []
    for name in _FIELDS.get(cls) or _fields(cls):
        field: object = getattr(node, name, None)
        if isinstance(field, list):
            children.extend(v for v in field if isinstance(v, ast.AST))
        elif isinstance(field, ast.AST):
            children.append(field)
    return children


_FIELDS: dict[type, tuple[str, ...]] = {}
_SKIPPED_FIELDS = {"ctx", "op", "ops", "type_comment", "kind", "conversion"}


def _fields(cls: type) -> tuple[str, ...]:
    fields = tuple(f for f in cls._fields if f not in _SKIPPED_FIELDS)  # type: ignore[attr-defined]
    _FIELDS[cls] = fields or ("",)
    return _FIELDS[cls]


def _argument_nodes(args: ast.arguments) -> list[ast.AST]:
    """Annotations and defaults, parameter by parameter."""
    out: list[ast.AST] = []
    positional = [*args.posonlyargs, *args.args]
    first_default = len(positional) - len(args.defaults)
    for i, arg in enumerate(positional):
        if arg.annotation is not None:
            out.append(arg.annotation)
        if i >= first_default:
            out.append(args.defaults[i - first_default])
    if args.vararg is not None and args.vararg.annotation is not None:
        out.append(args.vararg.annotation)
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        if arg.annotation is not None:
            out.append(arg.annotation)
        if default is not None:
            out.append(default)
    if args.kwarg is not None and args.kwarg.annotation is not None:
        out.append(args.kwarg.annotation)
    return out


@dataclass(frozen=True)
class _Function:
    qualname: str
    class_name: str | None
    self_name: str | None  # first parameter of a plain method


_LEAVES = (ast.Name, ast.Constant)


class _Reader:
    """Both visitors' state machines over one walk. `_s*` mirror GatherSourceVisitor, `_f*`
    GatherFlowVisitor; each may skip a subtree the other still walks."""

    def __init__(self, text: str) -> None:
        self.src = _Text(text)
        self.functions: list[FunctionFacts] = []
        self.classes: list[ClassFacts] = []
        self.locals: list[LocalAssignment] = []
        self.attributes: list[AttributeAssignment] = []
        self.branches: list[Branch] = []
        self.calls: list[CallSite] = []
        self.reads: list[AttributeRead] = []
        self.truth_uses: list[TruthUse] = []
        self._line = 1  # the statement being walked: its indentation is what libcst drops
        self._s_skip = 0
        self._s_class_path: list[str] = []
        self._s_function: _Function | None = None
        self._s_scopes: list[str] = []
        self._f_skip = 0
        self._f_class_path: list[str] = []
        self._f_pushed: list[bool] = []
        self._f_function: str | None = None
        self._f_self: str | None = None
        self._f_stores: set[int] = set()

    # ------------------------------------------------------------------ texts

    def code(self, node: ast.AST, blocked: int = -1) -> str:
        start, end = self.src.span(node)
        start, end = self.src.widen(start, end, blocked)
        if self.src.text.find("\n", start, end) < 0:
            return self.src.text[start:end]
        return self.src.dedent(start, end, self.src.indent(self._line))

    def flat(self, node: ast.AST, blocked: int = -1) -> str:
        return " ".join(self.code(node, blocked).split())

    # ------------------------------------------------------------------ walk

    def walk(self, node: ast.AST) -> None:
        if isinstance(node, _LEAVES):
            return
        s_on = self._s_skip == 0
        f_on = self._f_skip == 0
        line = self._line
        if isinstance(node, ast.stmt):
            self._line = node.lineno
        s_in = self._s_enter(node) if s_on else False
        f_in = self._f_enter(node) if f_on else False
        if s_on and not s_in:
            self._s_skip += 1
        if f_on and not f_in:
            self._f_skip += 1
        if self._s_skip == 0 or self._f_skip == 0:
            for child in _source_order(node):
                self.walk(child)
        if s_on and not s_in:
            self._s_skip -= 1
        if f_on and not f_in:
            self._f_skip -= 1
        if s_on:
            self._s_leave(node)
        if f_on:
            self._f_leave(node)
        self._line = line

    # ------------------------------------------------------------------ GatherSourceVisitor

    def _s_enter(self, node: ast.AST) -> bool:
        if isinstance(node, ast.ClassDef):
            return self._s_class(node)
        if isinstance(node, _DEFS):
            return self._s_def(node)
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._assigned(node, target, node.value, annotated=False)
        elif isinstance(node, ast.AugAssign):
            if isinstance(node.target, ast.Attribute):
                self._assigned(node, node.target, None, annotated=False)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self._assigned(node, node.target, node.value, annotated=True)
        return True

    def _s_leave(self, node: ast.AST) -> None:
        if isinstance(node, ast.ClassDef):
            if self._s_scopes.pop() == "class":
                self._s_class_path.pop()
        elif isinstance(node, _DEFS):
            if self._s_scopes.pop() == "def":
                self._s_function = None

    def _s_class(self, node: ast.ClassDef) -> bool:
        if self._s_function is not None:
            self._s_scopes.append("skip")
            return False
        annotations: list[tuple[str, str]] = []
        constants: list[str] = []
        assigned: list[tuple[str, str]] = []
        line = self._line
        for stmt in node.body:
            self._line = stmt.lineno
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                annotations.append((stmt.target.id, self.code(stmt.annotation)))
                if stmt.target.id == "__constants__" and stmt.value is not None:
                    constants.extend(_string_items(stmt.value))
            elif isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__constants__" for t in stmt.targets
            ):
                constants.extend(_string_items(stmt.value))
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                assigned.append((stmt.targets[0].id, self.code(stmt.value)))
        self._line = line
        paren = self._class_paren(node) if node.bases else -1
        self.classes.append(ClassFacts(
            name=".".join([*self._s_class_path, node.name]),
            bases=tuple(self.code(b.value if isinstance(b, ast.Starred) else b, paren) for b in node.bases),
            first_line=node.lineno,
            last_line=self._end(node),
            annotations=tuple(annotations),
            constants=tuple(constants),
            assigned=tuple(assigned),
        ))
        self._s_class_path.append(node.name)
        self._s_scopes.append("class")
        return True

    def _class_paren(self, node: ast.ClassDef) -> int:
        """The index of the `(` opening the class's bases."""
        text = self.src.text
        start = self.src.offset(node.lineno, node.col_offset)
        name = self.src.after(start + len("class"))
        if not text.startswith(node.name, name):
            raise Unsupported("class name not where expected")
        return self.src.after(name + len(node.name))

    def _s_def(self, node: _Def) -> bool:
        if self._s_function is not None:
            self._s_scopes.append("skip")
            return False
        class_name = ".".join(self._s_class_path) or None
        qualname = f"{class_name}.{node.name}" if class_name else node.name
        decorators = tuple(self.code(d) for d in node.decorator_list)
        params = self._params(node.args)
        self.functions.append(FunctionFacts(
            qualname=qualname,
            name=node.name,
            class_name=class_name,
            params=params,
            returns=self.code(node.returns) if node.returns is not None else None,
            decorators=decorators,
            first_line=node.lineno,
            last_line=self._end(node),
        ))
        plain_method = class_name is not None and not {"staticmethod", "classmethod"} & set(decorators)
        positional = [p for p in params if not p.star and not p.keyword_only]
        self_name = positional[0].name if plain_method and positional else None
        self._s_function = _Function(qualname, class_name, self_name)
        self._s_scopes.append("def")
        return True

    def _params(self, args: ast.arguments) -> tuple[ParamFacts, ...]:
        out: list[ParamFacts] = []
        positional = [*args.posonlyargs, *args.args]
        first_default = len(positional) - len(args.defaults)
        for i, arg in enumerate(positional):
            out.append(self._param(arg, args.defaults[i - first_default] if i >= first_default else None, ""))
        if args.vararg is not None:
            out.append(self._param(args.vararg, None, "*"))
        for arg, default in zip(args.kwonlyargs, args.kw_defaults):
            out.append(self._param(arg, default, "", keyword_only=True))
        if args.kwarg is not None:
            out.append(self._param(args.kwarg, None, "**"))
        return tuple(out)

    def _param(self, arg: ast.arg, default: ast.expr | None, star: str, keyword_only: bool = False) -> ParamFacts:
        return ParamFacts(
            name=arg.arg,
            annotation=self.code(arg.annotation) if arg.annotation is not None else None,
            default=self.code(default) if default is not None else None,
            default_kind=value_kind(default) if default is not None else None,
            star=star,
            keyword_only=keyword_only,
        )

    def _assigned(self, node: ast.stmt, target: ast.expr, value: ast.expr | None, *, annotated: bool) -> None:
        function = self._s_function
        if function is None:
            return
        kind = value_kind(value) if value is not None else ValueKind.OTHER
        if isinstance(target, ast.Name):
            keys = _dict_of_empty_lists(value) if value is not None else None
            self.locals.append(LocalAssignment(
                function=function.qualname,
                name=target.id,
                line=node.lineno,
                value=kind,
                annotated=annotated,
                dict_keys=tuple(self.code(k) for k in keys) if keys else (),
                beside_none=self.flat(other) if (other := _beside_none(value)) is not None else "",
                beside_none_test=self.flat(value.test) if other is not None and isinstance(value, ast.IfExp) else "",
            ))
        elif (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and function.class_name is not None
            and target.value.id == function.self_name
        ):
            self.attributes.append(AttributeAssignment(
                class_name=function.class_name,
                attr=target.attr,
                function=function.qualname,
                line=node.lineno,
                value=kind,
                value_text=self.code(value) if value is not None else "",
            ))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                inner = element.value if isinstance(element, ast.Starred) else element
                self._assigned(node, inner, None, annotated=annotated)

    @staticmethod
    def _end(node: ast.AST) -> int:
        end: int | None = node.end_lineno  # type: ignore[attr-defined]
        if end is None:
            raise Unsupported("a node without an end")
        return end

    # ------------------------------------------------------------------ GatherFlowVisitor

    def _f_enter(self, node: ast.AST) -> bool:
        cls = type(node)
        if cls is ast.Attribute:
            assert isinstance(node, ast.Attribute)
            if self._f_function is not None and self._f_self and isinstance(node.value, ast.Name) \
                    and node.value.id == self._f_self and id(node) not in self._f_stores:
                self.reads.append(AttributeRead(self._f_function, node.attr, node.lineno))
        elif cls is ast.Call:
            assert isinstance(node, ast.Call)
            if self._f_function is not None:
                self._call(node, self._f_function)
        elif cls is ast.Assign:
            assert isinstance(node, ast.Assign)
            self._f_stores.update(id(t) for t in node.targets)
        elif cls is ast.AnnAssign:
            assert isinstance(node, ast.AnnAssign)
            self._f_stores.add(id(node.target))
        elif cls is ast.If:
            assert isinstance(node, ast.If)
            if self._f_function is not None:
                self.branches.append(Branch(
                    function=self._f_function,
                    test=self.flat(node.test),
                    first_line=node.lineno,
                    body_last_line=self._end(node.body[-1]),
                    last_line=self._end(node),
                ))
                self._truth(node.test)
        elif cls is ast.While or cls is ast.IfExp or cls is ast.Assert:
            self._truth(node.test)  # type: ignore[attr-defined]
        elif cls is ast.UnaryOp:
            assert isinstance(node, ast.UnaryOp)
            if isinstance(node.op, ast.Not):
                self._truth(node.operand)
        elif cls is ast.Compare:
            assert isinstance(node, ast.Compare)
            self._compare(node)
        elif cls is ast.ClassDef:
            assert isinstance(node, ast.ClassDef)
            if self._f_function is not None:
                self._f_pushed.append(False)  # libcst's visitor popped here anyway (IndexError)
                return False
            self._f_class_path.append(node.name)
            self._f_pushed.append(True)
        elif cls is ast.FunctionDef or cls is ast.AsyncFunctionDef:
            assert isinstance(node, _DEFS)
            if self._f_function is not None:
                return False
            self._f_function = ".".join([*self._f_class_path, node.name])
            static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)
            first = [*node.args.posonlyargs, *node.args.args][:1]
            self._f_self = first[0].arg if self._f_class_path and first and not static else None
        return True

    def _f_leave(self, node: ast.AST) -> None:
        cls = type(node)
        if cls is ast.ClassDef:
            if self._f_pushed.pop():
                self._f_class_path.pop()
        elif cls is ast.FunctionDef or cls is ast.AsyncFunctionDef:
            assert isinstance(node, _DEFS)
            if self._f_function == ".".join([*self._f_class_path, node.name]):
                self._f_function = None

    def _truth(self, expr: ast.expr) -> None:
        if self._f_function is None:
            return
        if isinstance(expr, ast.Name):
            self.truth_uses.append(TruthUse(self._f_function, expr.id, expr.lineno))
        elif isinstance(expr, ast.BoolOp):
            for value in expr.values:
                self._truth(value)

    def _compare(self, node: ast.Compare) -> None:
        if self._f_function is None or len(node.ops) != 1:
            return
        if not isinstance(node.ops[0], (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)):
            return
        left, right = node.left, node.comparators[0]
        for name, other in ((left, right), (right, left)):
            if isinstance(name, ast.Name) and isinstance(other, ast.Constant) \
                    and (other.value is True or other.value is False):
                self.truth_uses.append(TruthUse(self._f_function, name.id, node.lineno))

    def _call(self, node: ast.Call, function: str) -> None:
        end = self.src.span(node)[1] - 1  # the call's `)`: an argument's parentheses stop inside it
        items: list[ast.expr | ast.keyword] = [*node.args, *node.keywords]
        if node.args and node.keywords:
            items.sort(key=lambda a: (a.lineno, a.col_offset))
        starred = next((i for i, a in enumerate(items) if _star(a)), len(items))
        args = tuple(self._argument(a, end) for a in items[:starred] if isinstance(a, ast.expr))
        keywords = tuple((a.arg, self.flat(a.value, end)) for a in items
                         if isinstance(a, ast.keyword) and a.arg is not None)
        self.calls.append(CallSite(function, self.flat(node.func), node.lineno, args, keywords))

    def _argument(self, arg: ast.expr, end: int) -> str:
        if isinstance(arg, ast.GeneratorExp):
            start, stop = self.src.span(arg)
            if stop - 1 == end:  # `f(x for x in y)`: the call's parentheses are the generator's
                first, last = self.src.after(start + 1), self.src.before(stop - 1)
                return " ".join(self.src.text[first:last + 1].split())
        return self.flat(arg, end)


def _star(arg: ast.expr | ast.keyword) -> bool:
    return isinstance(arg, ast.Starred) or (isinstance(arg, ast.keyword) and arg.arg is None)
