"""Node rewrites for the mechanical refactors behind `rewrite.apply_edits`: a plain list of modules
wrapped in `nn.ModuleList`, a `range(len(...))` loop over a ModuleList turned into iteration, and a
`collections.namedtuple` turned into a `typing.NamedTuple` class.

Like `rewrite_edits`, each function takes the target FunctionDef and returns the rewritten node or
a one-line reason why it was left alone; `ALREADY` when the refactor is already there. The
namedtuple is a module-level statement: `NamedTupleTransformer` finds it itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import libcst as cst
from tsannotate.rewrite_edits import ALREADY, assignments, code, replace
from tsannotate.source_values import dotted_name


def wrap_value(fn: cst.FunctionDef, where: str, target: str, wrapper: cst.BaseExpression) -> cst.FunctionDef | str:
    found = assignments(fn, target)
    if not found or found[0].value is None:
        return f"no assignment to '{target}' in {where}"
    first = found[0]
    value = first.value
    assert value is not None
    if isinstance(value, cst.Call) and (dotted_name(value.func) or "").rsplit(".", 1)[-1] == code(wrapper).rsplit(".", 1)[-1]:
        return ALREADY
    if not isinstance(value, (cst.List, cst.ListComp)):
        return f"the first assignment to '{target}' in {where} is not a list display or comprehension"
    wrapped = cst.Call(func=wrapper, args=[cst.Arg(value)])
    return replace(fn, first, first.with_changes(value=wrapped))


def _range_len(loop: cst.For, index: str) -> cst.BaseExpression | None:
    """The container of `for index in range(len(container)):`, else None."""
    if not (isinstance(loop.target, cst.Name) and loop.target.value == index and loop.asynchronous is None):
        return None
    outer = loop.iter
    if not (isinstance(outer, cst.Call) and dotted_name(outer.func) == "range" and len(outer.args) == 1):
        return None
    inner = outer.args[0].value
    if not (isinstance(inner, cst.Call) and dotted_name(inner.func) == "len" and len(inner.args) == 1):
        return None
    container = inner.args[0].value
    return container if dotted_name(container) is not None else None


class _Uses(cst.CSTVisitor):
    """Names read or bound in a function, and how the loop index is used in a loop body."""

    def __init__(self, index: str, container: str) -> None:
        super().__init__()
        self.index, self.container = index, container
        self.names: set[str] = set()
        self.indexed = 0  # `container[index]`
        self.other = 0  # any other use of `index`

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)
        if node.value == self.index:
            self.other += 1

    def visit_Subscript(self, node: cst.Subscript) -> bool:
        if dotted_name(node.value) == self.container and len(node.slice) == 1:
            index = node.slice[0].slice
            if isinstance(index, cst.Index) and isinstance(index.value, cst.Name) and index.value.value == self.index:
                self.indexed += 1
                return False
        return True


class _ReplaceIndexing(cst.CSTTransformer):
    def __init__(self, index: str, container: str, item: str) -> None:
        super().__init__()
        self.index, self.container, self.item = index, container, item

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.BaseExpression:
        if dotted_name(updated_node.value) == self.container and len(updated_node.slice) == 1:
            index = updated_node.slice[0].slice
            if isinstance(index, cst.Index) and isinstance(index.value, cst.Name) and index.value.value == self.index:
                return cst.Name(self.item)
        return updated_node


def _item_name(container: str, taken: set[str]) -> str | None:
    base = container.rsplit(".", 1)[-1]
    for name in (base[:-1] if base.endswith("s") and len(base) > 1 else "", f"{base}_item", "module"):
        if name and name.isidentifier() and name not in taken:
            return name
    return None


def enumerate_loop(fn: cst.FunctionDef, where: str, index: str) -> cst.FunctionDef | str:
    loops: list[cst.For] = []

    class _Loops(cst.CSTVisitor):
        def visit_For(self, node: cst.For) -> None:
            loops.append(node)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is fn

    fn.visit(_Loops())
    for loop in loops:
        container = _range_len(loop, index)
        if container is None or loop.orelse is not None:
            continue
        name = dotted_name(container)
        assert name is not None
        body = _Uses(index, name)
        loop.body.visit(body)
        if not body.indexed:
            continue
        everywhere = _Uses(index, name)
        fn.visit(everywhere)
        item = _item_name(name, everywhere.names)
        if item is None:
            return f"no free name for the items of {name} in {where}"
        new_body = loop.body.visit(_ReplaceIndexing(index, name, item))
        if not isinstance(new_body, cst.BaseSuite):
            return f"could not rewrite the loop over {name} in {where}"
        if body.other:  # the index is still needed: `for i, layer in enumerate(self.layers):`
            target: cst.BaseAssignTargetExpression = cst.Tuple(
                [cst.Element(cst.Name(index)), cst.Element(cst.Name(item))], lpar=[], rpar=[])
            iterable: cst.BaseExpression = cst.Call(cst.Name("enumerate"), [cst.Arg(container)])
        else:
            target, iterable = cst.Name(item), container
        changed = loop.with_changes(target=target, iter=iterable, body=new_body)
        return replace(fn, loop, changed)
    names = _Uses(index, "")
    fn.visit(names)
    enumerated = any(isinstance(loop.iter, cst.Call) and dotted_name(loop.iter.func) == "enumerate"
                     and index in {n.value for n in _target_names(loop.target)} for loop in loops)
    if enumerated or (index not in names.names and loops):
        return ALREADY  # the loop iterates its container already
    return f"no `for {index} in range(len(...))` loop indexing its container in {where}"


def _target_names(target: cst.BaseExpression) -> list[cst.Name]:
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _target_names(e.value)]
    return []


# --------------------------------------------------------------------------- namedtuple → NamedTuple


class NamedTupleTransformer(cst.CSTTransformer):
    """`Name = namedtuple("Name", ["a", "b"])` (or `"a b"`, `collections.namedtuple`) at module level →

        class Name(NamedTuple):
            a: torch.Tensor
            b: int

    with the given field annotations and two blank lines around the class. `found` and `reason` as
    for rewrite's target transformers; the caller drops an import of `namedtuple` (or `collections`)
    that nothing else uses (`rewrite_imports.drop_unused_namedtuple`)."""

    def __init__(self, name: str, fields: Sequence[tuple[str, str]], base: str) -> None:
        super().__init__()
        self.name, self.fields, self.base = name, tuple(fields), base
        self.found = False
        self.reason: str | None = None

    def visit_Module(self, node: cst.Module) -> bool:
        return False  # module-level statements only: leave_Module does the work

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body: list[cst.BaseStatement] = list(updated_node.body)
        for i, stmt in enumerate(body):
            if isinstance(stmt, cst.ClassDef) and stmt.name.value == self.name and any(
                    (dotted_name(b.value) or "").rsplit(".", 1)[-1] == "NamedTuple" for b in stmt.bases):
                self.found, self.reason = True, ALREADY
                return updated_node
            call = _namedtuple_call(stmt, self.name) if isinstance(stmt, cst.SimpleStatementLine) else None
            if call is None:
                continue
            assert isinstance(stmt, cst.SimpleStatementLine)
            self.found = True
            names = _field_names(call, self.name)
            if isinstance(names, str) or names != [f for f, _ in self.fields]:
                self.reason = names if isinstance(names, str) else f"the fields of namedtuple '{self.name}' differ"
                return updated_node
            body[i] = self._class(stmt, first=i == 0)
            if i + 1 < len(body):
                body[i + 1] = _spaced(body[i + 1])
            return updated_node.with_changes(body=body)
        return updated_node

    def _class(self, stmt: cst.SimpleStatementLine, first: bool) -> cst.ClassDef:
        fields = [cst.SimpleStatementLine([cst.AnnAssign(cst.Name(f), cst.Annotation(cst.parse_expression(t)))])
                  for f, t in self.fields]
        node = cst.ClassDef(cst.Name(self.name), cst.IndentedBlock(fields, header=stmt.trailing_whitespace),
                            bases=[cst.Arg(cst.parse_expression(self.base))], leading_lines=stmt.leading_lines)
        return node if first else cst.ensure_type(_spaced(node), cst.ClassDef)


def _spaced(stmt: cst.BaseStatement) -> cst.BaseStatement:
    """The statement with (at least) two blank lines before it, as around a class."""
    if not isinstance(stmt, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        return stmt
    lines = list(stmt.leading_lines)
    blank = next((i for i, line in enumerate(lines) if line.comment is not None), len(lines))
    if blank >= 2:
        return stmt
    return stmt.with_changes(leading_lines=[cst.EmptyLine()] * (2 - blank) + lines)


def _namedtuple_call(line: cst.SimpleStatementLine, name: str) -> cst.Call | None:
    """The `namedtuple(...)` call of `name = namedtuple(...)`, else None."""
    if len(line.body) != 1 or not isinstance(line.body[0], cst.Assign):
        return None
    assign = line.body[0]
    if len(assign.targets) != 1 or not (isinstance(assign.targets[0].target, cst.Name)
                                        and assign.targets[0].target.value == name):
        return None
    value = assign.value
    if isinstance(value, cst.Call) and (dotted_name(value.func) or "").rsplit(".", 1)[-1] == "namedtuple":
        return value
    return None


def _field_names(call: cst.Call, name: str) -> list[str] | str:
    """The field names of `namedtuple("Name", [...])`, or why the call is left alone."""
    args = list(call.args)
    if len(args) != 2 or any(a.keyword is not None and a.keyword.value != "field_names" for a in args) \
            or any(a.star for a in args):
        return f"namedtuple '{name}' takes more than a name and its fields (defaults, rename): left alone"
    typename, fields = args[0].value, args[1].value
    if not (isinstance(typename, cst.SimpleString) and typename.evaluated_value == name):
        return f"namedtuple '{name}' is named otherwise inside"
    if isinstance(fields, cst.SimpleString) and isinstance(fields.evaluated_value, str):
        return fields.evaluated_value.replace(",", " ").split()
    if isinstance(fields, (cst.List, cst.Tuple)):
        names = [e.value.evaluated_value for e in fields.elements if isinstance(e.value, cst.SimpleString)]
        if len(names) == len(fields.elements) and all(isinstance(n, str) for n in names):
            return [n for n in names if isinstance(n, str)]
    return f"the fields of namedtuple '{name}' are not literal strings"


_HELPER = '''def {name}(self, index: int, {params}):
    # `self.{attr}[index]({params})`: TorchScript indexes a ModuleList only with constants, so
    # iterate it (the loop is unrolled) and call the item at `index`
    if index < 0:
        index += len(self.{attr})
    for i, item in enumerate(self.{attr}):
        if i == index:
            return item({params})
    raise IndexError("{attr} index out of range")
'''


class _IndexedCalls(cst.CSTVisitor):
    """`self.<attr>[<index>](<args>)` calls (the index not an integer literal); `other` counts any
    other subscript of `self.<attr>` with such an index (which a call helper cannot replace)."""

    def __init__(self, container: str) -> None:
        super().__init__()
        self.container = container
        self.calls: list[cst.Call] = []
        self.other = 0

    def _index(self, node: cst.BaseExpression) -> cst.BaseExpression | None:
        if not (isinstance(node, cst.Subscript) and dotted_name(node.value) == self.container and len(node.slice) == 1):
            return None
        index = node.slice[0].slice
        if not isinstance(index, cst.Index) or isinstance(index.value, cst.Integer) \
                or (isinstance(index.value, cst.UnaryOperation) and isinstance(index.value.expression, cst.Integer)):
            return None
        return index.value

    def visit_Call(self, node: cst.Call) -> None:
        if self._index(node.func) is not None:
            self.calls.append(node)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if self._index(node) is not None and not any(call.func is node for call in self.calls):
            self.other += 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # a nested def is another scope


class _CallHelper(cst.CSTTransformer):
    def __init__(self, calls: list[cst.Call], helper: str) -> None:
        super().__init__()
        self.calls, self.helper = calls, helper

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not any(original_node is call for call in self.calls):
            return updated_node
        subscript = cst.ensure_type(updated_node.func, cst.Subscript)
        index = cst.ensure_type(subscript.slice[0].slice, cst.Index).value
        args = [cst.Arg(index, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if updated_node.args else
                        cst.MaybeSentinel.DEFAULT), *updated_node.args]
        return updated_node.with_changes(func=cst.Attribute(cst.Name("self"), cst.Name(self.helper)), args=args)


def module_list_at(cls: cst.ClassDef, where: str, attr: str) -> cst.ClassDef | str:
    """`self.<attr>[<index>](<args>)` in method `where` of `cls` → `self._<attr>_at(<index>, <args>)`,
    a method added at the end of the class that iterates the ModuleList and calls the item at
    `index` (negative indices count from the end, and one out of range raises IndexError, as
    indexing the ModuleList does in Python). The calls must all pass the same number of plain
    positional arguments."""
    method = where.rsplit(".", 1)[-1]
    body = cls.body
    if not isinstance(body, cst.IndentedBlock):
        return f"{cls.name.value} is a one-line class"
    fn = next((s for s in body.body if isinstance(s, cst.FunctionDef) and s.name.value == method), None)
    if fn is None:
        return f"no method '{method}' in {cls.name.value}"
    found = _IndexedCalls(f"self.{attr}")
    fn.body.visit(found)
    helper = f"_{attr.lstrip('_')}_at"
    defs = {s.name.value: s for s in body.body if isinstance(s, cst.FunctionDef)}
    taken = set(defs)
    if helper in defs and f"enumerate(self.{attr})" not in code(defs[helper]):
        return f"{cls.name.value} already has a method '{helper}' of its own"
    if found.other:
        return f"`self.{attr}[...]` is used other than called in {where}: iterate it with enumerate instead"
    if not found.calls:
        if helper in taken:
            return ALREADY
        return f"no call `self.{attr}[...](...)` with a variable index in {where}"
    arities = {len(call.args) for call in found.calls}
    if len(arities) != 1 or any(a.keyword is not None or a.star for call in found.calls for a in call.args):
        return f"the calls of `self.{attr}[...]` in {where} pass different or keyword arguments"
    (arity,) = arities
    if arity == 0:
        return f"the calls of `self.{attr}[...]` in {where} pass no argument"
    params = ["x"] if arity == 1 else [f"x{n}" for n in range(1, arity + 1)]
    new_fn = fn.visit(_CallHelper(found.calls, helper))
    assert isinstance(new_fn, cst.FunctionDef)
    statements = [new_fn if s is fn else s for s in body.body]
    if helper not in taken:
        text = _HELPER.format(name=helper, attr=attr, params=", ".join(params))
        added = cst.ensure_type(cst.parse_statement(text), cst.FunctionDef)
        added = added.with_changes(leading_lines=[cst.EmptyLine(indent=False)])
        statements.append(added)
    return cls.with_changes(body=body.with_changes(body=statements))


class _CallRewrite(cst.CSTTransformer):
    """Replaces each call of a function's body that `rewrite` gives a new expression for (None: keep
    it); nested defs are left alone, as TorchScript compiles none of them."""

    def __init__(self, rewrite: Callable[[cst.Call], cst.BaseExpression | None]) -> None:
        super().__init__()
        self.rewrite = rewrite
        self.changed = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        new = self.rewrite(updated_node)
        if new is None:
            return updated_node
        self.changed += 1
        return new


def _rewrite_calls(fn: cst.FunctionDef, rewrite: Callable[[cst.Call], cst.BaseExpression | None]
                   ) -> cst.FunctionDef | None:
    """`fn` with `rewrite` applied to the calls of its body, or None when none changed."""
    calls = _CallRewrite(rewrite)
    body = fn.body.visit(calls)
    if not calls.changed:
        return None
    assert isinstance(body, cst.BaseSuite)
    return fn.with_changes(body=body)


def convert_dtype(fn: cst.FunctionDef, where: str, method: str, torch: str) -> cst.FunctionDef | str:
    """Every `<expr>.<method>()` in `fn` → `<expr>.to(<torch>.<method>)`."""
    dtype = cst.parse_expression(f"{torch}.{method}")

    def to_dtype(call: cst.Call) -> cst.BaseExpression | None:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == method and not call.args:
            return call.with_changes(func=func.with_changes(attr=cst.Name("to")), args=[cst.Arg(dtype)])
        return None

    new = _rewrite_calls(fn, to_dtype)
    if new is None:
        return ALREADY if f".to({torch}.{method})" in code(fn) else f"no `.{method}()` call in {where}"
    return new


def _calls_attr(node: cst.CSTNode, callee: str) -> bool:
    found = False

    class _Find(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            nonlocal found
            found = found or dotted_name(call.func) == callee

    node.visit(_Find())
    return found


def guard_branch(fn: cst.FunctionDef, where: str, test: str, attr: str) -> cst.FunctionDef | str:
    """Each `if <test>:` in `fn` whose body calls `self.<attr>(...)` → `if <test> and self.<attr> is
    not None:` (the test parenthesised when it is an `or`, a conditional expression or a lambda)."""
    callee, guard = f"self.{attr}", f"self.{attr} is not None"
    wanted = " ".join(test.split())
    done = False

    class _Guard(cst.CSTTransformer):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is fn

        def leave_If(self, original_node: cst.If, updated_node: cst.If) -> cst.If:
            nonlocal done
            text = " ".join(code(original_node.test).split())
            if not _calls_attr(original_node.body, callee):
                return updated_node
            if text.endswith(f" and {guard}") and " ".join(text[: -len(f" and {guard}")].split()).strip("()") \
                    == wanted.strip("()"):
                done = True
                return updated_node
            if text != wanted:
                return updated_node
            left = updated_node.test
            if isinstance(left, (cst.IfExp, cst.Lambda, cst.NamedExpr)) or (
                    isinstance(left, cst.BooleanOperation) and isinstance(left.operator, cst.Or)):
                left = left.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            done = True
            return updated_node.with_changes(test=cst.BooleanOperation(
                left=left, operator=cst.And(), right=cst.parse_expression(guard)))

    new = cst.ensure_type(fn.visit(_Guard()), cst.FunctionDef)
    if not done:
        return f"no `if {wanted}:` calling `{callee}` in {where}"
    return ALREADY if new.deep_equals(fn) else new


def _as_isinstance(call: cst.Call) -> cst.BaseExpression | None:
    """`<torch>.is_tensor(x)` → `isinstance(x, <torch>.Tensor)`; None for any other call."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == "is_tensor" and len(call.args) == 1
            and call.args[0].keyword is None and not call.args[0].star):
        return None
    module = dotted_name(func.value)
    if module is None:
        return None
    return cst.Call(cst.Name("isinstance"), [
        call.args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
        cst.Arg(cst.parse_expression(f"{module}.Tensor"))], lpar=call.lpar, rpar=call.rpar)


