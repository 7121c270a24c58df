"""Parsed texts for `rewrite.apply_edits`: a small cache of parses, and the module's code rebuilt
from its top-level statements' code, each statement rendered once.

The fix loop calls `apply_edits` on the text the previous call wrote (and on one text many
times, to shadow held edits): `source` gives the module a previous call parsed or wrote, instead
of parsing again (0.24 s for a 1500-line model). LibCST nodes are immutable and edits build new
nodes, so a cached tree is never changed by the call that reads it.

A module's code is its header, each top-level statement's code and its footer, each statement
rendered the same wherever it stands at the top level: `Source.render` reuses the code of every
statement an edit did not replace (the same node object) and renders only the new ones.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import libcst as cst

from tsannotate.source_values import parse_module

_CACHED = 4  # texts kept: the fix loop's current text and the one an attempt wrote, with room


class Source:
    """A text, its module, and the code of the module's top-level statements (rendered on demand)."""

    def __init__(self, text: str, module: cst.Module) -> None:
        self.text = text
        self.module = module
        self._original = {id(stmt) for stmt in module.body}
        self._parses: dict[int, cst.BaseStatement] = {id(stmt): stmt for stmt in module.body}  # known to parse
        self._codes: dict[int, tuple[cst.BaseStatement, str]] = {}  # id -> (statement kept alive, code)
        self._in_defs: dict[str, bool] = {}  # pattern -> whether it matches in the text's defs or classes

    def code(self, stmt: cst.BaseStatement) -> str:
        """The code of a top-level statement of `self.module`, or of a module edited from it."""
        known = self._codes.get(id(stmt))
        if known is not None and known[0] is stmt:
            return known[1]
        text = self.module.code_for_node(stmt)
        self._codes[id(stmt)] = (stmt, text)
        return text

    def render(self, module: cst.Module) -> str:
        """`module.code`, for `self.module` or a module edited from it (same header, footer and layout)."""
        if not module.has_trailing_newline or not module.body:
            return module.code  # the last token is dropped: rare, let LibCST do it
        parts = [module.code_for_node(line) for line in module.header]
        parts.extend(self.code(stmt) for stmt in module.body)
        parts.extend(module.code_for_node(line) for line in module.footer)
        return "".join(parts)

    def unchecked(self, module: cst.Module) -> list[cst.BaseStatement]:
        """The statements of `module` (edited from `self.module`) not known to parse: the new ones."""
        return [stmt for stmt in module.body if self._parses.get(id(stmt)) is not stmt]

    def successor(self, text: str, module: cst.Module) -> Source:
        """The Source of `text`, rendered from `module` by `self.render`: the codes carry over."""
        after = Source(text, module)
        for stmt in module.body:
            known = self._codes.get(id(stmt))
            if known is not None and known[0] is stmt:
                after._codes[id(stmt)] = known
        return after

    def may_match(self, stmt: cst.BaseStatement, pattern: re.Pattern[str]) -> bool:
        """Whether `pattern` may match the statement's code: without rendering an unchanged def or
        class when nothing in the text's defs and classes matches (the text's matches all fall in
        the other statements, the header and the footer)."""
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) and id(stmt) in self._original:
            key = pattern.pattern
            if key not in self._in_defs:
                self._in_defs[key] = self._matches_in_defs(pattern)
            if not self._in_defs[key]:
                return False
        return pattern.search(self.code(stmt)) is not None

    def _matches_in_defs(self, pattern: re.Pattern[str]) -> bool:
        """Whether the text has matches outside its header, footer and statements other than defs
        and classes (a match never spans two statements: each ends with a newline)."""
        module = self.module
        outside = sum(len(pattern.findall(module.code_for_node(line))) for line in (*module.header, *module.footer))
        for stmt in module.body:
            if not isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                outside += len(pattern.findall(self.code(stmt)))
        return len(pattern.findall(self.text)) != outside


_SOURCES: OrderedDict[str, Source] = OrderedDict()
_LOCK = threading.Lock()  # the loop runs some steps on a thread: keep the cache whole if one edits too
# one parse at a time: a text the loop's thread is parsing ahead (`rewrite.prepare`) is waited
# for, not parsed twice (two threads share one core's worth of Python anyway)
_PARSING = threading.Lock()


def source(text: str) -> Source:
    """The parsed `text` (raises SourceSyntaxError), from the cache when a call parsed or wrote it.
    A Source may serve two threads at once: its memos only ever get the same value for a key."""
    found = _cached(text)
    if found is None:
        with _PARSING:
            found = _cached(text) or Source(text, parse_module(text))
    remember(found)
    return found


def _cached(text: str) -> Source | None:
    with _LOCK:
        return _SOURCES.get(text)


def remember(parsed: Source) -> None:
    with _LOCK:
        _SOURCES[parsed.text] = parsed
        _SOURCES.move_to_end(parsed.text)
        while len(_SOURCES) > _CACHED:
            _SOURCES.popitem(last=False)


def forget() -> None:
    """Empty the cache (tests compare a cached parse with a fresh one)."""
    with _LOCK:
        _SOURCES.clear()
