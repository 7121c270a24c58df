"""Read-only control-flow facts: the `if` statements, the calls (with their arguments' texts), the
`self.x` reads and the names used as bools inside each function.

The rules use them to tell where compiled code reaches a method (`self.aux(x)` under
`if self.training:`) and which flag guards a branch (`if self.use_norm:`). This is the libcst
reader; `source_ast` mirrors it on the stdlib `ast`. Neither imports or runs the file.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import PositionProvider

from tsannotate.records import AttributeRead, Branch, CallSite, TruthUse

_BOOLS = ("True", "False")


class GatherFlowVisitor(cst.CSTVisitor):
    """Collects `Branch`es, `CallSite`s, `AttributeRead`s and `TruthUse`s of top-level functions
    and methods (nested defs skipped)."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, module: cst.Module) -> None:
        super().__init__()
        self._module = module
        self._class_path: list[str] = []
        self._pushed: list[bool] = []  # per ClassDef: whether it extended _class_path
        self._function: str | None = None
        self.branches: list[Branch] = []
        self.calls: list[CallSite] = []
        self.reads: list[AttributeRead] = []
        self.truth_uses: list[TruthUse] = []
        self._self: str | None = None  # the first parameter of a plain method
        self._stores: set[int] = set()  # ids of `self.x` assignment targets: not reads

    def _line(self, node: cst.CSTNode, end: bool = False) -> int:
        position = self.get_metadata(PositionProvider, node)
        return position.end.line if end else position.start.line

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        if self._function is not None:  # a class inside a function: skipped
            self._pushed.append(False)
            return False
        self._class_path.append(node.name.value)
        self._pushed.append(True)
        return True

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:  # called for a skipped class too
        if self._pushed.pop():
            self._class_path.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if self._function is not None:
            return False
        self._function = ".".join([*self._class_path, node.name.value])
        static = any(isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod" for d in node.decorators)
        first = [*node.params.posonly_params, *node.params.params][:1]
        self._self = first[0].name.value if self._class_path and first and not static else None
        return True

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        if self._function == ".".join([*self._class_path, original_node.name.value]):
            self._function = None

    def visit_If(self, node: cst.If) -> None:
        if self._function is None:
            return
        self.branches.append(Branch(
            function=self._function,
            test=" ".join(self._module.code_for_node(node.test).split()),
            first_line=self._line(node),
            body_last_line=self._line(node.body, end=True),
            last_line=self._line(node, end=True),
        ))
        self._truth(node.test)

    def visit_While(self, node: cst.While) -> None:
        self._truth(node.test)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._truth(node.test)

    def visit_Assert(self, node: cst.Assert) -> None:
        self._truth(node.test)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        if isinstance(node.operator, cst.Not):
            self._truth(node.expression)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        """`x is True`, `x == False`, `True is not x`: x is a bool."""
        if self._function is None or len(node.comparisons) != 1:
            return
        target = node.comparisons[0]
        if not isinstance(target.operator, (cst.Is, cst.IsNot, cst.Equal, cst.NotEqual)):
            return
        left, right = node.left, target.comparator
        for name, other in ((left, right), (right, left)):
            if isinstance(name, cst.Name) and name.value not in (*_BOOLS, "None") \
                    and isinstance(other, cst.Name) and other.value in _BOOLS:
                self.truth_uses.append(TruthUse(self._function, name.value, self._line(node)))

    def _truth(self, expr: cst.BaseExpression) -> None:
        """A name tested for truth, alone or as an operand of `and`/`or` in a truth test."""
        if self._function is None:
            return
        if isinstance(expr, cst.Name) and expr.value not in (*_BOOLS, "None"):
            self.truth_uses.append(TruthUse(self._function, expr.value, self._line(expr)))
        elif isinstance(expr, cst.BooleanOperation):
            self._truth(expr.left)
            self._truth(expr.right)

    def visit_Assign(self, node: cst.Assign) -> None:
        self._stores.update(id(t.target) for t in node.targets)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._stores.add(id(node.target))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self._function is not None and self._self and isinstance(node.value, cst.Name) \
                and node.value.value == self._self and id(node) not in self._stores:
            self.reads.append(AttributeRead(self._function, node.attr.value, self._line(node)))

    def visit_Call(self, node: cst.Call) -> None:
        if self._function is None:
            return
        callee = self._module.code_for_node(node.func)
        code = self._module.code_for_node
        starred = next((i for i, a in enumerate(node.args) if a.star), len(node.args))
        args = tuple(" ".join(code(a.value).split()) for a in node.args[:starred] if a.keyword is None)
        keywords = tuple((a.keyword.value, " ".join(code(a.value).split())) for a in node.args
                         if a.keyword is not None and not a.star)
        self.calls.append(CallSite(self._function, " ".join(callee.split()), self._line(node), args, keywords))
