"""Read-only facts about the user's source: functions, classes, assignments, import style.

`index_source` parses (never imports or runs the file) and returns a `SourceIndex`. Functions
nested in functions (and classes inside functions) are not addressable by qualname and are
skipped, together with everything inside them. The visitors here and in `source_flow` are the
libcst reference; `source_ast` gives the same index from the stdlib `ast`, ~20x faster, and is
what runs unless it declines a file.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from tsannotate.records import (
    AttributeAssignment,
    ClassFacts,
    FunctionFacts,
    LocalAssignment,
    ParamFacts,
    SourceIndex,
    ValueKind,
)
from tsannotate.source_ast import gather
from tsannotate.source_narrowing import narrowings_of_text
from tsannotate.source_flow import GatherFlowVisitor
from tsannotate.source_values import (
    SourceSyntaxError,
    beside_none,
    dict_of_empty_lists,
    module_imports,
    parse_module,
    value_kind,
)

__all__ = ["SourceSyntaxError", "index_source", "index_with_libcst", "GatherSourceVisitor"]


@functools.lru_cache(maxsize=16)
def index_source(path: str, text: str) -> SourceIndex:
    """Facts about `text` (the contents of `path`); raises SourceSyntaxError if it does not parse.

    Read with the stdlib `ast` (`source_ast`, ~25 ms per 1000 lines), or with libcst when that
    reader cannot promise the same answer (~0.4 s per 1000 lines). Remembered for the last 16
    texts: each pass indexes the scripted text and the original of every file it fixes, and
    the summary the text it ends with. The index is frozen, so sharing it is safe."""
    return gather(path, text) or index_with_libcst(path, text)


def index_with_libcst(path: str, text: str) -> SourceIndex:
    """The reference reader: libcst positions and two visitors. `source_ast.gather` gives the same."""
    module = parse_module(text)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    visitor = GatherSourceVisitor(module)
    wrapper.visit(visitor)
    flow = GatherFlowVisitor(module)
    wrapper.visit(flow)
    return SourceIndex(
        path=path,
        functions=tuple(visitor.functions),
        classes=tuple(visitor.classes),
        locals=tuple(visitor.locals),
        attributes=tuple(visitor.attributes),
        style=module_imports(module).style(),
        branches=tuple(flow.branches),
        calls=tuple(flow.calls),
        reads=tuple(flow.reads),
        truth_uses=tuple(flow.truth_uses),
        narrowings=narrowings_of_text(text),
    )


@dataclass(frozen=True)
class _Function:
    qualname: str
    class_name: str | None
    self_name: str | None  # first parameter of a plain method


class GatherSourceVisitor(cst.CSTVisitor):
    """Collects FunctionFacts, ClassFacts, LocalAssignments and AttributeAssignments."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, module: cst.Module) -> None:
        super().__init__()
        self._module = module
        self._class_path: list[str] = []
        self._function: _Function | None = None
        self._scopes: list[str] = []  # "class" / "def" / "skip", popped in leave_*
        self.functions: list[FunctionFacts] = []
        self.classes: list[ClassFacts] = []
        self.locals: list[LocalAssignment] = []
        self.attributes: list[AttributeAssignment] = []

    # ------------------------------------------------------------------ helpers

    def _code(self, node: cst.CSTNode) -> str:
        return self._module.code_for_node(node)

    def _lines(self, node: cst.CSTNode) -> tuple[int, int]:
        position = self.get_metadata(PositionProvider, node)
        return position.start.line, position.end.line

    # ------------------------------------------------------------------ classes

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        if self._function is not None:
            self._scopes.append("skip")
            return False
        qualname = ".".join([*self._class_path, node.name.value])
        first, last = self._lines(node)
        annotations: list[tuple[str, str]] = []
        constants: list[str] = []
        assigned: list[tuple[str, str]] = []
        for stmt in _class_statements(node):
            if isinstance(stmt, cst.AnnAssign) and isinstance(stmt.target, cst.Name):
                annotations.append((stmt.target.value, self._code(stmt.annotation.annotation)))
                if stmt.target.value == "__constants__" and stmt.value is not None:
                    constants.extend(_string_items(stmt.value))
            elif isinstance(stmt, cst.Assign) and any(
                isinstance(t.target, cst.Name) and t.target.value == "__constants__" for t in stmt.targets
            ):
                constants.extend(_string_items(stmt.value))
            elif isinstance(stmt, cst.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0].target, cst.Name):
                assigned.append((stmt.targets[0].target.value, self._code(stmt.value)))
        self.classes.append(
            ClassFacts(
                name=qualname,
                bases=tuple(self._code(arg.value) for arg in node.bases),
                first_line=first,
                last_line=last,
                annotations=tuple(annotations),
                constants=tuple(constants),
                assigned=tuple(assigned),
            )
        )
        self._class_path.append(node.name.value)
        self._scopes.append("class")
        return True

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        if self._scopes.pop() == "class":
            self._class_path.pop()

    # ------------------------------------------------------------------ functions

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if self._function is not None:
            self._scopes.append("skip")
            return False
        class_name = ".".join(self._class_path) or None
        qualname = f"{class_name}.{node.name.value}" if class_name else node.name.value
        decorators = tuple(self._code(d.decorator) for d in node.decorators)
        params = self._params(node.params)
        first, last = self._lines(node)
        self.functions.append(
            FunctionFacts(
                qualname=qualname,
                name=node.name.value,
                class_name=class_name,
                params=params,
                returns=self._code(node.returns.annotation) if node.returns else None,
                decorators=decorators,
                first_line=first,
                last_line=last,
            )
        )
        plain_method = class_name is not None and not {"staticmethod", "classmethod"} & set(decorators)
        positional = [p for p in params if not p.star and not p.keyword_only]
        self_name = positional[0].name if plain_method and positional else None
        self._function = _Function(qualname, class_name, self_name)
        self._scopes.append("def")
        return True

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        if self._scopes.pop() == "def":
            self._function = None

    def _params(self, params: cst.Parameters) -> tuple[ParamFacts, ...]:
        out: list[ParamFacts] = []
        for param in (*params.posonly_params, *params.params):
            out.append(self._param(param, ""))
        if isinstance(params.star_arg, cst.Param):
            out.append(self._param(params.star_arg, "*"))
        for param in params.kwonly_params:
            out.append(self._param(param, "", keyword_only=True))
        if params.star_kwarg is not None:
            out.append(self._param(params.star_kwarg, "**"))
        return tuple(out)

    def _param(self, param: cst.Param, star: str, keyword_only: bool = False) -> ParamFacts:
        return ParamFacts(
            name=param.name.value,
            annotation=self._code(param.annotation.annotation) if param.annotation else None,
            default=self._code(param.default) if param.default is not None else None,
            default_kind=value_kind(param.default) if param.default is not None else None,
            star=star,
            keyword_only=keyword_only,
        )

    # ------------------------------------------------------------------ assignments

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._assigned(node, target.target, node.value, annotated=False)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Attribute):  # `self.steps += 1` reassigns the attribute
            self._assigned(node, node.target, None, annotated=False)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._assigned(node, node.target, node.value, annotated=True)

    def _assigned(
        self,
        node: cst.CSTNode,
        target: cst.BaseExpression,
        value: cst.BaseExpression | None,
        *,
        annotated: bool,
    ) -> None:
        function = self._function
        if function is None:
            return
        line = self._lines(node)[0]
        kind = value_kind(value) if value is not None else ValueKind.OTHER
        if isinstance(target, cst.Name):
            keys = dict_of_empty_lists(value) if value is not None else None
            self.locals.append(
                LocalAssignment(
                    function=function.qualname,
                    name=target.value,
                    line=line,
                    value=kind,
                    annotated=annotated,
                    dict_keys=tuple(self._code(e.key) for e in keys) if keys else (),
                    beside_none=" ".join(self._code(other).split()) if (other := beside_none(value)) else "",
                    beside_none_test=" ".join(self._code(value.test).split())
                    if other and isinstance(value, cst.IfExp) else "",
                )
            )
        elif (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and function.class_name is not None
            and target.value.value == function.self_name
        ):
            self.attributes.append(
                AttributeAssignment(
                    class_name=function.class_name,
                    attr=target.attr.value,
                    function=function.qualname,
                    line=line,
                    value=kind,
                    value_text=self._code(value) if value is not None else "",
                )
            )
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._assigned(node, element.value, None, annotated=annotated)


def _class_statements(node: cst.ClassDef) -> list[cst.BaseSmallStatement]:
    """The small statements directly in a class body (not inside methods or blocks)."""
    body = node.body
    if isinstance(body, cst.SimpleStatementSuite):
        return list(body.body)
    out: list[cst.BaseSmallStatement] = []
    for stmt in body.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            out.extend(stmt.body)
    return out


def _string_items(expr: cst.BaseExpression) -> list[str]:
    """The string literals of a list/tuple/set display: `["a", "b"]` -> ["a", "b"]."""
    if not isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        return []
    out: list[str] = []
    for element in expr.elements:
        value = element.value
        if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
            evaluated = value.evaluated_value
            if isinstance(evaluated, str):
                out.append(evaluated)
    return out