def isinstance_tensor(fn: cst.FunctionDef, where: str) -> cst.FunctionDef | str:
    """Every `<torch>.is_tensor(x)` in `fn` → `isinstance(x, <torch>.Tensor)`."""
    new = _rewrite_calls(fn, _as_isinstance)
    if new is None:
        return ALREADY if "isinstance(" in code(fn) else f"no `torch.is_tensor(...)` call in {where}"
    return new


# activation modules whose forward, with the constructor's defaults, is this torch.nn.functional call
# an activation class -> (the torch.nn.functional function its forward is, the constructor's
# parameters in order: the function takes each under the same name, as the forward passes it)
ACTIVATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ReLU": ("relu", ("inplace",)), "ReLU6": ("relu6", ("inplace",)), "GELU": ("gelu", ("approximate",)),
    "SiLU": ("silu", ("inplace",)), "Sigmoid": ("sigmoid", ()), "Tanh": ("tanh", ()),
    "Mish": ("mish", ("inplace",)), "Hardswish": ("hardswish", ("inplace",)),
    "Hardsigmoid": ("hardsigmoid", ("inplace",)), "ELU": ("elu", ("alpha", "inplace")),
    "LeakyReLU": ("leaky_relu", ("negative_slope", "inplace")), "Softplus": ("softplus", ("beta", "threshold")),
    "SELU": ("selu", ("inplace",)), "CELU": ("celu", ("alpha", "inplace")), "Softsign": ("softsign", ()),
    "Tanhshrink": ("tanhshrink", ()), "Softmax": ("softmax", ("dim",)), "LogSoftmax": ("log_softmax", ("dim",)),
    "Softmin": ("softmin", ("dim",)), "Softshrink": ("softshrink", ("lambd",)),
    "Hardshrink": ("hardshrink", ("lambd",)), "GLU": ("glu", ("dim",)),
    "Threshold": ("threshold", ("threshold", "value", "inplace")),
}


