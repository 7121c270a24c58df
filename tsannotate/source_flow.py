"""Read-only control-flow facts: the `if` statements, the calls and the `self.x` reads inside each function.

The rules use them to tell where compiled code reaches a method (`self.aux(x)` under
`if self.training:`) and which flag guards a branch (`if self.use_norm:`). Like `source`,
this parses with libcst and never imports or runs the file.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import PositionProvider

from tsannotate.records import AttributeRead, Branch, CallSite


class GatherFlowVisitor(cst.CSTVisitor):
    """Collects `Branch`es, `CallSite`s and `AttributeRead`s of top-level functions and methods
    (nested defs skipped)."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, module: cst.Module) -> None:
        super().__init__()
        self._module = module
        self._class_path: list[str] = []
        self._function: str | None = None
        self.branches: list[Branch] = []
        self.calls: list[CallSite] = []
        self.reads: list[AttributeRead] = []
        self._self: str | None = None  # the first parameter of a plain method
        self._stores: set[int] = set()  # ids of `self.x` assignment targets: not reads

    def _line(self, node: cst.CSTNode, end: bool = False) -> int:
        position = self.get_metadata(PositionProvider, node)
        return position.end.line if end else position.start.line

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        if self._function is not None:
            return False
        self._class_path.append(node.name.value)
        return True

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
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
        self.calls.append(CallSite(self._function, " ".join(callee.split()), self._line(node)))
