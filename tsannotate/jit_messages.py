"""Parse TorchScript compiler (and interpreter) error text into Diagnostics.

Pure text processing, standard library only: the worker passes ``str(exc)`` and the
exception's class name; nothing here raises on unexpected text — anything not
recognised comes back as ``DiagnosticKind.UNKNOWN`` (``CALL_FAILED`` for call-time
errors) with the best message and location that could be found.

Conventions for ``Diagnostic.types``: the types the message names, with
" (inferred)" removed; for EMPTY_CONTAINER and INFERRED_TENSOR/NONE_DEFAULT it holds
the type the symbol should be annotated with (``("List[int]",)``, ``("str",)``), or
nothing when the message gives no safe guess; a call-boundary CALL_FAILED ("forward()
Expected a value of type ...") holds the type the probe passed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from tsannotate import jit_text as jt
from tsannotate.records import Diagnostic, DiagnosticKind, Location

K = DiagnosticKind
UNSUPPORTED_EXCEPTIONS = frozenset({"NotSupportedError", "UnsupportedNodeError", "FrontendError"})
_ERROR_LINE = re.compile(r"^(?P<cls>(?:\w+\.)*\w*(?:Error|Exception))\s*:\s?(?P<msg>.*)$")
_EXPECT = re.compile(r"Expected a value of type '(?P<exp>.+?)' for argument '(?P<arg>\w+)' "
                     r"but instead found type '(?P<found>.+?)'\.")
_MATCH = re.compile(r"Could not match type (?P<found>.+?) to (?P<exp>.+?) in argument '(?P<arg>\w+)': "
                    r"Type variable '\w+' previously matched to type (?P<prev>.+?) is matched")
_EMPTY_HINT = "Empty lists default to List[Tensor]"
_DEFAULT_CONTAINERS = ("List[Tensor]", "Dict[str, Tensor]")


def locations(text: str) -> tuple[Location, ...]:
    """Every ``File "...", line N`` in order (column from its caret, else 0)."""
    return tuple(f.location for f in jt.frames(text.splitlines()))


def parse_compile_error(text: str, exc_type: str, target: str) -> Diagnostic:
    base = Diagnostic(K.UNKNOWN, _fallback_message(text, exc_type), raw=text, target=target)
    try:
        lines = text.splitlines()
        found = jt.frames(lines)
        chain = _chain(lines)
        error = next((f for f in found if f.has_here), found[0] if found else None)
        base = replace(base, location=error.location if error else jt.path_line_location(text),
                       call_chain=tuple(f.location for f in chain[1]), function=chain[0])
        header = lines[: found[0].start] if found else lines
        return _classify_compile(base, header, exc_type, error)
    except Exception:  # noqa: BLE001 - never fail on odd text
        return base


def parse_call_error(text: str, target: str) -> Diagnostic:
    """An error raised when *calling* a scripted model on the probe inputs."""
    base = Diagnostic(K.CALL_FAILED, _fallback_message(text, "RuntimeError"), raw=text, target=target)
    try:
        return _classify_call(base, text)
    except Exception:  # noqa: BLE001
        return base


# --------------------------------------------------------------------------- shared


def _fallback_message(text: str, exc_type: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and ln.strip() != ":"]
    for ln in lines:
        if not jt.SCHEMA_RE.match(ln) and not jt.FILE_RE.match(ln):
            return ln.rstrip(":").strip() or ln
    return lines[0] if lines else f"{exc_type or 'error'} with no message"


def _chain(lines: list[str]) -> tuple[str | None, list[jt.Frame]]:
    """(function the error is in, frames after "is being compiled since ..." lines)."""
    function: str | None = None
    sites: list[jt.Frame] = []
    for i, ln in enumerate(lines):
        m = jt.CHAIN_RE.match(ln)
        if m:
            function = function or m.group("callee")
            sites.extend(f for f in jt.frames(lines, i + 1)[:1] if f.start == i + 1)
    return function, sites


def _method_owner(v: jt.Variant) -> str | None:
    if v.params and v.params[0].name == "self" and v.params[0].type.startswith("__torch__."):
        return v.params[0].type.rsplit(".", 1)[-1]
    return None


def _needed(found: str, expected: str) -> str:
    """What a parameter must accept when it was passed a `found` (the probe's type)."""
    return f"Optional[{expected}]" if found == "NoneType" else found


def _operand(v: jt.Variant, frame: jt.Frame | None, index: int | None) -> str | None:
    if frame is None or index is None:
        return None
    method = bool(v.params) and v.params[0].name == "self"
    module_call = method and v.name == "forward" and not frame.span.rstrip().endswith(".forward")
    ops = jt.operands(frame.span, frame.after, method and not module_call)
    if ops is None:
        return None
    positional, keywords = ops
    if module_call:  # `layer(x, mask)` calls layer.forward: the module itself is `self`
        positional = ["<module>", *positional]
    if index < len(v.params) and v.params[index].name in keywords:
        return keywords[v.params[index].name]
    return positional[index] if index < len(positional) else None


# --------------------------------------------------------------------------- compile time

Rule = Callable[[Diagnostic, "re.Match[str]", "jt.Frame | None"], Diagnostic]


def _var_changed(d: Diagnostic, m: re.Match[str], f: jt.Frame | None) -> Diagnostic:
    types = (jt.clean_type(m.group("old")), jt.clean_type(m.group("new")))
    msg = m.group(0).replace(" (inferred)", "")
    return replace(d, kind=K.VARIABLE_TYPE_CHANGED, symbol=m.group("name"), types=types, message=msg)


def _attr_changed(d: Diagnostic, m: re.Match[str], f: jt.Frame | None) -> Diagnostic:
    attr = re.search(r"self\.(\w+)", f.span if f else "")  # the assignment's target
    types = (jt.clean_type(m.group("old")), jt.clean_type(m.group("new")))
    msg = f"Wrong type for attribute assignment: expected {types[0]} but got {types[1]}"
    return replace(d, kind=K.ATTRIBUTE_TYPE_CHANGED, symbol=attr.group(1) if attr else None,
                   types=types, message=msg)


def _no_attribute(d: Diagnostic, m: re.Match[str], f: jt.Frame | None) -> Diagnostic:
    owner, attr, rest = m.group("owner").rsplit(".", 1)[-1], m.group("attr"), m.group("rest") or ""
    base = f"Module '{owner}' has no attribute '{attr}'"
    d = replace(d, symbol=attr, owner=owner, message=base)
    conv = re.search(r"failed to convert Python type: '(?P<py>[^']+)'", rest)
    if conv:
        py = conv.group("py")
        why = {"list": " (an empty list)", "dict": " (an empty dict)"}.get(py, "")
        if "concrete type of torch.nn.Module" in rest:
            why = " (a list of modules)"
        return replace(d, kind=K.ATTRIBUTE_CONVERSION, types=(py,),
                       message=f"{base}: its Python value{why} of type '{py}' could not be converted")
    if "failed to compile it" in rest:
        return replace(d, kind=K.UNSUPPORTED, message=f"{base}: it is a Python function that could not be compiled")
    return d


def _bad_constant(d: Diagnostic, m: re.Match[str], f: jt.Frame | None) -> Diagnostic:
    return replace(d, kind=K.ATTRIBUTE_CONVERSION, owner=m.group("owner"), symbol=m.group("attr"),
                   types=(m.group("py"),), message=m.group(0).strip())


def _cast_attr(d: Diagnostic, m: re.Match[str], f: jt.Frame | None) -> Diagnostic:
    return replace(d, symbol=m.group("attr"), types=(m.group("type"),),
                   message=f"Could not cast attribute '{m.group('attr')}' to type {m.group('type')}")


def _default(d: Diagnostic, m: re.Match[str], f: jt.Frame | None) -> Diagnostic:
    fn = re.match(r"def (\w+)\(", f.first_source) if f else None  # module level only
    wanted = jt.clean_type(m.group("type"))
    msg = (f'Expected a default value of type {wanted} on parameter "{m.group("name")}"'
           + (" (it is not annotated, so it is assumed to be a Tensor)" if wanted == "Tensor" else
              f" (it is annotated {wanted})"))
    function = d.function or (fn.group(1) if fn else None)
    if fn and d.function and d.function.rsplit(".", 1)[-1] != fn.group(1):
        function = fn.group(1)  # the chain names the method calling the helper whose `def` is shown
    return replace(d, kind=K.DEFAULT_TYPE, symbol=m.group("name"), message=msg,
                   types=(jt.clean_type(m.group("type")),), function=function)


def _range(d: Diagnostic, m: re.Match[str], f: jt.Frame | None) -> Diagnostic:
    d = replace(d, message=m.group(0).rstrip(":").replace("Tensor (inferred)", "Tensor (inferred, not annotated)"))
    if jt.clean_type(m.group("found")) != "Tensor" or f is None:  # "Tensor" alone: `range(n - 1)`
        return d
    ops = jt.operands(f.span, f.after, False)
    arg = ops[0][int(m.group("index"))] if ops and int(m.group("index")) < len(ops[0]) else None
    return replace(d, kind=K.INFERRED_TENSOR, symbol=jt.as_symbol(arg), types=("int",))


def _unsupported(d: Diagnostic, m: re.Match[str], f: jt.Frame | None) -> Diagnostic:
    symbol = None
    if f is not None and ("variable number of arguments" in m.group(0) or "Python builtin" in m.group(0)):
        symbol = f.span.strip().lstrip("*") or None
    if m.groupdict().get("name"):
        symbol = m.group("name")
    message = re.sub(r" object at 0x[0-9a-f]+>", " object>", m.group(0).strip().rstrip(":"))
    return replace(d, kind=K.UNSUPPORTED, symbol=symbol, message=message)


def _return_type(d: Diagnostic, m: re.Match[str], f: jt.Frame | None) -> Diagnostic:
    declared, actual = jt.clean_type(m.group("declared")), jt.clean_type(m.group("actual"))
    value = re.fullmatch(r"return\s+(.+)", f.span.strip()) if f else None
    symbol = value.group(1).strip() if value else None
    msg = m.group(0).rstrip(":")
    if actual in _DEFAULT_CONTAINERS and symbol and jt.IDENT_RE.match(symbol):
        return replace(d, kind=K.EMPTY_CONTAINER, symbol=symbol, types=(declared,), message=msg)
    return replace(d, types=(declared, actual), message=msg)


def _returns_differ(d: Diagnostic, m: re.Match[str], f: jt.Frame | None) -> Diagnostic:
    """`return losses` after `return results`: a function has one return type; symbol: the value
    the later return statement returns; types: (earlier type, this one's)."""
    value = re.fullmatch(r"return\s+(.+)", f.span.strip()) if f else None
    types = (jt.clean_type(m.group("before")), jt.clean_type(m.group("now")))
    return replace(d, kind=K.RETURN_TYPE_CHANGED, symbol=value.group(1).strip() if value else None, types=types,
                   message=f"Previous return statement returned a value of type {types[0]} but this return "
                           f"statement returns a value of type {types[1]}")


def _no_method(d: Diagnostic, m: re.Match[str], f: jt.Frame | None) -> Diagnostic:
    d = replace(d, message=m.group(0).rstrip(".:"), types=())
    recv = jt.split_receiver(" ".join(f.span.split())) if f else None
    if "(inferred)" in m.group("type"):
        return replace(d, kind=K.INFERRED_TENSOR, symbol=jt.as_symbol(recv[0]) if recv else None)
    return d


def _literal_index(d: Diagnostic, m: re.Match[str], f: jt.Frame | None) -> Diagnostic:
    """`self.layers[self.k](x)`: a ModuleList/ModuleDict index that is not a literal; symbol: the index."""
    index = re.search(r"\[(?P<index>.+)\]\s*$", " ".join(f.span.split())) if f else None
    what = "an integer" if m.group("what") == "integer" else "a string"
    return replace(d, kind=K.CONSTANT_NEEDED, symbol=index.group("index").strip() if index else None,
                   message=f"{m.group('container')} indexing needs {what} literal or constant, not a variable")


def _call_none(d: Diagnostic, m: re.Match[str], f: jt.Frame | None) -> Diagnostic:
    """`self.norm(x)` where `self.norm` is None (a submodule left out by a config flag)."""
    return replace(d, symbol=f.span.strip() if f else None, message=m.group(0).rstrip(":"))


def _none_default_left_out(d: Diagnostic, m: re.Match[str], f: jt.Frame | None) -> Diagnostic:
    """`self.attention(x)` into `def forward(self, x, head_mask=None)`: the default of a parameter
    TorchScript takes for a Tensor cannot be None. No location: the compiled signatures name it."""
    return replace(d, kind=K.NONE_DEFAULT, types=("Optional[Tensor]",),
                   message="Unsupported value kind: Tensor (a compiled call leaves out a parameter that defaults to "
                           "None, but that TorchScript takes for a Tensor: an unannotated `p=None` needs "
                           "Optional[Tensor])")


def _dispatch_flag(d: Diagnostic, m: re.Match[str], f: jt.Frame | None) -> Diagnostic:
    """`F.max_pool2d(x, 2, return_indices=self.return_indices)`: a boolean-dispatch flag picks the
    compiled function, so it must be a constant; symbol: the flag's value (`self.return_indices`)
    when the frame shows it (a call over several lines: TS007 reads it from the source); types: ("bool",)."""
    ops = jt.operands(f.span, f.after, False) if f else None
    value = None
    if ops and m.group("kw"):
        value = ops[1].get(m.group("kw"))
    elif ops and m.group("pos") and int(m.group("pos")) < len(ops[0]):
        value = ops[0][int(m.group("pos"))]
    return replace(d, kind=K.CONSTANT_NEEDED, symbol=value.strip() if value else None, types=("bool",),
                   message=m.group(0).strip().rstrip(":"))


def _tolist(d: Diagnostic, m: re.Match[str], f: jt.Frame | None) -> Diagnostic:
    """`seq = best.tolist()`: TorchScript types the result only from an annotation. symbol: the
    local the call's result is assigned to, when the call is the whole right side of a plain
    `name = ...` on one line (None when it is iterated, returned, passed on or indexed); types: ()."""
    call, rest = ("".join(p.strip() for p in f.span.splitlines()), f.after) if f else ("", "")
    parens = re.match(r"\s*\(\s*\)", rest)  # the caret stops at `tolist`, before its `()`
    if parens:
        call, rest = call + "()", rest[parens.end():]
    if f is not None and call.count(")") > call.count("("):  # `(a * 10).flip(0).tolist()`: the underline
        start = f.first_source.find(f.span.splitlines()[0].strip())  # starts after the opening paren
        head = f.first_source[:start] if start > 0 else ""
        while call.count(")") > call.count("(") and head.rstrip().endswith("("):
            head = head.rstrip()[:-1]
            call = "(" + call
    rest, symbol = rest.strip(), None
    if f is not None and "\n" not in f.span and (not rest or rest.startswith("#")):
        target = re.fullmatch(r"\s*(?P<name>[A-Za-z_]\w*)\s*=\s*", f.first_source[:f.location.column])
        symbol = target.group("name") if target else None
    where = f" (`{call}`)" if call else ""
    return replace(d, kind=K.TOLIST_HINT, symbol=symbol, types=(),
                   message=f"Expected type hint for result of tolist(){where}")


def _generic(kind: DiagnosticKind, group: str | None = None) -> Rule:
    def rule(d: Diagnostic, m: re.Match[str], f: jt.Frame | None) -> Diagnostic:
        return replace(d, kind=kind, message=m.group(0).strip().rstrip(":"),
                       symbol=m.group(group) if group else d.symbol)
    return rule


_RULES: tuple[tuple[re.Pattern[str], Rule], ...] = tuple((re.compile(p, re.M), r) for p, r in (
    (r"Variable '(?P<name>\w+)' previously had type (?P<old>.+?) but is now being assigned to a value "
     r"of type (?P<new>.+?)\s*$", _var_changed),
    (r"Type mismatch: (?P<name>\w+) is set to type (?P<old>.+?) in the true branch and type (?P<new>.+?) "
     r"in the false branch", _var_changed),
    (r"Expected type hint for result of tolist\(\)", _tolist),
    (r"Wrong type for attribute assignment\. Expected (?P<old>.+?) but got (?P<new>.+?):?\s*$", _attr_changed),
    (r"Module '(?P<owner>[\w.]+)' has no attribute '(?P<attr>\w+)'(?P<rest>.*)", _no_attribute),
    (r"'(?P<py>[^']+)' object in attribute '(?:[\w.]+\.)?(?P<owner>\w+)\.(?P<attr>\w+)' is not a valid constant\.",
     _bad_constant),
    (r"Could not cast attribute '(?P<attr>\w+)' to type (?P<type>.+?): ", _cast_attr),
    (r'Expected a default value of type (?P<type>.+?) on parameter "(?P<name>\w+)"', _default),
    (r"all inputs of range must be ints, found (?P<found>.+?) in argument (?P<index>\d+):?", _range),
    (r"Return value was annotated as having type (?P<declared>.+?) but is actually of type (?P<actual>.+?):?\s*$",
     _return_type),
    (r"Previous return statement returned a value of type (?P<before>.+?) but this return statement returns "
     r"a value of type (?P<now>.+?):?\s*$", _returns_differ),
    (r"'(?P<type>.+?)' object has no attribute or method '(?P<attr>\w+)'\.?:?", _no_method),
    (r"Python builtin <.+?> is currently not supported in Torchscript:?", _unsupported),
    (r"Unknown type name '(?P<name>[^']+)':?", _unsupported),
    (r"Compiled functions can't take variable number of arguments.*", _unsupported),
    (r"getattr's second argument must be a string literal", _unsupported),  # getattr(self, name)
    (r"^.*(?:aren't supported|are not supported|is not supported|not supported in TorchScript|"
     r"Don't support|Expected a single top-level function|cannot statically infer).*$", _unsupported),
    (r"(?P<name>\w+) is not defined in the (?:true|false) branch", _generic(K.UNKNOWN, "name")),
    (r"Expected (?P<what>integer) literal for index.*?(?P<container>ModuleList)/Sequential", _literal_index),
    (r"Unable to extract (?P<what>string) literal index\. (?P<container>ModuleDict)", _literal_index),
    (r"cannot call a value of type 'NoneType':?", _call_none),
    (r"python value of type '\w+' cannot be used as a value.*", _generic(K.UNSUPPORTED)),
    (r"^Failed to get source for .*", _generic(K.UNSUPPORTED)),
    (r"Tried to set nonexistent attribute: (?P<name>\w+)\.", _generic(K.UNKNOWN, "name")),
    (r"^Unsupported value kind: Tensor$", _none_default_left_out),
    (r"(?:Keyword argument '?(?P<kw>\w+)'? for|Argument for) boolean dispatch at position ?(?P<pos>\d*) "
     r"was not constant", _dispatch_flag),
))


def _classify_compile(d: Diagnostic, header: list[str], exc_type: str, frame: jt.Frame | None) -> Diagnostic:
    head = "\n".join(header)
    for pattern, rule in _RULES:
        m = pattern.search(head)
        if m:
            return rule(d, m, frame)
    vs = [v for v in jt.variants(header) if v.failure]
    if vs:
        return _classify_variants(d, vs, frame)
    if exc_type in UNSUPPORTED_EXCEPTIONS:
        return replace(d, kind=K.UNSUPPORTED)
    return d


def _classify_variants(d: Diagnostic, vs: list[jt.Variant], f: jt.Frame | None) -> Diagnostic:
    first = vs[0]
    d = replace(d, message=f"{first.name}: {first.failure}".replace(" (inferred)", ""))
    expects = [(v, m) for v in vs for m in [_EXPECT.search(v.failure)] if m]
    # (b) a compiled callee's parameter was inferred as Tensor: annotate the callee
    for v, m in expects:  # ...or is a plain Tensor in an @torch.jit.ignore'd function's signature
        if m.group("exp").endswith("(inferred)") or (
                m.group("exp") == "Tensor" and "::" not in v.name and len(vs) == 1  # one schema: a function's
                and not m.group("found").startswith("Optional[")):  # F.cross_entropy(x, maybe_none): unwrap it
            owner, name, found = _method_owner(v), v.name.rsplit("::", 1)[-1], jt.clean_type(m.group("found"))
            return replace(d, kind=K.INFERRED_TENSOR, symbol=m.group("arg"), types=(_needed(found, "Tensor"),),
                           function=f"{owner}.{name}" if owner else name, owner=owner,
                           message=f"{name}(): {m.group(0)}")
    # (a) an empty container (typed List[Tensor] / Dict[str, Tensor]) gets another element type
    for v in vs:
        mm = _MATCH.search(v.failure)
        if mm and jt.clean_type(mm.group("prev")) == "Tensor" and v.params:
            container = jt.typing_name(v.params[0].type)
            elem = jt.clean_type(mm.group("found"))
            if mm.group("exp").startswith("List[") and elem.startswith("List["):
                elem = elem[5:-1]  # extend(): List[int] against List[t]
            typ = re.sub(r"\bT\b", elem, container, count=1) if "T" in container else ""
            symbol = _container(v, f)
            default = "List[Tensor]" if container.startswith("List[") else "Dict[str, Tensor]"
            return replace(d, kind=K.EMPTY_CONTAINER, symbol=symbol, types=(typ,) if typ else (),
                           message=f"{f'`{symbol}`' if symbol else 'A container'} is a {default} (an empty "
                                   f"container's default, or what its first items make it), but a value of type "
                                   f"{elem} is stored in it ({v.name})")
    if any(v.name.startswith("aten::_set_item") and "'Dict[str, Tensor]'" in v.failure for v in vs):
        # d[1] = ... on an empty dict: the key type is wrong, the value type is unknown
        key = next((m.group("found") for v, m in expects if m.group("arg") == "idx"), "another type")
        return replace(d, kind=K.EMPTY_CONTAINER, symbol=_container(first, f), types=(),
                       message=f"An empty dict is typed Dict[str, Tensor], but a key of type {key} is stored")
    return _inferred_operand(d, vs, expects, f)


def _container(v: jt.Variant, f: jt.Frame | None) -> str | None:
    if f is None:
        return None
    span = " ".join(f.span.split())
    target = jt.assignment_target(span)
    if target is not None:  # d["a"] = 1  →  d
        m = re.fullmatch(r"(?P<obj>.+)\[.*\]", target.strip())
        return m.group("obj").strip() if m else None
    return _operand(v, f, 0)


def _inferred_operand(d: Diagnostic, vs: list[jt.Variant], expects: list[tuple[jt.Variant, re.Match[str]]],
                      f: jt.Frame | None) -> Diagnostic:
    found_at: dict[int, str] = {}
    for v, m in expects:
        i = v.index(m.group("arg"))
        if i is not None:
            found_at.setdefault(i, m.group("found"))
    for v, m in expects:
        i, found, exp = v.index(m.group("arg")), jt.clean_type(m.group("found")), m.group("exp")
        if i is None:
            continue
        operand = _operand(v, f, i)
        msg = f"{v.name}: {m.group(0)}"
        if found in _DEFAULT_CONTAINERS and any(_EMPTY_HINT in ln for ln in v.details) and operand:
            if re.search(r"\bfor\b.+\bin\b", operand) and not operand.startswith("["):
                return replace(d, kind=K.UNSUPPORTED, message="generator expressions are not supported: " + msg)
            items = jt.split_top(operand[1:-1]) if operand.startswith("[") else []
            if items and exp.startswith("List["):  # [h, w] of unannotated parameters
                return replace(d, kind=K.INFERRED_TENSOR, symbol=jt.as_symbol(items[0]),
                               types=(jt.clean_type(exp[5:-1]),), message=msg)
            if jt.IDENT_RE.match(operand) or operand.startswith("self."):
                ok = "[t" not in exp and ", t]" not in exp
                return replace(d, kind=K.EMPTY_CONTAINER, symbol=operand.strip(),
                               types=(jt.clean_type(exp),) if ok else (), message=msg)
        if m.group("found").endswith("(inferred)"):
            ok = all(j == i or (j < len(v.params) and jt.compatible(t, jt.typing_name(v.params[j].type)))
                     for j, t in found_at.items())
            if ok:
                guess = jt.guess_from_schema(v.params[i].type, exp)
                return replace(d, kind=K.INFERRED_TENSOR, symbol=jt.as_symbol(operand), types=(guess,),
                               message=f"{v.name}: {m.group(0).replace('(inferred)', '(inferred, not annotated)')}")
    widened = _int_literal_for_float(d, expects, f)
    if widened is not None:
        return widened
    if expects:
        v, m = expects[0]
        operand = _operand(v, f, v.index(m.group("arg")))
        found = jt.clean_type(m.group("found"))
        if found.startswith("Optional[") and operand and (jt.IDENT_RE.match(operand) or operand.startswith("self.")):
            return replace(d, kind=K.OPTIONAL_USED, symbol=operand.strip(), types=(found,),
                           message=f"`{operand.strip()}` is {found}, used here as a value: {v.name}: {m.group(0)}")
        if "::" not in v.name and len(vs) == 1:  # one schema, a Python function's: its annotation rejects the value
            return _argument_type(d, v, m, operand)
        return replace(d, symbol=jt.as_symbol(operand), message=f"{v.name}: {m.group(0)}")
    return d


_INT_LITERAL = re.compile(r"[+-]?\d+")
_FLOATS = ("float", "Optional[float]")


def _int_literal_for_float(d: Diagnostic, expects: list[tuple[jt.Variant, re.Match[str]]],
                           f: jt.Frame | None) -> Diagnostic | None:
    """`F.pad(x, p, value=0)`, `F.interpolate(x, scale_factor=2)`: a variant of the callee takes a
    float where the call passes an int literal, which TorchScript does not widen (Python does).
    kind ARGUMENT_TYPE; symbol: the parameter; function: the callee; types: (the variant's type,
    "int", the literal)."""
    for v, m in expects:
        expected, found = jt.clean_type(m.group("exp")), jt.clean_type(m.group("found"))
        if found != "int" or expected not in _FLOATS:
            continue
        operand = _operand(v, f, v.index(m.group("arg")))
        text = operand.strip() if operand else ""
        if not _INT_LITERAL.fullmatch(text):
            continue
        name = v.name.rsplit("::", 1)[-1]
        return replace(d, kind=K.ARGUMENT_TYPE, symbol=m.group("arg"), function=name, owner=_method_owner(v),
                       types=(expected, found, text), message=f"{name}(): {m.group(0).rstrip('.')} (passed `{text}`)")
    return None


def _argument_type(d: Diagnostic, v: jt.Variant, m: re.Match[str], operand: str | None) -> Diagnostic:
    """`self.decode(x, 2 ** i)` with `stride: int`: TorchScript types the value (`int ** int` is a
    float) otherwise than the annotation. symbol: the parameter; function: the callee; types:
    (the parameter's type, the value's type, the value's text when known)."""
    owner, name = _method_owner(v), v.name.rsplit("::", 1)[-1]
    expected, found = jt.clean_type(m.group("exp")), jt.clean_type(m.group("found"))
    text = " ".join(operand.split()) if operand else ""
    passed = f" (passed `{text}`)" if text else ""
    return replace(d, kind=K.ARGUMENT_TYPE, symbol=m.group("arg"), owner=owner,
                   function=f"{owner}.{name}" if owner else name, types=(expected, found, *((text,) if text else ())),
                   message=f"{name}(): {m.group(0).rstrip('.')}{passed}")


# --------------------------------------------------------------------------- call time


def _classify_call(d: Diagnostic, text: str) -> Diagnostic:
    lines = text.splitlines()
    m = _EXPECT.search(text)
    decl = re.search(r"^Declaration: (?P<schema>.+\) -> .+)$", text, re.M)
    if m and decl and re.match(r"^\w+\(\) Expected a value of type", text.lstrip()):
        parsed = jt.parse_schema(decl.group("schema") + ":")
        name, params = parsed if parsed else ("forward", ())
        owner = _method_owner(jt.Variant(name, params, "", ()))
        found = jt.clean_type(m.group("found"))
        d = replace(d, symbol=m.group("arg"), function=f"{owner}.{name}" if owner else name, owner=owner,
                    message=f"{name}() {m.group(0)}")
        kind = K.INFERRED_TENSOR if m.group("exp").endswith("(inferred)") else K.CALL_FAILED
        return replace(d, kind=kind, types=(_needed(found, jt.clean_type(m.group("exp"))),))
    # a saved-and-loaded model prints the serialized code first, then the original code
    marks = [i for i, ln in enumerate(lines) if ln.startswith("Traceback of TorchScript")]
    original = [i for i in marks if "original code" in lines[i]]
    marker = (original or marks or [-1])[0]
    found_frames = [f for f in jt.frames(lines, marker + 1) if f.has_here]
    if not found_frames:  # an op that fails with no source frame: its error line is the message
        error = next((e for ln in lines[marker + 1:] for e in [_ERROR_LINE.match(ln)] if e), None) \
            if marker >= 0 else None
        if error and error.group("msg").strip():
            return replace(d, message=error.group("msg").strip())
        return d
    inner = found_frames[-1] if marker >= 0 else found_frames[0]
    outer = found_frames[:-1] if marker >= 0 else []
    error = next((e for ln in lines[inner.start + 1:] for e in [_ERROR_LINE.match(ln)] if e), None)
    message = d.message
    if error:
        cls, msg = error.group("cls").removeprefix("builtins."), error.group("msg").strip()
        message = msg if cls in ("RuntimeError", "Error") and msg else f"{cls}: {msg}"
    d = replace(d, message=message, location=inner.location, function=inner.function,
                call_chain=tuple(f.location for f in reversed(outer)))
    none = re.search(r"Expected a proper Tensor but got None .*?for argument #(?P<index>\d+) '(?P<arg>\w+)'", message)
    if none:
        ops = jt.operands(inner.span, inner.after, True)
        index = int(none.group("index"))
        operand = ops[0][index] if ops and index < len(ops[0]) else None
        return replace(d, kind=K.NONE_DEFAULT, symbol=jt.as_symbol(operand), types=("Optional[Tensor]",))
    return d