def _as_functional(torch: str) -> Callable[[cst.Call], cst.BaseExpression | None]:
    def rewrite(call: cst.Call) -> cst.BaseExpression | None:
        built = call.func
        if not (isinstance(built, cst.Call) and len(call.args) == 1
                and call.args[0].keyword is None and not call.args[0].star):
            return None
        name = dotted_name(built.func) or ""
        module, _, cls = name.rpartition(".")
        if cls not in ACTIVATIONS or (module and not module.endswith("nn")):
            return None
        function, parameters = ACTIVATIONS[cls]
        named = _by_name(built.args, parameters)
        if named is None:
            return None
        prefix = module or f"{torch}.nn"
        last = call.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        args = [last] + [cst.Arg(value, keyword=cst.Name(key), equal=_EQUAL) for key, value in named]
        return call.with_changes(func=cst.parse_expression(f"{prefix}.functional.{function}"), args=args)
    return rewrite


_EQUAL = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))


def _by_name(args: Sequence[cst.Arg], parameters: tuple[str, ...]) -> list[tuple[str, cst.BaseExpression]] | None:
    """The constructor's arguments under their parameters' names, in the order written; None for
    a call that does not bind them plainly (`*args`, an unknown or repeated name, too many)."""
    named: list[tuple[str, cst.BaseExpression]] = []
    for position, arg in enumerate(args):
        if arg.star:
            return None
        if arg.keyword is None:  # positional ones come first (Python's syntax says so)
            if position >= len(parameters):
                return None
            key = parameters[position]
        else:
            key = arg.keyword.value
        if key not in parameters or any(key == seen for seen, _ in named):
            return None
        named.append((key, arg.value))
    return named


