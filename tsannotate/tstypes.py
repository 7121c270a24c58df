"""TorchScript types as values: parse the compiler's spellings, join, render as annotations.

Pure and stdlib-only, so rules can use it without torch. The compiler spells types in
two dialects (`List[int]` in messages, `int[]` / `Tensor?` / `Dict(str, t)` in schemas);
`parse` reads both, `render` writes the typing spelling the user's file already uses.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass

from tsannotate.records import Annotation, ImportName, ImportStyle

_TYPING_GENERICS = {"Optional", "List", "Dict", "Tuple", "Union"}
_BUILTIN_ALIASES = {"list": "List", "dict": "Dict", "tuple": "Tuple"}
_PLAIN = {"int", "float", "bool", "str", "complex", "NoneType", "Tensor", "Device", "device",
          "dtype", "ScalarType", "Any", "number", "Scalar", "Generator"}


@dataclass(frozen=True)
class TSType:
    name: str  # "Tensor", "int", "List", "Optional", ...
    args: tuple[TSType, ...] = ()

    def __str__(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}[{', '.join(str(a) for a in self.args)}]"

    @property
    def is_none(self) -> bool:
        return self.name == "NoneType"

    @property
    def is_optional(self) -> bool:
        return self.name == "Optional"


TENSOR = TSType("Tensor")
NONE = TSType("NoneType")
UNKNOWN = TSType("Unknown")  # the element type of an empty container nobody filled


class TypeParseError(ValueError):
    pass


_TOKEN = re.compile(r"\s*(\[\]|\(|\)|\[|\]|,|\?|->|[A-Za-z_][\w.]*)")


def _tokens(text: str) -> list[str]:
    text = text.replace("(inferred)", "").strip()
    out: list[str] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            if text[pos:].strip() == "":
                break
            raise TypeParseError(f"cannot read type {text!r} at {text[pos:]!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.text = text

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise TypeParseError(f"cannot read type {self.text!r}")
        self.i += 1
        return tok

    def parse(self) -> TSType:
        t = self.one()
        if self.peek() is not None:
            raise TypeParseError(f"cannot read type {self.text!r}")
        return t

    def one(self) -> TSType:
        tok = self.peek()
        if tok == "(":  # schema tuple: (int, Tensor)
            self.take("(")
            items = self.seq(")")
            t = TSType("Tuple", tuple(items))
        else:
            name = _normalise_name(self.take())
            if self.peek() == "[" and name in _TYPING_GENERICS:
                self.take("[")
                t = TSType(name, tuple(self.seq("]")))
            elif self.peek() == "(" and name in ("Dict", "Optional", "List", "Tuple", "Union"):
                self.take("(")  # schema dict: Dict(str, t)
                t = TSType(name, tuple(self.seq(")")))
            else:
                t = TSType(name)
        while self.peek() in ("[]", "?"):
            t = TSType("List", (t,)) if self.take() == "[]" else optional(t)
        return t

    def seq(self, close: str) -> list[TSType]:
        items: list[TSType] = []
        while self.peek() != close:
            items.append(self.one())
            if self.peek() == ",":
                self.take(",")
        self.take(close)
        return items


def _normalise_name(name: str) -> str:
    name = name.removeprefix("typing.").removeprefix("torch.")
    name = _BUILTIN_ALIASES.get(name, name)
    if name == "None":
        return "NoneType"
    if name == "device":
        return "Device"
    return name


def parse(text: str) -> TSType:
    """Read a type as TorchScript prints it (either dialect) or as a user annotates it."""
    return _Parser(text).parse()


def try_parse(text: str) -> TSType | None:
    try:
        return parse(text)
    except TypeParseError:
        return None


def optional(t: TSType) -> TSType:
    if t.is_optional or t.is_none:
        return t
    return TSType("Optional", (t,))


def join(a: TSType, b: TSType) -> TSType:
    """The least type holding both: None + T → Optional[T]; an empty container's Unknown
    element takes the other side's; containers join element-wise; int + float → float;
    anything else → Union (which `is_expressible` may still reject)."""
    if a == b or b == UNKNOWN:
        return a
    if a == UNKNOWN:
        return b
    if (a.name == b.name and a.name in ("List", "Dict", "Tuple") and len(a.args) == len(b.args)
            and (a.name != "Dict" or a.args[0] == b.args[0] or UNKNOWN in (a.args[0], b.args[0]))):
        return TSType(a.name, tuple(join(x, y) for x, y in zip(a.args, b.args)))
    if a.is_none:
        return optional(b)
    if b.is_none:
        return optional(a)
    if a.is_optional and b.is_optional:
        return optional(join(a.args[0], b.args[0]))
    if a.is_optional or b.is_optional:
        opt, other = (a, b) if a.is_optional else (b, a)
        return optional(join(opt.args[0], other))
    if {a.name, b.name} == {"int", "float"}:
        return TSType("float")
    members = [*(a.args if a.name == "Union" else (a,)), *(b.args if b.name == "Union" else (b,))]
    unique = tuple(dict.fromkeys(members))
    return unique[0] if len(unique) == 1 else TSType("Union", unique)


def join_all(types: Iterable[TSType]) -> TSType:
    """Join of every type; Unknown for none at all."""
    result = UNKNOWN
    for t in types:
        result = join(result, t)
    return result


def is_expressible(t: TSType) -> bool:
    """True when TorchScript can take `t` as an annotation."""
    if t.name in ("Any", "number", "Scalar"):
        return False
    if not t.args:
        return t.name in _PLAIN or t.name == "NoneType"
    return all(is_expressible(a) for a in t.args)


def render(t: TSType, style: ImportStyle) -> Annotation:
    """Annotation text in the file's own spelling, plus the imports it needs."""
    imports: set[ImportName] = set()
    text = _render(t, style, imports)
    return Annotation(text, tuple(sorted(imports, key=lambda i: (i.module, i.name))))


