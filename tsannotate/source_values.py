"""libcst helpers shared by `source` (facts) and `rewrite` (edits): value shapes, imports.

Part of the libcst side of tsannotate: only `source`, `rewrite` and this module import
libcst, and none of them imports torch.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

import libcst as cst
from libcst.helpers import get_full_name_for_node

from tsannotate.records import ImportStyle, ValueKind


class SourceSyntaxError(Exception):
    """libcst could not parse the file: `line` 1-based, `column` 0-based (libcst's convention)."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(f"line {line}:{column + 1}: {message}")
        self.line = line
        self.column = column
        self.message = message


_PARSER_PREFIX = re.compile(r"^(?:parser error: )?(?:error at \d+:\d+: )?")


def parse_module(text: str) -> cst.Module:
    """`cst.parse_module`, with its error turned into a `SourceSyntaxError`."""
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as err:
        message = _PARSER_PREFIX.sub("", err.message.strip()) or "invalid syntax"
        raise SourceSyntaxError(err.raw_line, err.raw_column, message) from err


# --------------------------------------------------------------------------- value shapes


def is_empty_list(expr: cst.BaseExpression) -> bool:
    """`[]` or `list()`."""
    if isinstance(expr, cst.List):
        return not expr.elements
    return _is_bare_call(expr, "list")


def is_empty_dict(expr: cst.BaseExpression) -> bool:
    """`{}` or `dict()`."""
    if isinstance(expr, cst.Dict):
        return not expr.elements
    return _is_bare_call(expr, "dict")


def _is_bare_call(expr: cst.BaseExpression, func: str) -> bool:
    return (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Name)
        and expr.func.value == func
        and not expr.args
    )


def dict_of_empty_lists(expr: cst.BaseExpression) -> tuple[cst.DictElement, ...] | None:
    """The elements of a non-empty dict literal whose values are all empty lists."""
    if not isinstance(expr, cst.Dict) or not expr.elements:
        return None
    elements: list[cst.DictElement] = []
    for element in expr.elements:
        if not isinstance(element, cst.DictElement) or not is_empty_list(element.value):
            return None
        elements.append(element)
    return tuple(elements)


def beside_none(value: cst.BaseExpression | None) -> cst.BaseExpression | None:
    """`A` of `A if c else None` or `None if c else A`."""
    if not isinstance(value, cst.IfExp):
        return None
    none = [isinstance(v, cst.Name) and v.value == "None" for v in (value.body, value.orelse)]
    if none == [False, True]:
        return value.body
    return value.orelse if none == [True, False] else None


def value_kind(expr: cst.BaseExpression) -> ValueKind:
    """The shape of a right-hand side (or a default value), as far as the rules care."""
    if isinstance(expr, cst.Name):
        return {"None": ValueKind.NONE, "True": ValueKind.BOOL, "False": ValueKind.BOOL}.get(
            expr.value, ValueKind.OTHER
        )
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, (cst.Minus, cst.Plus)):
        expr = expr.expression
    if isinstance(expr, cst.Integer):
        return ValueKind.INT
    if isinstance(expr, cst.Float):
        return ValueKind.FLOAT
    if isinstance(expr, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)):
        return ValueKind.OTHER if "b" in _string_prefix(expr).lower() else ValueKind.STR
    if is_empty_list(expr):
        return ValueKind.EMPTY_LIST
    if is_empty_dict(expr):
        return ValueKind.EMPTY_DICT
    if dict_of_empty_lists(expr) is not None:
        return ValueKind.DICT_OF_EMPTY_LISTS
    return ValueKind.OTHER


def _string_prefix(expr: cst.BaseExpression) -> str:
    while isinstance(expr, cst.ConcatenatedString):
        expr = expr.left
    if isinstance(expr, (cst.SimpleString, cst.FormattedString)):
        return expr.prefix
    return ""


def same_expression(a: str, b: str) -> bool:
    """Whether two expressions' source texts mean the same (spacing and quotes aside)."""
    try:
        return ast.dump(ast.parse(a.strip(), mode="eval")) == ast.dump(ast.parse(b.strip(), mode="eval"))
    except SyntaxError:
        return a.strip() == b.strip()


def dotted_name(expr: cst.BaseExpression) -> str | None:
    """`self.attr` / `name` for Name and Attribute chains, else None."""
    if isinstance(expr, (cst.Name, cst.Attribute)):
        return get_full_name_for_node(expr)
    return None


# --------------------------------------------------------------------------- imports


@dataclass
class ModuleImports:
    """What the module's own imports bind: local name -> dotted origin ("torch", "torch.Tensor").

    Only imports in effect where annotations go: one below the module's first class or def (`import
    typing` at the end of the file) binds nothing for a signature above it (a NameError at import),
    so it is left out of `bindings` and the style, and listed in `late`."""

    bindings: dict[str, str] = field(default_factory=dict)
    star_modules: set[str] = field(default_factory=set)  # `from typing import *`
    late: dict[str, str] = field(default_factory=dict)  # bound only below the first class or def

    def local_names(self, origin: str) -> list[str]:
        return [local for local, bound in self.bindings.items() if bound == origin]

    def style(self) -> ImportStyle:
        torch = self.local_names("torch")
        torch_alias = "torch" if "torch" in torch or not torch else torch[0]
        tensor = self.local_names("torch.Tensor")
        typing_module = self.local_names("typing")
        typing_names = frozenset(
            local for local, bound in self.bindings.items() if bound == f"typing.{local}"
        )
        return ImportStyle(
            tensor=("Tensor" if "Tensor" in tensor else tensor[0]) if tensor else f"{torch_alias}.Tensor",
            typing_module=("typing" if "typing" in typing_module else typing_module[0])
            if typing_module
            else None,
            typing_names=typing_names,
            torch_alias=torch_alias,
        )


class GatherModuleImportsVisitor(cst.CSTVisitor):
    """Imports at module scope (also inside module-level if/try blocks), not in defs or classes."""

    def __init__(self) -> None:
        super().__init__()
        self.imports = ModuleImports()
        self._below_code = False  # past the first class or def: imports from here are late

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._below_code = True
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._below_code = True
        return False

    def _bind(self, local: str, origin: str) -> None:
        if local not in self.imports.bindings:
            (self.imports.late if self._below_code else self.imports.bindings).setdefault(local, origin)

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            module = get_full_name_for_node(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind(alias.asname.name.value, module)
            else:
                root = module.split(".")[0]
                self._bind(root, root)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        dots = "." * len(node.relative)
        module = dots + ((get_full_name_for_node(node.module) or "") if node.module else "")
        if isinstance(node.names, cst.ImportStar):
            if not self._below_code:
                self.imports.star_modules.add(module)
            return False
        for alias in node.names:
            name = get_full_name_for_node(alias.name) or ""
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self._bind(local, f"{module}.{name}")
        return False


def module_imports(module: cst.Module) -> ModuleImports:
    visitor = GatherModuleImportsVisitor()
    module.visit(visitor)
    return visitor.imports


class GatherRootNamesVisitor(cst.CSTVisitor):
    """Names an expression reads directly: `Optional[torch.Tensor]` -> {"Optional", "torch"}."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> bool:
        self.names.add(node.value)
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False


def root_names(expr: cst.BaseExpression) -> set[str]:
    visitor = GatherRootNamesVisitor()
    expr.visit(visitor)
    return visitor.names