def float_literal(fn: cst.FunctionDef, where: str, callee: str, keyword: str, literal: str) -> cst.FunctionDef | str:
    """Every `<callee>(..., <keyword>=<literal>)` in `fn` → `<keyword>=<literal>.0` (the callee as
    written, the literal an int)."""
    wanted = " ".join(callee.split())

    def widened(call: cst.Call) -> cst.BaseExpression | None:
        if " ".join(code(call.func).split()) != wanted:
            return None
        args = list(call.args)
        for i, arg in enumerate(args):
            if arg.keyword is not None and arg.keyword.value == keyword and _int_text(arg.value) == literal:
                args[i] = arg.with_changes(value=_float_of(arg.value))
                return call.with_changes(args=args)
        return None

    new = _rewrite_calls(fn, widened)
    if new is None:
        done = f"{keyword}={literal}.0" in "".join(code(fn).split())
        return ALREADY if done else f"no call of {wanted} passing `{keyword}={literal}` in {where}"
    return new


def _int_text(value: cst.BaseExpression) -> str | None:
    """The text of an int literal (`0`, `-1`, `+2`), else None."""
    if isinstance(value, cst.Integer) and value.value.isdigit():
        return value.value
    if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, (cst.Minus, cst.Plus)):
        inner = _int_text(value.expression)
        if inner is not None:
            return ("-" if isinstance(value.operator, cst.Minus) else "+") + inner
    return None


