"""The only writer: apply annotation Edits to a source text with libcst.

Edits are addressed by qualname and symbol, never by line. Everything outside the
edited nodes is kept byte-for-byte (comments, quotes, blank lines, tabs, CRLF). An
edit whose target is missing, or whose annotation is already there, is reported in
`skipped` with a one-line reason. Imports are added only for the edits actually
applied, only for names the annotation reads and the file does not bind already, through
LibCST's AddImportsVisitor (new lines at the end of the first import block, after a
docstring / `from __future__`), with names merged into an existing `from m import ...`
kept in sorted position (see rewrite_imports.AddImportsTransformer).

Speed: the text is parsed once (or taken from `rewrite_text`'s cache: the loop's next call edits
the text this one wrote), each edit walks only the top-level statement that can hold its target,
the import visitors get only the statements they read, and the output is rebuilt from the code of
the statements no edit replaced plus that of the new ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ast

import libcst as cst

from tsannotate.records import (
    AnnotateAttribute,
    AnnotateEmpty,
    AnnotateLocal,
    AnnotateParam,
    AnnotateReturn,
    Annotation,
    Decorate,
    Edit,
    ConvertDtype,
    EnumerateLoop,
    FloatLiteral,
    FunctionalActivation,
    GuardBranch,
    IsinstanceTensor,
    NoGradBlock,
    ImportName,
    NamedTupleClass,
    WrapValue,
)
from tsannotate.rewrite_edits import (
    ALREADY,
    annotate_attribute,
    annotate_empty,
    annotate_local,
    annotate_param,
    annotate_return,
    decorate,
)
from tsannotate.rewrite_imports import add_imports, drop_unused_namedtuple
from tsannotate.rewrite_refactors import (
    NamedTupleTransformer,
    convert_dtype,
    enumerate_loop,
    float_literal,
    functional_activation,
    guard_branch,
    isinstance_tensor,
    no_grad_block,
    module_list_at,
    wrap_value,
)
from tsannotate.rewrite_text import remember, source
from tsannotate.source_values import ModuleImports, SourceSyntaxError, module_imports, root_names

__all__ = ["ALREADY", "RewriteError", "RewriteResult", "SourceSyntaxError", "apply_edits", "prepare"]


class RewriteError(RuntimeError):
    """Internal error: the rewritten text would not parse (a bug in tsannotate, not the user's)."""


@dataclass(frozen=True)
class RewriteResult:
    text: str
    applied: tuple[Edit, ...]
    skipped: tuple[tuple[Edit, str], ...]  # edit + one-line reason

    @property
    def changed(self) -> bool:
        return bool(self.applied)


FunctionRewrite = Callable[[cst.FunctionDef], "cst.FunctionDef | str"]
ClassRewrite = Callable[[cst.ClassDef], "cst.ClassDef | str"]


class _TargetTransformer(cst.CSTTransformer):
    """Tracks the class path; functions are never entered (nested defs are not addressable)."""

    def __init__(self, qualname: str) -> None:
        super().__init__()
        self.qualname = qualname
        self.found = False
        self.reason: str | None = None  # why the found target was left alone
        self._class_path: list[str] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._class_path.append(node.name.value)
        return True

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        is_target = ".".join(self._class_path) == self.qualname
        self._class_path.pop()
        if is_target and not self.found:
            self.found = True
            return self.rewrite_class(updated_node)
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        qualname = ".".join([*self._class_path, updated_node.name.value])
        if qualname == self.qualname and not self.found:
            self.found = True
            return self.rewrite_function(updated_node)
        return updated_node

    def rewrite_class(self, node: cst.ClassDef) -> cst.ClassDef:
        return node

    def rewrite_function(self, node: cst.FunctionDef) -> cst.FunctionDef:
        return node


class AnnotateFunctionTransformer(_TargetTransformer):
    """Rewrites the first def named `qualname` ("Net.forward", "Outer.Inner.f", "helper")."""

    def __init__(self, qualname: str, rewrite: FunctionRewrite) -> None:
        super().__init__(qualname)
        self._rewrite = rewrite

    def rewrite_function(self, node: cst.FunctionDef) -> cst.FunctionDef:
        result = self._rewrite(node)
        if isinstance(result, str):
            self.reason = result
            return node
        return result


class AnnotateClassTransformer(_TargetTransformer):
    """Rewrites the first class named `qualname` ("Net", "Outer.Inner")."""

    def __init__(self, qualname: str, rewrite: ClassRewrite) -> None:
        super().__init__(qualname)
        self._rewrite = rewrite

    def rewrite_class(self, node: cst.ClassDef) -> cst.ClassDef:
        result = self._rewrite(node)
        if isinstance(result, str):
            self.reason = result
            return node
        return result


def _transformer(edit: Edit, ann: cst.BaseExpression, torch: str, returns: cst.BaseExpression | None = None
                 ) -> tuple[_TargetTransformer | NamedTupleTransformer, str]:
    """The transformer for `edit`, and the reason to give if its target is not found."""
    if isinstance(edit, NamedTupleClass):
        return NamedTupleTransformer(edit.name, edit.fields, edit.base), f"no namedtuple '{edit.name}'"
    if isinstance(edit, Decorate):
        return (AnnotateFunctionTransformer(edit.function, lambda f: decorate(f, ann, returns)),
                f"no function '{edit.function}'")
    if isinstance(edit, WrapValue):
        wrap_where, target = edit.function, edit.target
        return (AnnotateFunctionTransformer(wrap_where, lambda f: wrap_value(f, wrap_where, target, ann)),
                f"no function '{wrap_where}'")
    if isinstance(edit, NoGradBlock):
        grad_where, grad_decorator = edit.function, edit.decorator
        return (AnnotateFunctionTransformer(grad_where, lambda f: no_grad_block(f, grad_where, grad_decorator)),
                f"no function '{grad_where}'")
    if isinstance(edit, FloatLiteral):
        lit_where, callee, keyword, literal = edit.function, edit.callee, edit.keyword, edit.literal
        return (AnnotateFunctionTransformer(lit_where, lambda f: float_literal(f, lit_where, callee, keyword, literal)),
                f"no function '{lit_where}'")
    if isinstance(edit, FunctionalActivation):
        act_where = edit.function
        return (AnnotateFunctionTransformer(act_where, lambda f: functional_activation(f, act_where, torch)),
                f"no function '{act_where}'")
    if isinstance(edit, IsinstanceTensor):
        is_where = edit.function
        return (AnnotateFunctionTransformer(is_where, lambda f: isinstance_tensor(f, is_where)),
                f"no function '{is_where}'")
    if isinstance(edit, GuardBranch):
        guard_where, test, attr_name = edit.function, edit.test, edit.attr
        return (AnnotateFunctionTransformer(guard_where, lambda f: guard_branch(f, guard_where, test, attr_name)),
                f"no function '{guard_where}'")
    if isinstance(edit, ConvertDtype):
        dtype_where, method = edit.function, edit.method
        return (AnnotateFunctionTransformer(dtype_where, lambda f: convert_dtype(f, dtype_where, method, torch)),
                f"no function '{dtype_where}'")
    if isinstance(edit, EnumerateLoop):
        loop_where, index, attr = edit.function, edit.index, edit.attr
        if edit.class_name and attr:
            return (AnnotateClassTransformer(edit.class_name, lambda c: _index_module_list(c, loop_where, index, attr)),
                    f"no class '{edit.class_name}'")
        return (AnnotateFunctionTransformer(loop_where, lambda f: enumerate_loop(f, loop_where, index)),
                f"no function '{loop_where}'")
    if isinstance(edit, AnnotateAttribute):
        attr, cls_ann = edit.attr, ann
        return (
            AnnotateClassTransformer(edit.class_name, lambda c: annotate_attribute(c, attr, cls_ann)),
            f"no class '{edit.class_name}'",
        )
    where = edit.function
    rewrite: FunctionRewrite
    if isinstance(edit, AnnotateParam):
        param = edit.param
        rewrite = lambda f: annotate_param(f, where, param, ann)  # noqa: E731
    elif isinstance(edit, AnnotateReturn):
        rewrite = lambda f: annotate_return(f, ann)  # noqa: E731
    elif isinstance(edit, AnnotateLocal):
        local = edit.name
        rewrite = lambda f: annotate_local(f, where, local, ann)  # noqa: E731
    else:
        empty, key = edit.name, edit.key
        rewrite = lambda f: annotate_empty(f, where, empty, ann, key, torch)  # noqa: E731
    return AnnotateFunctionTransformer(where, rewrite), f"no function '{where}'"


def _index_module_list(cls: cst.ClassDef, where: str, index: str, attr: str) -> cst.ClassDef | str:
    """The loop over the ModuleList when `for index in range(len(self.<attr>))` holds the
    indexing; else the calls through a helper method (`module_list_at`)."""
    method = where.rsplit(".", 1)[-1]
    body = cls.body
    fn = next((s for s in body.body if isinstance(s, cst.FunctionDef) and s.name.value == method), None) \
        if isinstance(body, cst.IndentedBlock) else None
    looped: cst.FunctionDef | str = ""
    if fn is not None and index.isidentifier():
        looped = enumerate_loop(fn, where, index)
        if not isinstance(looped, str):
            assert isinstance(body, cst.IndentedBlock)
            return cls.with_changes(body=body.with_changes(body=[looped if s is fn else s for s in body.body]))
    helped = module_list_at(cls, where, attr)
    return ALREADY if isinstance(helped, str) and looped == ALREADY else helped


def _needed(name: ImportName, ann: cst.BaseExpression, imports: ModuleImports) -> bool:
    """Whether the annotation reads the name this import binds and the file does not bind it yet."""
    binds = name.name or name.module.split(".")[0]
    if binds not in root_names(ann) or binds in imports.bindings:
        return False
    return not (name.name and name.module in imports.star_modules)


def _expressions(edit: Edit) -> tuple[cst.BaseExpression, cst.BaseExpression | None]:
    """The edit's expression (annotation, or decorator) and a Decorate's return annotation."""
    if isinstance(edit, Decorate):
        returns = cst.parse_expression(edit.returns.text) if edit.returns else None
        return cst.parse_expression(edit.decorator), returns
    if isinstance(edit, WrapValue):
        return cst.parse_expression(edit.wrapper), None
    if isinstance(edit, EnumerateLoop):
        return cst.parse_expression(edit.index), None
    if isinstance(edit, ConvertDtype):
        return cst.parse_expression(f"torch.{edit.method}"), None
    if isinstance(edit, GuardBranch):
        return cst.parse_expression(f"self.{edit.attr}"), None
    if isinstance(edit, IsinstanceTensor):
        return cst.parse_expression("isinstance"), None
    if isinstance(edit, FunctionalActivation):
        return cst.parse_expression("functional"), None
    if isinstance(edit, FloatLiteral):
        return cst.parse_expression(f"{edit.literal}.0"), None
    if isinstance(edit, NoGradBlock):
        return cst.parse_expression(edit.decorator), None
    if isinstance(edit, NamedTupleClass):  # everything the class reads, for its imports
        return cst.parse_expression(f"({', '.join([edit.base, *(t for _, t in edit.fields)])},)"), None
    return cst.parse_expression(edit.annotation.text), None


def _texts(edit: Edit) -> str:
    if isinstance(edit, WrapValue):
        return edit.wrapper
    if isinstance(edit, ConvertDtype):
        return f".to(torch.{edit.method})"
    if isinstance(edit, GuardBranch):
        return f"and self.{edit.attr} is not None"
    if isinstance(edit, IsinstanceTensor):
        return "isinstance(x, torch.Tensor)"
    if isinstance(edit, FunctionalActivation):
        return "torch.nn.functional.<activation>(x)"
    if isinstance(edit, FloatLiteral):
        return f"{edit.keyword}={edit.literal}.0"
    if isinstance(edit, NoGradBlock):
        return f"with {edit.decorator}:"
    if isinstance(edit, EnumerateLoop):
        return edit.index
    if isinstance(edit, NamedTupleClass):
        return f"class {edit.name}({edit.base})"
    if isinstance(edit, Decorate):
        return edit.decorator + (f" -> {edit.returns.text}" if edit.returns else "")
    return edit.annotation.text


def _annotations(edit: Edit, ann: cst.BaseExpression, returns: cst.BaseExpression | None
                 ) -> list[tuple[Annotation, cst.BaseExpression]]:
    """The annotations an applied edit wrote, with their parsed expressions (for imports)."""
    if isinstance(edit, Decorate):
        return [(edit.returns, returns)] if edit.returns is not None and returns is not None else []
    if isinstance(edit, (WrapValue, EnumerateLoop, ConvertDtype, GuardBranch, IsinstanceTensor,
                         FunctionalActivation, NoGradBlock, FloatLiteral)):
        return []
    if isinstance(edit, NamedTupleClass):
        return [(Annotation(edit.base, edit.imports), ann)]
    return [(edit.annotation, ann)]


def _visit(module: cst.Module, transformer: _TargetTransformer | NamedTupleTransformer) -> cst.Module:
    """`module.visit(transformer)`, walking only the top-level statements that can hold its target.

    A target transformer rewrites the first class or def its qualname addresses: a simple
    statement (an import, an assignment) holds no class or def, and neither does a class or def
    named other than the qualname's first part. Skipping those gives the module a whole visit
    gives, without walking the whole file once per edit (quadratic in the file's size: on a
    1500-line model with 91 edits, 1.8 s of the edits' 10.6 s at load 4)."""
    if not isinstance(transformer, _TargetTransformer):
        return module.visit(transformer)  # a module-level rewrite, and its imports
    top = transformer.qualname.split(".", 1)[0]
    body = list(module.body)
    for i, stmt in enumerate(body):
        if isinstance(stmt, cst.SimpleStatementLine) or (
                isinstance(stmt, (cst.ClassDef, cst.FunctionDef)) and stmt.name.value != top):
            continue
        new = stmt.visit(transformer)
        if not transformer.found:
            continue  # the same statement (a new node: keep the old one, its code is known)
        if not isinstance(new, cst.BaseStatement):
            raise RewriteError(f"a rewrite of {transformer.qualname} removed a statement")
        body[i] = new
        break  # only the first target is rewritten
    return module.with_changes(body=body)


def apply_edits(text: str, edits: Sequence[Edit]) -> RewriteResult:
    """Apply `edits` in order to `text`; raises SourceSyntaxError if `text` does not parse."""
    parsed = source(text)
    module = parsed.module
    imports = module_imports(module)
    style = imports.style()
    torch_bound = bool(imports.local_names("torch"))
    applied: list[Edit] = []
    skipped: list[tuple[Edit, str]] = []
    needed: list[ImportName] = []
    for edit in edits:
        try:
            ann, returns = _expressions(edit)
        except cst.ParserSyntaxError:
            skipped.append((edit, f"annotation {_texts(edit)!r} is not a Python expression"))
            continue
        transformer, missing = _transformer(edit, ann, style.torch_alias, returns)
        updated = _visit(module, transformer)
        if not transformer.found:
            skipped.append((edit, missing))
        elif transformer.reason is not None:
            skipped.append((edit, transformer.reason))
        else:
            module = updated
            if isinstance(edit, NamedTupleClass):
                module = drop_unused_namedtuple(module, parsed)
            applied.append(edit)
            for annotation, expr in _annotations(edit, ann, returns):
                needed.extend(i for i in annotation.imports if _needed(i, expr, imports))
            if isinstance(edit, (AnnotateEmpty, Decorate, ConvertDtype)) and not torch_bound:
                needed.append(ImportName("torch"))
            elif isinstance(edit, FunctionalActivation) and not torch_bound \
                    and f"{style.torch_alias}.nn.functional." in module.code:  # a bare `ReLU()(x)` (rare: one render)
                needed.append(ImportName("torch"))
    if not applied:
        return RewriteResult(text, (), tuple(skipped))
    if needed:
        module = add_imports(module, needed, parsed)
    out = parsed.render(module)
    _check_parses(out, "".join(parsed.code(stmt) for stmt in parsed.unchecked(module)))
    remember(parsed.successor(out, module))
    return RewriteResult(out, tuple(applied), tuple(skipped))


def prepare(text: str) -> None:
    """Parse `text` into the cache `apply_edits` reads (rewrite_text), so that editing it later
    starts at once: the loop does this on its thread while the worker scripts the text. A text
    that does not parse is left for `apply_edits` to report."""
    try:
        source(text)
    except SourceSyntaxError:
        pass


def _check_parses(text: str, new: str) -> None:
    """Raise RewriteError unless `text` parses, where `new` is the code of the top-level statements
    that were not in the parsed text (the rest parsed, and each top-level statement parses on its
    own: its code is whole lines at indentation 0). Python's own parser first (a tenth of LibCST's
    time), then LibCST's on the whole text when Python's says no (newer syntax than this
    Python's, which LibCST reads)."""
    try:
        compile(new, "<rewritten>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        return
    except (SyntaxError, ValueError):
        pass
    try:
        cst.parse_module(text)
    except cst.ParserSyntaxError as err:
        raise RewriteError(f"rewritten source does not parse: {err.message}") from err