def _torch_attr(attr: str, style: ImportStyle, imports: set[ImportName]) -> str:
    if style.torch_alias == "torch":
        imports.add(ImportName("torch"))
    return f"{style.torch_alias}.{attr}"


def _render(t: TSType, style: ImportStyle, imports: set[ImportName]) -> str:
    if t.name == "Tensor":
        return "Tensor" if style.tensor == "Tensor" else _torch_attr("Tensor", style, imports)
    if t.name == "Device":
        return _torch_attr("device", style, imports)
    if t.name == "dtype":
        return _torch_attr("dtype", style, imports)
    if t.name == "Generator":  # diffusers' `generator=None`, passed to torch.randn
        return _torch_attr("Generator", style, imports)
    if t.name == "NoneType":
        return "None"
    if t.name in _TYPING_GENERICS:
        inner = ", ".join(_render(a, style, imports) for a in t.args)
        if t.name == "Tuple" and not t.args:
            inner = "()"
        return f"{_typing_name(t.name, style, imports)}[{inner}]"
    return t.name


def _typing_name(name: str, style: ImportStyle, imports: set[ImportName]) -> str:
    if name in style.typing_names:
        return name
    if style.typing_module is not None:
        return f"{style.typing_module}.{name}"
    imports.add(ImportName("typing", name))
    return name


def literal_type(text: str) -> TSType | None:
    """The type of a literal constant's source text: `2.5` → float, `(1, 2)` → Tuple[int, int],
    `[1, 2]` → List[int]; None for anything that is not a literal of one TorchScript type."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return _literal_value_type(value)


def _literal_value_type(value: object) -> TSType | None:
    if isinstance(value, (bool, int, float, str)):
        return TSType(type(value).__name__)
    if isinstance(value, tuple) and value:
        items = [_literal_value_type(v) for v in value]
        return TSType("Tuple", tuple(i for i in items if i is not None)) if None not in items else None
    if isinstance(value, list) and value:
        kinds = {_literal_value_type(v) for v in value}
        item = kinds.pop() if len(kinds) == 1 else None
        return TSType("List", (item,)) if item is not None else None
    return None


# --------------------------------------------------------------------------- namedtuples seen at runtime

_NAMEDTUPLE_NOTE = re.compile(r"a namedtuple (\w+)\((.*?)\) \(use typing\.NamedTuple\)")


def namedtuple_note(name: str, fields: Iterable[tuple[str, TSType | None]]) -> str:
    """What the probe says of a `collections.namedtuple` value (no TorchScript type holds one):
    `a namedtuple Output(logits: Tensor, count: int) (use typing.NamedTuple)`; a field whose
    value has no TorchScript type is spelled `?`."""
    spelled = ", ".join(f"{field}: {t if t is not None else '?'}" for field, t in fields)
    return f"a namedtuple {name}({spelled}) (use typing.NamedTuple)"


def namedtuple_fields(note: str, name: str) -> dict[str, TSType] | None:
    """The field types a probe note (see `namedtuple_note`) gives namedtuple `name`, where it names one."""
    for m in _NAMEDTUPLE_NOTE.finditer(note):
        if m.group(1) != name:
            continue
        out: dict[str, TSType] = {}
        for field in _top_level_split(m.group(2)):
            key, _, text = field.partition(": ")
            t = try_parse(text)
            if t is not None and is_expressible(t):
                out[key] = t
        return out
    return None


def _top_level_split(text: str) -> list[str]:
    """`a: int, b: Tuple[int, int]` → ["a: int", "b: Tuple[int, int]"]."""
    parts: list[str] = []
    depth = start = 0
    for i, ch in enumerate(text):
        depth += ch in "[("
        depth -= ch in "])"
        if ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    tail = text[start:].strip()
    return [*parts, tail] if tail else parts
