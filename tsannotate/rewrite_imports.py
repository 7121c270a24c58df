"""Imports for `rewrite.apply_edits`: add the ones the applied edits need, drop `namedtuple` (and
`collections`) once a namedtuple became a class, through LibCST's codemod visitors, each run on
only the top-level statements it can change or read.

Both visitors copy and walk the whole module they are given (and the removal first analyses its
scopes): on a 1500-line model, 4 s of a 4.4 s `apply_edits`. The addition reads and changes only the
first block of imports and the statement after it; the removal reads only the statements that can
bind, read or export the two names. Each gets a module of those statements (with a stand-in for a
large statement whose body it never reads) and gives the output it gives on the whole module.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.codemod.visitors._add_imports import _skip_first

from tsannotate.records import ImportName
from tsannotate.rewrite_text import Source

# --------------------------------------------------------------------------- adding


class AddImportsTransformer(AddImportsVisitor):
    """LibCST's AddImportsVisitor, but names merged into an existing `from m import ...` go
    in sorted position (`from typing import List` + Optional -> `List, Optional`) instead of
    in front of the existing names; placement of new import lines is unchanged."""

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        result = super().leave_ImportFrom(original_node, updated_node)
        old, merged = updated_node.names, result.names
        if isinstance(old, cst.ImportStar) or isinstance(merged, cst.ImportStar) or not old:
            return result
        added = len(merged) - len(old)
        if added <= 0 or any(a is not b for a, b in zip(merged[added:], old)):
            return result  # not the prepend we know how to re-place
        names = list(old)
        separator = _separator(names[0].comma) if len(names) > 1 else cst.MaybeSentinel.DEFAULT
        for alias in merged[:added]:
            key = _alias_name(alias)
            index = next((i for i, a in enumerate(names) if _alias_name(a) > key), len(names))
            if index == len(names):  # new last name: takes over the trailing comma, if any
                names[-1], alias = names[-1].with_changes(comma=separator), alias.with_changes(comma=names[-1].comma)
            else:
                alias = alias.with_changes(comma=separator)
            names.insert(index, alias)
        return result.with_changes(names=names)


def _separator(comma: cst.Comma | cst.MaybeSentinel) -> cst.Comma | cst.MaybeSentinel:
    """The comma between two names, without any comment that followed it."""
    if isinstance(comma, cst.Comma) and isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace):
        return comma.with_changes(
            whitespace_after=comma.whitespace_after.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=())
        )
    return comma


def _alias_name(alias: cst.ImportAlias) -> str:
    return cst.Module([]).code_for_node(alias.name)


def _import_line(stmt: cst.BaseStatement) -> bool:
    """A line of one import: what AddImportsVisitor takes for part of the first import block."""
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 \
        and isinstance(stmt.body[0], (cst.Import, cst.ImportFrom))


Statement = cst.SimpleStatementLine | cst.BaseCompoundStatement  # what a module's body holds


def _stand_in(stmt: Statement) -> cst.SimpleStatementLine:
    """`pass` with the statement's leading lines: all AddImportsVisitor reads of a statement that is
    not an import line, a docstring or a `__strict__` flag (and all it may change: a blank line)."""
    return cst.SimpleStatementLine([cst.Pass()], leading_lines=stmt.leading_lines)


def add_imports(module: cst.Module, needed: Sequence[ImportName], source: Source) -> cst.Module:
    """`AddImportsTransformer` with `needed` over `module`, run on the module's first statements:
    those up to the first one (after a docstring) that is not an import line."""
    context = CodemodContext()
    for name in dict.fromkeys(needed):
        AddImportsVisitor.add_needed_import(context, name.module, name.name or None)
    body = list(module.body)
    start = 1 if _skip_first(module) else 0
    block_end = next((i for i in range(start, len(body)) if not _import_line(body[i])), len(body))
    head = body[:block_end + 1]
    if block_end < len(body):
        head[block_end] = _stand_in(body[block_end])
    out = list(AddImportsTransformer(context).transform_module(module.with_changes(body=head)).body)
    if block_end == len(body):
        return module.with_changes(body=out)
    after = out.pop()  # the stand-in, maybe with a blank line put before it
    first = body[block_end]
    if source.code(after) != source.code(head[block_end]):
        first = first.with_changes(leading_lines=after.leading_lines)
    return module.with_changes(body=[*out, first, *body[block_end + 1:]])


# --------------------------------------------------------------------------- removing

_COLLECTIONS = re.compile(r"\b(?:namedtuple|collections)\b")  # matches no newline: see Source.may_match
_IMPORT = re.compile(r"\bimport\b")
_UNUSED = [("collections", "namedtuple", None), ("collections", None, None)]
Unused = dict[cst.ImportAlias, cst.Import | cst.ImportFrom]


def drop_unused_namedtuple(module: cst.Module, source: Source) -> cst.Module:
    """`RemoveImportsVisitor` for `from collections import namedtuple` and `import collections`
    where nothing uses them, given only the statements that can bind, read or export either name
    (their code has it: a name read in a def is in the def's code, as is the `global` that would
    make it the module's) and the module-level statements other than defs and classes (the imports
    that make a call `typing.cast`, whose string argument names a type). Scope analysis over those
    gives the accesses of the two names it gives over the whole module, in the same order; most
    often the code alone tells (`_unused_at_sight`) and no analysis runs."""
    body = list(module.body)
    read = [stmt for stmt in body if not isinstance(stmt, (cst.FunctionDef, cst.ClassDef))
            or source.may_match(stmt, _COLLECTIONS)]
    importing = [stmt for stmt in read if _COLLECTIONS.search(source.code(stmt)) and _IMPORT.search(source.code(stmt))]
    if not importing:
        return module  # nothing imports either name
    changed: dict[int, list[cst.BaseStatement]] = {}
    unused = _unused_at_sight(read, source)
    if unused is None:
        reduced = module.with_changes(body=read)
        wrapper = cst.MetadataWrapper(reduced, unsafe_skip_copy=True)
        remover = RemoveImportsVisitor(CodemodContext(wrapper=wrapper), _UNUSED)
        with remover.resolve(wrapper):
            remover.visit_Module(reduced)  # finds the unused imports
            for stmt in importing:
                changed[id(stmt)] = _visit_statement(stmt, remover, source)
    elif unused:
        remover = RemoveImportsVisitor(CodemodContext(), _UNUSED)
        remover._unused_imports = unused  # what its visit_Module would find
        for stmt in importing:
            changed[id(stmt)] = _visit_statement(stmt, remover, source)
    out: list[cst.BaseStatement] = []
    for stmt in body:
        out.extend(changed.get(id(stmt), [stmt]))
    return module.with_changes(body=out)


def _unused_at_sight(read: Sequence[cst.BaseStatement], source: Source) -> Unused | None:
    """The imports of the two names that the scope analysis would find unused, when the code tells:
    the imports are all in module-level lines of imports, and the name bound is nowhere else in the
    code but after a dot (so not read, exported or in a string annotation: unused), or `collections`
    is read as `collections.x` in a module-level line below its first import (used); else None."""
    lines: dict[int, list[cst.Import | cst.ImportFrom]] = {}  # index in `read` -> the line's imports
    others: list[tuple[int, cst.BaseStatement]] = []
    for i, stmt in enumerate(read):
        imports = [small for small in stmt.body if isinstance(small, (cst.Import, cst.ImportFrom))] \
            if isinstance(stmt, cst.SimpleStatementLine) else []
        if isinstance(stmt, cst.SimpleStatementLine) and len(imports) == len(stmt.body):
            lines[i] = imports
        else:
            others.append((i, stmt))
    if any(_IMPORT.search(source.code(stmt)) and _COLLECTIONS.search(source.code(stmt)) for _, stmt in others):
        return None  # an import in a def, a class, a block or a line with other statements
    unused: Unused = {}
    for word in ("namedtuple", "collections"):
        found = [(i, alias, node) for i, imports in lines.items() for node in imports
                 for alias in _candidates(node, word)]
        if not found:
            continue
        pattern = re.compile(rf"(?<![.\w]){word}(?!\w)")
        if not any(pattern.search(source.code(stmt)) for _, stmt in others):
            unused.update((alias, node) for _, alias, node in found)
        elif not (word == "collections" and any(
                i > found[0][0] and isinstance(stmt, cst.SimpleStatementLine) and _reads_attribute_of(stmt, word)
                for i, stmt in others)):
            return None
    return unused


def _candidates(node: cst.Import | cst.ImportFrom, word: str) -> list[cst.ImportAlias]:
    """The names `node` imports that `_UNUSED` lists and that bind `word`."""
    if isinstance(node, cst.Import):
        return [a for a in node.names if word == "collections" and a.asname is None and a.evaluated_name == word]
    if isinstance(node.names, cst.ImportStar) or node.relative or node.module is None \
            or cst.Module([]).code_for_node(node.module) != "collections":
        return []
    return [a for a in node.names if word == "namedtuple" and a.asname is None and a.evaluated_name == word]


class _AttributeReads(cst.CSTVisitor):
    """Whether `name.x` is read at the module's own scope (not in a lambda or a comprehension)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.found = False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if isinstance(node.value, cst.Name) and node.value.value == self.name:
            self.found = True
        return not self.found

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return False

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return False

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return False

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return False


def _reads_attribute_of(stmt: cst.SimpleStatementLine, name: str) -> bool:
    visitor = _AttributeReads(name)
    stmt.visit(visitor)
    return visitor.found


def _visit_statement(stmt: cst.BaseStatement, visitor: cst.CSTTransformer, source: Source) -> list[cst.BaseStatement]:
    """What a module's body gets for `stmt` after `visitor` (LibCST's `visit_body_iterable`):
    nothing for a removed statement, or a line whose every part was removed; else the new statement,
    or `stmt` itself when its code did not change."""
    new = stmt.visit(visitor)
    if isinstance(new, cst.RemovalSentinel):
        return []
    statements = list(new) if isinstance(new, cst.FlattenSentinel) else [new]
    kept = [s for s in statements if stmt._is_removable() or not s._is_removable()]
    if len(kept) == 1 and source.code(kept[0]) == source.code(stmt):
        return [stmt]
    return kept


__all__ = ["AddImportsTransformer", "add_imports", "drop_unused_namedtuple"]
