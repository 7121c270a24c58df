"""Low-level reading of TorchScript error text: source frames, schemas, operands.

Standard library only.  `jit_messages` builds Diagnostics on top of these pieces.

A frame is a ``File "path", line N[, in fn]`` header followed by source lines, some
of them underlined with ``~``; the last underline ends in ``<--- HERE``.  Line N is
the first underlined line; source lines keep their original indentation, so the
column of the first ``~`` is the column in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tsannotate.records import Location

FILE_RE = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<fn>\S+))?\s*$')
CHAIN_RE = re.compile(r"^'(?P<callee>.+)' is being compiled since it was called from '(?P<caller>.+)'\s*$")
_TILDE_RE = re.compile(r"^(?P<lead>\s*)(?P<tilde>~+)(?:\s*<--- HERE)?\s*$")
SCHEMA_RE = re.compile(r"^\s*(?P<name>[\w:.]+)\((?P<params>.*)\)\s*->\s*.*:\s*$")
IDENT_RE = re.compile(r"^[A-Za-z_]\w*$")
_ALIAS_RE = re.compile(r"\((?:[a-z]!?|[a-z]!?\s*->\s*(?:\*|[a-z]))\)")
_BROADCAST_RE = re.compile(r"^(?P<inner>\w+)\[\d+\]\??$")
_SCALARS = {"SymInt": "int", "ScalarType": "int", "Layout": "int", "MemoryFormat": "int",
            "Scalar": "number", "Storage": "Storage", "Any": "Any"}
_BINARY_OPS = (
    (" not in ", " is not ", " in ", " is ", "==", "!=", "<=", ">=", "<", ">"),
    ("|",), ("^",), ("&",), ("<<", ">>"), ("+", "-"), ("//", "/", "%", "@", "*"), ("**",),
)


@dataclass(frozen=True)
class Frame:
    """One ``File ...`` block."""

    location: Location
    function: str | None  # the ", in fn" part (interpreter tracebacks only)
    span: str  # the underlined source text, lines joined with "\n"
    after: str  # the rest of the last underlined line, after the underline
    first_source: str  # the whole first underlined source line
    has_here: bool
    start: int  # index of the header line
    end: int  # index one past the block's last line


def frames(lines: list[str], start: int = 0, stop: int | None = None) -> list[Frame]:
    """Every frame whose header lies in lines[start:stop], in order."""
    stop = len(lines) if stop is None else stop
    heads = [i for i in range(start, stop) if FILE_RE.match(lines[i])]
    found: list[Frame] = []
    for n, head in enumerate(heads):
        end = heads[n + 1] if n + 1 < len(heads) else stop
        for k in range(head + 1, end):  # a chain line or an error line ends the block
            if CHAIN_RE.match(lines[k]) or lines[k].startswith("and was used here"):
                end = k
                break
        found.append(_frame(lines, head, end))
    return found


def _frame(lines: list[str], head: int, end: int) -> Frame:
    m = FILE_RE.match(lines[head])
    assert m is not None
    pieces: list[str] = []
    column, after, first, here = 0, "", "", False
    for k in range(head + 2, end):
        t = _TILDE_RE.match(lines[k])
        if t is None or FILE_RE.match(lines[k - 1]):
            continue
        source, col = lines[k - 1], len(t.group("lead"))
        stop_col = col + len(t.group("tilde"))
        if not pieces:
            column, first = col, source
        pieces.append(source[col:stop_col])
        after = source[stop_col:]
        if "<--- HERE" in lines[k]:
            here = True
            break
    loc = Location(m.group("path"), int(m.group("line")), column)
    span, after = _complete("\n".join(pieces), after)
    return Frame(loc, m.group("fn"), span, after, first, here, head, end)


def _complete(span: str, after: str) -> tuple[str, str]:
    """Carets sometimes stop a character short (``range(n``, ``d["a"].appen``):
    finish a cut identifier and close open brackets from the rest of the line."""
    i = 0
    if span[-1:].isalnum() or span[-1:] == "_":
        while i < len(after) and (after[i].isalnum() or after[i] == "_"):
            i += 1
    span, after = span + after[:i], after[i:]
    depth, j = sum(map(span.count, "([{")) - sum(map(span.count, ")]}")), 0
    while depth > 0 and j < len(after):
        depth += (after[j] in "([{") - (after[j] in ")]}")
        j += 1
    return span + after[:j], after[j:]


def path_line_location(text: str) -> Location | None:
    """A bare ``/path/file.py:123`` reference, as in "Expected a single top-level function"."""
    m = re.search(r"(?P<path>(?:[A-Za-z]:)?[^\s:'\"()]+\.py):(?P<line>\d+)", text)
    return Location(m.group("path"), int(m.group("line"))) if m else None


# --------------------------------------------------------------------------- types


def clean_type(text: str) -> str:
    """A type as printed in a message, without " (inferred)" and surrounding quotes."""
    return text.strip().strip("'").replace(" (inferred)", "").strip()


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside brackets and string literals."""
    parts: list[str] = []
    depth, quote, begin, i = 0, "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[begin:i].strip())
            begin = i + len(sep)
            i = begin
            continue
        i += 1
    parts.append(text[begin:].strip())
    return parts


def typing_name(schema: str) -> str:
    """Schema spelling → typing spelling: ``int[]`` → ``List[int]``, ``Tensor?`` →
    ``Optional[Tensor]``, ``Dict(str, t)`` → ``Dict[str, T]``, ``(int, int)`` →
    ``Tuple[int, int]``, ``__torch__.m.Cls`` → ``Cls``."""
    s = _ALIAS_RE.sub("", schema).strip()
    if not s:
        return s
    if s.endswith("?"):
        return f"Optional[{typing_name(s[:-1])}]"
    m = re.fullmatch(r"(?P<inner>.+)\[\d*\]", s)
    if m and not re.fullmatch(r"\w+\[.*,.*\]|(List|Optional|Tuple|Dict|Union)\[.*\]", s):
        return f"List[{typing_name(m.group('inner'))}]"
    m = re.fullmatch(r"(?P<head>Dict|Union|Future|RRef|Await)?\((?P<inner>.*)\)", s)
    if m:
        inner = ", ".join(typing_name(p) for p in split_top(m.group("inner")) if p)
        return f"{m.group('head') or 'Tuple'}[{inner}]"
    if re.fullmatch(r"[a-z]", s):
        return s.upper()
    if s.startswith("__torch__."):
        return s.rsplit(".", 1)[-1]
    return _SCALARS.get(s, s)


def guess_from_schema(schema: str, expected: str) -> str:
    """The type a user value most likely has, given the parameter it is passed to."""
    m = _BROADCAST_RE.match(_ALIAS_RE.sub("", schema).strip())
    if m:  # int[2] ("BroadcastingList") accepts a plain int
        return typing_name(m.group("inner"))
    exp = clean_type(expected)
    return "float" if exp == "number" else exp


def compatible(found: str, expected: str) -> bool:
    """Could a value of type `found` be passed where `expected` is required?"""
    f, e = clean_type(found), clean_type(expected)
    if f == e or e in ("T", "t", "Any") or re.fullmatch(r"[a-z]", e):
        return True
    if e.startswith("Optional[") and e.endswith("]"):
        return f == "NoneType" or compatible(f, e[9:-1])
    if e in ("number", "Scalar"):
        return f in ("int", "float", "bool", "complex", "number")
    return False


# --------------------------------------------------------------------------- schemas


@dataclass(frozen=True)
class Param:
    type: str  # schema spelling: "int[1]?", "Dict(str, t)", "__torch__.Net"
    name: str


@dataclass(frozen=True)
class Variant:
    """One overload in "Arguments for call are not valid", or a lone schema."""

    name: str  # "aten::eq.str", "helper", "scale"
    params: tuple[Param, ...]  # positional parameters only (before "*")
    failure: str  # the first line under the schema
    details: tuple[str, ...]  # every line under the schema

    def index(self, arg: str) -> int | None:
        return next((i for i, p in enumerate(self.params) if p.name == arg), None)


def parse_schema(line: str) -> tuple[str, tuple[Param, ...]] | None:
    m = SCHEMA_RE.match(line)
    if m is None:
        return None
    params: list[Param] = []
    for raw in split_top(m.group("params")):
        if raw in ("*", ""):
            break
        left = raw.split("=", 1)[0].strip()
        if " " not in left:
            continue
        typ, name = left.rsplit(" ", 1)
        params.append(Param(typ.strip(), name.strip()))
    return m.group("name"), tuple(params)


def variants(lines: list[str]) -> list[Variant]:
    """Schemas and the failure lines printed under each."""
    found: list[Variant] = []
    i = 0
    while i < len(lines):
        parsed = parse_schema(lines[i])
        i += 1
        if parsed is None:
            continue
        body: list[str] = []
        while i < len(lines) and lines[i].strip() and lines[i].strip() != ":":
            if parse_schema(lines[i]) or FILE_RE.match(lines[i]) or lines[i].startswith("The original call"):
                break
            body.append(lines[i].strip())
            i += 1
        found.append(Variant(parsed[0], parsed[1], body[0] if body else "", tuple(body)))
    return found


# --------------------------------------------------------------------------- operands


def _balanced(text: str) -> str | None:
    """The content of the parenthesised group `text` starts with."""
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0:
            return text[1:i]
    return text[1:] if text.startswith("(") else None


def split_binary(expr: str) -> list[str] | None:
    for group in _BINARY_OPS:
        for op in group:
            parts = split_top(expr, op)
            if len(parts) > 1 and all(parts):
                if op in ("<", ">", "*", "/") and any(p.endswith(("<", ">", "*", "/", "=")) for p in parts):
                    continue
                return [op.join(parts[:-1]).strip(), parts[-1]]
    return None


def split_receiver(callee: str) -> tuple[str, str] | None:
    """``d["a"].append`` → ('d["a"]', "append")."""
    parts = split_top(callee, ".")
    return (".".join(parts[:-1]), parts[-1]) if len(parts) > 1 else None


def assignment_target(span: str) -> str | None:
    parts = split_top(span, "=")
    if len(parts) >= 2 and not any(p.endswith(("=", "!", "<", ">")) for p in parts[:-1]):
        return parts[0]
    return None


def operands(span: str, after: str, method: bool) -> tuple[list[str], dict[str, str]] | None:
    """Positional and keyword operand texts of the call or operator under the caret.

    `method`: the schema takes the receiver as its first (``self``) argument.
    """
    text = " ".join(span.split())
    m = re.fullmatch(r"(?P<callee>[\w.]+)\((?P<args>.*)\)", text)
    if m:
        callee, args = m.group("callee"), m.group("args")
    elif after.lstrip().startswith("(") and re.fullmatch(r"[\w.\[\]\"' ]+", text):
        callee, args = text, _balanced(after.lstrip()) or ""
    else:
        return (split_binary(text) or [text]), {}
    positional: list[str] = []
    keywords: dict[str, str] = {}
    for arg in (a for a in split_top(args) if a):
        kw = re.match(r"^(\w+)\s*=(?!=)\s*(.*)$", arg)
        if kw:
            keywords[kw.group(1)] = kw.group(2)
        else:
            positional.append(arg)
    receiver = split_receiver(callee)
    if method and receiver and not re.match(r"^(torch|F|nn|math)\b", receiver[0]):
        positional.insert(0, receiver[0])
    return positional, keywords


def as_symbol(expr: str | None) -> str | None:
    """A plain name (``n``) or ``self.name`` → the name; the one name in plain
    arithmetic (``n - 1`` → ``n``); anything else → None."""
    if expr is None:
        return None
    e = expr.strip()
    e = e[5:] if e.startswith("self.") else e
    if IDENT_RE.match(e):
        return e if e not in ("True", "False", "None", "self") else None
    names = set(re.findall(r"\b[A-Za-z_]\w*\b", e)) if re.fullmatch(r"[\w\s+\-*/%]+", e) else set()
    return names.pop() if len(names) == 1 else None