def _float_of(value: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(value, cst.Integer):
        return cst.Float(f"{value.value}.0", lpar=value.lpar, rpar=value.rpar)
    assert isinstance(value, cst.UnaryOperation)
    return value.with_changes(expression=_float_of(value.expression))


def functional_activation(fn: cst.FunctionDef, where: str, torch: str) -> cst.FunctionDef | str:
    """Every `<nn>.ReLU()(x)` (an activation built and called at once) in `fn` → `<nn>.functional.relu(x)`,
    the constructor's arguments passed by name: `nn.Softmax(dim=1)(x)` → `nn.functional.softmax(x, dim=1)`."""
    new = _rewrite_calls(fn, _as_functional(torch))
    if new is None:
        return ALREADY if ".functional." in code(fn) else f"no activation module built and called in {where}"
    return new


def no_grad_block(fn: cst.FunctionDef, where: str, decorator: str) -> cst.FunctionDef | str:
    """Drop `@<decorator>` from `fn` and put its body (a leading docstring stays first) under
    `with <decorator's callable>():`."""
    wanted = " ".join(decorator.split())
    kept = [d for d in fn.decorators if " ".join(code(d.decorator).split()) != wanted]
    if len(kept) == len(fn.decorators):
        present = fn.body.body if isinstance(fn.body, cst.IndentedBlock) else ()
        if any(isinstance(s, cst.With) and "no_grad" in code(s).split(":", 1)[0] for s in present):
            return ALREADY
        return f"no `@{wanted}` on {where}"
    body = fn.body
    if not isinstance(body, cst.IndentedBlock):
        return f"{where} is a one-line def"
    statements = list(body.body)
    docstring: list[cst.BaseStatement] = []
    if statements and isinstance(statements[0], cst.SimpleStatementLine) and len(statements[0].body) == 1 \
            and isinstance(statements[0].body[0], cst.Expr) \
            and isinstance(statements[0].body[0].value, (cst.SimpleString, cst.ConcatenatedString)):
        docstring, statements = statements[:1], statements[1:]
    if not statements:
        return f"{where} has no body but its docstring"
    context = cst.parse_expression(wanted if wanted.endswith(")") else f"{wanted}()")
    block = cst.With(items=[cst.WithItem(context)], body=cst.IndentedBlock(body=statements))
    return fn.with_changes(decorators=kept, body=body.with_changes(body=[*docstring, block]))
