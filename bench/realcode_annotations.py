"""The TorchScript annotations of a source file, found and (optionally) stripped with libcst.

Used by `bench/realcode.py`: the same walk reads the maintainers' annotations from a copied
module, strips them, and later reads what `tsannotate fix --apply` wrote back, so the two can be
compared slot by slot. A slot is where an annotation lives, independent of how it is spelled:

- ("param", "Class.method", "mask"), ("return", "Class.method", "")
- ("local", "Class.method", "out") — `out: List[int] = []` or `out = torch.jit.annotate(List[int], [])`
- ("attr", "Class", "cache") — class level, or `self.cache: T = ...` in a method; an attribute named in
  `__constants__` is `Final[T]` (bare `Final` when the class gives it no type)
- ("decorator", "Class.method", "") — `ignore` / `unused` (`__jit_unused_properties__` entries too)

Texts are normalised: `typing.Optional[torch.Tensor]`, `Tensor | None` and `Union[Tensor, None]`
are all `Optional[Tensor]`; `list[int]` is `List[int]`; `torch.jit.Final` is `Final`.
`@overload` stubs are left alone: they are declarations made only of types.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

Slot = tuple[str, str, str]
_CONSTANT_LISTS = ("__constants__", "__jit_unused_properties__")
_BUILTIN_GENERICS = {"list": "List", "dict": "Dict", "tuple": "Tuple", "set": "Set", "type": "Type"}


def normalise(node: cst.BaseExpression) -> str:
    """One spelling per type: last name of a dotted path, typing generics, Optional for `| None`."""
    if isinstance(node, cst.Name):
        return _BUILTIN_GENERICS.get(node.value, node.value)
    if isinstance(node, cst.Attribute):
        return _BUILTIN_GENERICS.get(node.attr.value, node.attr.value)
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        inner = node.evaluated_value if isinstance(node, cst.SimpleString) else None
        return normalise(cst.parse_expression(inner)) if isinstance(inner, str) else "?"
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return _union(_members(node))
    if isinstance(node, cst.Subscript):
        base = normalise(node.value)
        args = [normalise(e.slice.value) for e in node.slice if isinstance(e.slice, cst.Index)]
        if base == "Union":
            return _union(args)
        return f"{base}[{', '.join(args)}]"
    if isinstance(node, (cst.Tuple, cst.List)):
        return f"[{', '.join(normalise(e.value) for e in node.elements)}]"
    return cst.Module([]).code_for_node(node)


def _members(node: cst.BaseExpression) -> list[str]:
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return _members(node.left) + _members(node.right)
    return [normalise(node)]


def _union(members: list[str]) -> str:
    rest = [m for m in members if m != "None"]
    if len(rest) == 1 and len(members) == 2:
        return f"Optional[{rest[0]}]"
    return f"Union[{', '.join(members)}]"


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return _dotted(node.func)
    return ""


def _jit_modifier(decorator: cst.Decorator) -> str | None:
    """"ignore" for @torch.jit.ignore / @torch.jit.ignore(drop=True) / @jit.ignore, likewise "unused"."""
    name = _dotted(decorator.decorator)
    last = name.rsplit(".", 1)[-1]
    return last if last in ("ignore", "unused") and "jit" in name else None


def _is_overload(node: cst.FunctionDef) -> bool:
    return any(_dotted(d.decorator).rsplit(".", 1)[-1] in ("overload", "_overload_method")
               for d in node.decorators)


def _is_annotate_call(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and _dotted(node.func) in ("torch.jit.annotate", "jit.annotate") \
        and len(node.args) == 2


def _string_items(node: cst.BaseExpression) -> list[str]:
    if not isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return []
    return [e.value.evaluated_value for e in node.elements
            if isinstance(e.value, cst.SimpleString) and isinstance(e.value.evaluated_value, str)]


_NO_SPACE = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                            whitespace_after=cst.SimpleWhitespace(""))


@dataclass
class Found:
    """The annotations of one file, by slot, plus the attributes its classes declare constant."""

    slots: dict[Slot, str] = field(default_factory=dict)
    constants: dict[str, list[str]] = field(default_factory=dict)  # class → __constants__ names

    def finish(self) -> dict[Slot, str]:
        """Fold `__constants__` into the attribute slots: `a: int` + constant → `Final[int]`."""
        out = dict(self.slots)
        for cls, names in self.constants.items():
            for name in names:
                typed = out.get(("attr", cls, name))
                if typed is None:
                    out[("attr", cls, name)] = "Final"
                elif not typed.startswith("Final"):
                    out[("attr", cls, name)] = f"Final[{typed}]"
        return out


class Annotations(cst.CSTTransformer):
    """Records every TorchScript annotation by slot; with `strip=True` also removes it."""

    def __init__(self, strip: bool) -> None:
        super().__init__()
        self.strip = strip
        self.found = Found()
        self.scope: list[tuple[str, str]] = []  # ("class" | "def", name)
        self.skip = 0  # inside an @overload stub
        self.anonymous: dict[str, int] = {}  # torch.jit.annotate(...) calls not assigned to a name
        self.assigned: set[int] = set()  # ids of annotate calls that are an assignment's value

    # ------------------------------------------------------------------ where we are

    def qualname(self) -> str:
        return ".".join(name for _, name in self.scope)

    def cls(self) -> str:
        classes = [name for kind, name in self.scope if kind == "class"]
        return ".".join(classes[-1:])

    def record(self, slot: Slot, text: str) -> None:
        if not self.skip:
            self.found.slots.setdefault(slot, text)

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.scope.append(("class", node.name.value))
        return True

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.scope.pop()
        body = updated.body
        if isinstance(body, cst.IndentedBlock) and not body.body:
            return updated.with_changes(body=body.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])]))
        return updated

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.scope.append(("def", node.name.value))
        if _is_overload(node):
            self.skip += 1
        return True

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        qualname = self.qualname()
        self.scope.pop()
        if _is_overload(original):
            self.skip -= 1
            return original
        if updated.returns is not None:
            self.record(("return", qualname, ""), normalise(updated.returns.annotation))
        kept = []
        for d in updated.decorators:
            modifier = _jit_modifier(d)
            if modifier is None:
                kept.append(d)
            else:
                self.record(("decorator", qualname, ""), modifier)
        if not self.strip:
            return updated
        return updated.with_changes(returns=None, decorators=kept)

    # ------------------------------------------------------------------ parameters

    def leave_Param(self, original: cst.Param, updated: cst.Param) -> cst.Param:
        if updated.annotation is None or not self.scope or self.scope[-1][0] != "def":
            return updated
        self.record(("param", self.qualname(), updated.name.value), normalise(updated.annotation.annotation))
        if not self.strip:
            return updated
        equal = _NO_SPACE if updated.default is not None else updated.equal
        return updated.with_changes(annotation=None, equal=equal)

    # ------------------------------------------------------------------ variables and attributes

    def _target_slot(self, target: cst.BaseExpression) -> Slot | None:
        in_class_body = bool(self.scope) and self.scope[-1][0] == "class"
        if isinstance(target, cst.Name):
            return ("attr", self.cls(), target.value) if in_class_body else ("local", self.qualname(), target.value)
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self":
            return ("attr", self.cls(), target.attr.value)
        return None

    def leave_AnnAssign(self, original: cst.AnnAssign, updated: cst.AnnAssign
                        ) -> cst.BaseSmallStatement | cst.RemovalSentinel:
        if not self.scope:
            return updated  # module level: type aliases and such are not TorchScript's business
        slot = self._target_slot(updated.target)
        if slot is None:
            return updated
        self.record(slot, normalise(updated.annotation.annotation))
        if not self.strip:
            return updated
        if updated.value is None:
            return cst.RemovalSentinel.REMOVE
        return cst.Assign([cst.AssignTarget(updated.target)], updated.value)

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign
                     ) -> cst.BaseSmallStatement | cst.RemovalSentinel:
        targets = [t.target for t in updated.targets]
        if len(targets) == 1 and isinstance(targets[0], cst.Name) and self.scope and self.scope[-1][0] == "class" \
                and targets[0].value in _CONSTANT_LISTS:
            names = _string_items(updated.value)
            if targets[0].value == "__constants__":
                self.found.constants.setdefault(self.cls(), []).extend(names)
            else:
                for name in names:
                    self.record(("decorator", f"{self.cls()}.{name}", ""), "unused")
            return cst.RemovalSentinel.REMOVE if self.strip else updated
        # `x = torch.jit.annotate(T, v)`: the annotation belongs to x (the call itself is stripped below)
        if len(targets) == 1 and _is_annotate_call(original.value):
            slot = self._target_slot(targets[0])
            call = original.value
            assert isinstance(call, cst.Call)
            if slot is not None:
                self.record(slot, normalise(call.args[0].value))
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if not _is_annotate_call(updated):
            return updated
        return updated.args[1].value if self.strip else updated

    def visit_Assign(self, node: cst.Assign) -> bool:
        if len(node.targets) == 1 and _is_annotate_call(node.value):
            self.assigned.add(id(node.value))
        return True

    def visit_Call(self, node: cst.Call) -> bool:
        # annotate calls not assigned to a name (returned, passed on) get a slot of their own
        if _is_annotate_call(node) and self.scope and id(node) not in self.assigned:
            qualname = self.qualname()
            self.anonymous[qualname] = self.anonymous.get(qualname, 0) + 1
            self.record(("annotate", qualname, f"#{self.anonymous[qualname]}"), normalise(node.args[0].value))
        return True

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
                                  ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
        return cst.RemovalSentinel.REMOVE if not updated.body else updated


def read(source: str) -> dict[Slot, str]:
    """The annotations of `source`, by slot."""
    walker = Annotations(strip=False)
    cst.parse_module(source).visit(walker)
    return walker.found.finish()


def strip(source: str) -> tuple[str, dict[Slot, str]]:
    """`source` without its TorchScript annotations, and the annotations it had."""
    walker = Annotations(strip=True)
    text = cst.parse_module(source).visit(walker).code
    return text, walker.found.finish()
