"""TS005 — the real type of a parameter TorchScript assumed to be a Tensor.

What it does: `def forward(self, x, n)` with `range(n)`, or a probe that passes an int,
→ `n: int`; `helper(a, b)` called
with floats → `a: float, b: float`; `b=2` → `b: int = 2`; a parameter defaulting to None
gets `Optional[T]`; so does an annotated `k: int = None`, whose default TorchScript rejects.
Why: TorchScript assumes every unannotated parameter is a Tensor ("Tensor (inferred)").
Fix safety: safe — annotations do not change eager behaviour.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from tsannotate import jit_text as jt
from tsannotate import tstypes
from tsannotate.records import (
    AnnotateParam,
    Diagnostic,
    DiagnosticKind,
    Evidence,
    Fix,
    FunctionFacts,
    ParamFacts,
    Location,
    Role,
    Safety,
    Source,
    SourceIndex,
    ValueKind,
)
from tsannotate.rules._bool_params import bound, callee_of
from tsannotate.rules._optional_passed_on import handles_none
from tsannotate.rules._common import (
    Reach,
    observed_params,
    observed_type,
    place,
    annotation,
    cite,
    function_of,
    saw,
    evidence_of,
    usable,
    takes,
    without_none,
)
from tsannotate.tstypes import TSType

CODE = "TS005"
_KINDS = (DiagnosticKind.INFERRED_TENSOR, DiagnosticKind.DEFAULT_TYPE, DiagnosticKind.CALL_FAILED)
_DEFAULT_TYPES = {ValueKind.INT: "int", ValueKind.FLOAT: "float", ValueKind.BOOL: "bool",
                  ValueKind.STR: "str"}


def fixes(evidence: Evidence) -> Iterator[Fix]:
    yield from _from_compiler(evidence)
    yield from _annotated_none_default(evidence)
    yield from _from_conditional(evidence)
    yield from _from_unpacking(evidence)
    yield from _from_op_keyword(evidence)
    yield from _from_probe(evidence)
    yield from _argument_types(evidence)
    yield from _from_literal_default(evidence)


def _from_literal_default(evidence: Evidence) -> Iterator[Fix]:
    """`def _apply_permutation(tensor, permutation, dim=1)` in code TorchScript compiles: unannotated,
    `dim` is a Tensor to the compiler, which rejects the default ("Expected a default value of type
    Tensor on parameter 'dim'") whenever it compiles the function, and says so one function per
    pass. A literal default's type is what `_from_compiler` writes on that message; here it comes
    in the pass the model first fails, for every compiled function no probe call ran (what the
    probe saw is `_from_probe`'s and comes first). Not for a model that scripts: its compiled
    functions have compiled."""
    if not evidence.diagnostics:
        return
    source = evidence.source
    reach = Reach.of(evidence)
    for func in source.functions:
        if func.qualname not in reach.reached:
            continue
        for param in func.params:
            name = _DEFAULT_TYPES.get(param.default_kind) if param.default_kind is not None else None
            if name is None or param.annotation is not None or param.star \
                    or evidence.observed(func.qualname, param.name, Role.ARG) is not None:
                continue
            ann = annotation(tstypes.TSType(name), source)
            yield Fix(CODE, f"annotate parameter `{param.name}` of {func.qualname} as {ann.text}",
                      f"`{param.name}={param.default}` is unannotated, so TorchScript takes it for a Tensor and "
                      f"rejects its default (\"Expected a default value of type Tensor\") when it compiles "
                      f"{func.qualname}, which the model's compiled code reaches",
                      AnnotateParam(func.qualname, param.name, ann), evidence=Source.SOURCE,
                      location=Location(source.path, func.first_line))


def _annotated_none_default(evidence: Evidence) -> Iterator[Fix]:
    """`k: int = None`: TorchScript rejects the default ("Expected a default value of type int");
    `Optional[int]` is the type that holds both the annotation's values and the default."""
    source = evidence.source
    for diag in evidence.diagnostics:
        if diag.kind is not DiagnosticKind.DEFAULT_TYPE or not diag.symbol:
            continue
        func = function_of(diag, source)
        param = func.param(diag.symbol) if func else None
        if func is None or param is None or param.annotation is None or param.default_kind is not ValueKind.NONE:
            continue
        written = tstypes.try_parse(param.annotation)
        if written is None or written.is_optional or written.is_none:
            continue
        ann = annotation(tstypes.optional(written), source)
        yield Fix(CODE, f"annotate parameter `{param.name}` of {func.qualname} as {ann.text}",
                  f"{cite(diag)}: `{param.name}: {param.annotation} = None` — the default is None, which "
                  f"{param.annotation} does not hold; Optional[{param.annotation}] holds both",
                  AnnotateParam(func.qualname, param.name, ann), evidence=Source.COMPILER,
                  location=place(diag, func, source))


def _argument_types(evidence: Evidence) -> Iterator[Fix]:
    """`self.decode(f, 2 ** i)` into `stride: int`: eager Python passes an int, TorchScript a
    float (`int ** int`, `/`, `math.sqrt` are floats there). When the annotation is the probe's type
    and the compiler's type takes every value the probe saw (a float takes an int), the compiler's
    type wins: eager Python is unchanged, and `--apply` checks the scripted outputs still equal eager.
    Otherwise (an annotation the probe does not explain, a type that would not take the value): the
    advice names the conversion at the call."""
    source = evidence.source
    for diag in evidence.diagnostics:
        if diag.kind is not DiagnosticKind.ARGUMENT_TYPE or not diag.symbol or len(diag.types) < 2:
            continue
        func = function_of(diag, source)
        if func is not None and diag.function and func.name != diag.function.rsplit(".", 1)[-1]:
            continue  # the callee is not this file's (`F.pad`): the function around the call is not it
        param = func.param(diag.symbol) if func else None
        if func is None or param is None or param.annotation is None:
            continue
        obs = evidence.observed(func.qualname, param.name, Role.ARG)
        seen, found = observed_type(obs), usable(diag.types[1])
        value = f"`{diag.types[2]}`" if len(diag.types) > 2 else "the value"
        if obs is not None and seen is not None and found is not None and takes(found, seen) \
                and param.annotation == annotation(seen, source).text \
                and evidence.users_annotation(func.qualname, param.name) is None:  # ours, not the user's
            ann = annotation(found, source)
            yield Fix(CODE, f"annotate parameter `{param.name}` of {func.qualname} as {ann.text}",
                      f"{cite(diag)}; {saw(obs, seen)}, and a {found} parameter takes those values too: the "
                      f"compiler's type wins (eager Python is unchanged; the scripted model computes with "
                      f"{found} values)", AnnotateParam(func.qualname, param.name, ann),
                      evidence=Source.COMPILER, location=place(diag, func, source))
            yield from _passed_on(evidence, func, param.name, found, {(func.qualname, param.name)})
            continue
        yield Fix(CODE, f"`{param.name}` of {func.qualname} is annotated {diag.types[0]} but passed a "
                        f"{diag.types[1]} in TorchScript",
                  f"TorchScript computes {value} as {diag.types[1]} where `{param.name}` is annotated "
                  f"{param.annotation} (`int ** int`, `/` and math functions give floats there): convert at the "
                  f"call (`{_converted(diag.types[0], diag.types[2] if len(diag.types) > 2 else 'value')}`), or "
                  f"annotate the parameter {diag.types[1]} — the compiler said: {diag.message}",
                  None, safety=Safety.DISPLAY_ONLY, location=diag.location)


def _passed_on(evidence: Evidence, func: FunctionFacts, name: str, found: TSType, done: set[tuple[str, str]]
               ) -> Iterator[Fix]:
    """`decode(boxes, stride)` hands `stride` unchanged to `make_anchors(sizes, stride)`, whose
    parameter holds the probe's int too: it gets the float in the same pass (the compiler would name it
    in the next one)."""
    source = evidence.source
    for call in (c for c in source.calls if c.function == func.qualname):
        callee = callee_of(source, func, call.callee)
        if callee is None:
            continue
        for pname in (p.name for p, value in bound(callee, call) if value.strip() == name):
            param = callee.param(pname)
            obs = evidence.observed(callee.qualname, pname, Role.ARG)
            seen = observed_type(obs)
            if param is None or obs is None or seen is None or (callee.qualname, pname) in done \
                    or param.annotation != annotation(seen, source).text or not takes(found, seen) or found == seen:
                continue
            done.add((callee.qualname, pname))
            ann = annotation(found, source)
            yield Fix(CODE, f"annotate parameter `{pname}` of {callee.qualname} as {ann.text}",
                      f"{func.qualname} passes its `{name}`, now {found}, on unchanged as `{pname}`; {saw(obs, seen)}, "
                      f"which a {found} parameter takes too", AnnotateParam(callee.qualname, pname, ann),
                      evidence=Source.COMPILER, location=Location(source.path, call.line))
            yield from _passed_on(evidence, callee, pname, found, done)


def _converted(expected: str, value: str) -> str:
    return f"{expected}({value})" if expected in ("int", "float", "bool") else value


def _from_probe(evidence: Evidence) -> Iterator[Fix]:
    """Every unannotated parameter the probe saw holding non-Tensor values. An int the code
    computes as `a ** b` on its way in is a float to TorchScript (see `_powers`): it gets float
    in this pass, where the compiler would ask for it in the next."""
    source = evidence.source
    powers = _powers(source)
    for func, param, obs, seen in observed_params(evidence):
        base = without_none(seen)
        if base == tstypes.TENSOR or base.is_none:
            continue  # Tensor is TorchScript's assumption; Optional[Tensor] is TS001's
        why = saw(obs, seen)
        power = powers.get((func.qualname, param.name)) if base == _INT else None
        if power is not None:
            base = _FLOAT
            why += (f", but {power}: `int ** int` is a float in TorchScript, so a float parameter takes what "
                    "both pass (eager Python is unchanged)")
        wanted = tstypes.optional(base) if (seen.is_optional or param.default_kind is ValueKind.NONE) else base
        ann = annotation(wanted, source)
        yield Fix(CODE, f"annotate parameter `{param.name}` of {func.qualname} as {ann.text}",
                  why, AnnotateParam(func.qualname, param.name, ann),
                  evidence=evidence_of(obs), location=Location(source.path, func.first_line))


_INT, _FLOAT = TSType("int"), TSType("float")


def _powers(source: SourceIndex) -> dict[tuple[str, str], str]:
    """The parameters of this file's functions that a call passes `a ** b` (`self.decode(f, 2 ** i)`),
    or that a caller passes such a parameter on to unchanged (`decode` handing `stride` to
    `cell_centers`): (function, parameter) → where the power is computed, said for a reason."""
    found: dict[tuple[str, str], str] = {}
    work: list[tuple[FunctionFacts, str]] = []
    for call in source.calls:
        caller = source.function(call.function)
        callee = callee_of(source, caller, call.callee) if caller is not None else None
        if callee is None:
            continue
        for pname, value in ((p.name, v) for p, v in bound(callee, call)):
            if _is_power(value) and (callee.qualname, pname) not in found and _unannotated(callee, pname):
                found[(callee.qualname, pname)] = f"{call.function} passes `{value.strip()}` (line {call.line})"
                work.append((callee, pname))
    while work:  # passed on unchanged: `cell_centers(size, stride)` inside `decode`
        func, name = work.pop()
        for call in (c for c in source.calls if c.function == func.qualname):
            callee = callee_of(source, func, call.callee)
            if callee is None:
                continue
            for pname, value in ((p.name, v) for p, v in bound(callee, call)):
                if value.strip() == name and (callee.qualname, pname) not in found and _unannotated(callee, pname):
                    found[(callee.qualname, pname)] = (f"{func.qualname} passes it its `{name}`, and "
                                                       f"{found[(func.qualname, name)]}")
                    work.append((callee, pname))
    return found


def _unannotated(func: FunctionFacts, name: str) -> bool:
    """Ours to type: an annotation the user wrote (`stride: int`) decides what is passed on."""
    param = func.param(name)
    return param is not None and param.annotation is None


def _is_power(text: str) -> bool:
    """`2 ** i`, `(base ** level)`: a power at the top of the argument's expression."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return False
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)


_BRANCHES = re.compile(r"if-expression's true branch has type (?P<true>.+?) but false branch has type (?P<false>.+?):?$")


def _from_conditional(evidence: Evidence) -> Iterator[Fix]:
    """`trg.shape[0] if max_len is None else max_len`: "if-expression's true branch has type int but
    false branch has type Tensor". A branch that is a parameter TorchScript took for a Tensor (left
    unannotated, or annotated `Optional[Tensor]` by this run because the probe only ever passed None)
    has the other branch's type: `max_len: Optional[int] = None`. A user's annotation stands."""
    source = evidence.source
    for diag in evidence.diagnostics:
        m = _BRANCHES.match(diag.message.strip())
        if m is None or diag.location is None:
            continue
        branches = _conditional_branches(diag)
        func = source.function_at(diag.location.line) if branches else None
        if branches is None or func is None:
            continue
        types = {"true": usable(m.group("true")), "false": usable(m.group("false"))}
        for side, other in (("true", "false"), ("false", "true")):
            name, wanted = branches[side], types[other]
            param = func.param(name) if name else None
            if param is None or wanted is None or types[side] != tstypes.TENSOR or wanted == tstypes.TENSOR \
                    or wanted.is_none or not _assumed_tensor(evidence, func, param):
                continue
            if param.default_kind is ValueKind.NONE or (param.annotation or "").startswith("Optional"):
                wanted = tstypes.optional(wanted)
            ann = annotation(wanted, source)
            yield Fix(CODE, f"annotate parameter `{param.name}` of {func.qualname} as {ann.text}",
                      f"{cite(diag)}: the {side} branch is `{param.name}`, which TorchScript took for a Tensor; the "
                      f"other branch makes it {without_none(wanted)}", AnnotateParam(func.qualname, param.name, ann),
                      evidence=Source.COMPILER, location=diag.location)


_OPTIONAL_TENSOR = tstypes.optional(tstypes.TENSOR)


def _assumed_tensor(evidence: Evidence, func: FunctionFacts, param: ParamFacts) -> bool:
    """`param` is a Tensor only by assumption, so a compiler message naming its real type may retype
    it: unannotated, or annotated `Tensor`/`Optional[Tensor]` by this run (the probe only passed
    None). A user's annotation stands, as does any when the file as the user has it is unknown."""
    if param.star or evidence.users_annotation(func.qualname, param.name) is not None:
        return False
    return param.annotation is None or (evidence.original is not None
                                        and usable(param.annotation) in (tstypes.TENSOR, _OPTIONAL_TENSOR))


def _underlined(diag: Diagnostic) -> jt.Frame | None:
    """The frame of the compiler's message that marks the offending code (`<--- HERE`)."""
    return next((f for f in jt.frames(diag.raw.splitlines()) if f.has_here), None)


def _from_unpacking(evidence: Evidence) -> Iterator[Fix]:
    """GPT-2's `past_key, past_value = layer_past` with `layer_past=None` that no probe input set:
    "Tensor cannot be used as a tuple". Unpacked into N names, the parameter is a tuple of N:
    `Optional[Tuple[Tensor, Tensor]]`, its items Tensors (what TorchScript assumes of a value it is
    told nothing about; a probe input passing one would say more). A user's annotation stands."""
    source = evidence.source
    for diag in evidence.diagnostics:
        if diag.message.strip().rstrip(":") != "Tensor cannot be used as a tuple" or diag.location is None:
            continue
        unpacked = _unpacked(diag)
        func = source.function_at(diag.location.line) if unpacked else None
        if unpacked is None or func is None:
            continue
        name, count = unpacked
        param = func.param(name)
        if param is None or not _assumed_tensor(evidence, func, param):
            continue
        wanted = TSType("Tuple", tuple(tstypes.TENSOR for _ in range(count)))
        if param.default_kind is ValueKind.NONE or (param.annotation or "").startswith("Optional"):
            wanted = tstypes.optional(wanted)
        ann = annotation(wanted, source)
        yield Fix(CODE, f"annotate parameter `{name}` of {func.qualname} as {ann.text}",
                  f"{cite(diag)}: the code unpacks `{name}` into {count} names, so it is a tuple of {count} (its "
                  f"items taken for Tensors, as TorchScript assumes of a value it is told nothing about)",
                  AnnotateParam(func.qualname, name, ann), evidence=Source.COMPILER, location=diag.location)


_OP_ARGUMENT = re.compile(r"Expected a value of type '(?P<exp>.+?)' for argument '(?P<arg>\w+)' but instead found "
                          r"type '(?P<found>.+?)'")


def _from_op_keyword(evidence: Evidence) -> Iterator[Fix]:
    """diffusers' `torch.randn(shape, generator=generator)` with `generator=None` that no probe input
    set: TS001 wrote `Optional[Tensor]`, and the op says what it takes: "Expected a value of type
    'Optional[Generator]' for argument 'generator' but instead found type 'Optional[Tensor]'". A
    parameter passed as it is, by keyword, that TorchScript took for a Tensor (unannotated, or
    annotated so by this run) gets the op's type. A user's annotation stands; a type the probe saw
    wins over this (TS005's probe fixes come first)."""
    source = evidence.source
    for diag in evidence.diagnostics:
        m = _OP_ARGUMENT.search(diag.message)
        if m is None or diag.location is None or without_none(usable(m.group("found")) or tstypes.TENSOR) \
                != tstypes.TENSOR:
            continue
        wanted, func = usable(m.group("exp")), source.function_at(diag.location.line)
        name = _keyword_value(diag, m.group("arg"))
        param = func.param(name) if func is not None and name else None
        if wanted is None or func is None or param is None or without_none(wanted) == tstypes.TENSOR \
                or not _assumed_tensor(evidence, func, param):
            continue
        seen = observed_type(evidence.observed(func.qualname, param.name, Role.ARG))
        if (seen is not None and not seen.is_none) or param.default_kind not in (None, ValueKind.NONE):
            continue  # what ran, or the default's own type, says more than a schema (`kernel_size` is
            # List[int] in avg_pool1d's, which takes an int too)
        if param.default_kind is ValueKind.NONE:
            wanted = tstypes.optional(wanted)
        ann = annotation(wanted, source)
        yield Fix(CODE, f"annotate parameter `{param.name}` of {func.qualname} as {ann.text}",
                  f"{cite(diag)}: `{param.name}` is passed on as it is, and TorchScript had taken it for a Tensor",
                  AnnotateParam(func.qualname, param.name, ann), evidence=Source.COMPILER, location=diag.location)


def _keyword_value(diag: Diagnostic, keyword: str) -> str | None:
    """The plain name the underlined call passes as `keyword=` (None if it passes something else)."""
    frame = _underlined(diag)
    if frame is None:
        return None
    text = " ".join(frame.span.split())
    after = frame.after.lstrip()
    if after.startswith("("):  # the underline is the callee alone (`torch.randn`): its arguments follow
        inner = jt._balanced(after)
        text = f"{text}({inner})" if inner is not None else text
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(node, ast.Call):
        return None
    value = next((k.value for k in node.keywords if k.arg == keyword), None)
    return value.id if isinstance(value, ast.Name) else None


def _unpacked(diag: Diagnostic) -> tuple[str, int] | None:
    """(name, how many targets) for an underlined plain name unpacked by `a, b = name`."""
    frame = _underlined(diag)
    if frame is None or not frame.span.strip().isidentifier():
        return None
    try:
        statement = ast.parse(frame.first_source.strip()).body
    except SyntaxError:
        return None
    if len(statement) != 1 or not isinstance(statement[0], ast.Assign) or len(statement[0].targets) != 1:
        return None
    target, value = statement[0].targets[0], statement[0].value
    if not isinstance(target, (ast.Tuple, ast.List)) or any(isinstance(e, ast.Starred) for e in target.elts) \
            or not isinstance(value, ast.Name) or value.id != frame.span.strip():
        return None
    return value.id, len(target.elts)


def _conditional_branches(diag: Diagnostic) -> dict[str, str | None] | None:
    """The plain names the underlined conditional expression's branches are ({"true": ..., "false": ...},
    None for a branch that is not a name), or None when the underline is not a conditional expression."""
    frame = _underlined(diag)
    if frame is None:
        return None
    try:
        node = ast.parse(" ".join(frame.span.split()), mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(node, ast.IfExp):
        return None
    return {"true": node.body.id if isinstance(node.body, ast.Name) else None,
            "false": node.orelse.id if isinstance(node.orelse, ast.Name) else None}


def _from_compiler(evidence: Evidence) -> Iterator[Fix]:
    """The type the compiler's message names for a parameter it took for a Tensor.

    A guess from overload resolution is not evidence. `torch.as_tensor(scales, dtype=dtype,
    device=device)` with every parameter unannotated fails with "Arguments for call are not valid"
    and lists the overloads it tried; the type named is the one the first overload that mentions
    `scales` wants (`aten::as_tensor.bool`: bool), not one the code needs: the probe passed tuples
    of ints, which `aten::as_tensor.list` takes. So when the probe (or mypy) saw a parameter, that
    guess yields to what was seen, even a Tensor (the guess would contradict what ran; the error is
    then reported without a fix): `_from_probe` proposes the observed type. Only a parameter nothing
    was seen in keeps the guess, said to be one in its reason: the first overload is often what the
    code means (`x.sum(dim)`: int, `name == "a"`: str), and a wrong one is caught, not kept — the
    next pass compiles the callers against it, and `--apply` checks that the scripted model computes
    what eager Python does. Other messages name the type the code needs (`range(n)`: int; a caller
    passing a float to a compiled helper; a call of the scripted model failing on the probe's value)
    and stand as they are: `2 ** i` into `stride: int` is `_argument_types`'s, where the compiler's
    float wins over the probe's int."""
    source = evidence.source
    for diag in evidence.diagnostics:
        if diag.kind not in _KINDS or not diag.symbol:
            continue
        func = function_of(diag, source)
        if func is None:
            continue
        param = func.param(diag.symbol)
        if param is None or param.annotation is not None or param.star:
            continue
        wanted = _wanted_type(diag, func)
        if wanted is None:
            continue
        reason = cite(diag)
        tried = _overloads_tried(diag)
        if tried > 1:
            if observed_type(evidence.observed(func.qualname, param.name, Role.ARG)) is not None:
                continue  # what ran beats the first overload's type: _from_probe's
            reason += (f" — a guess: the compiler tried {tried} overloads and this is the type the first one "
                       f"naming `{param.name}` wants; the probe did not see `{param.name}`")
        if wanted.is_optional and param.default_kind is not ValueKind.NONE \
                and not handles_none(source, func, param.name, frozenset(), passed_elsewhere=True):
            # the caller passes an Optional into a helper that uses the value itself and hands it to
            # nothing (FT-Transformer's `self.num_tokenizer(x_num)`, whose forward indexes it): widening
            # the helper would only move the error inside it; the caller must rule None out
            value = _passed_as(source, diag, func, param.name) or "<value>"
            yield Fix(CODE, f"rule out None before passing it to {func.qualname}",
                      f"{reason} — {func.qualname} uses `{param.name}` as a {without_none(wanted)} (it never "
                      f"tests it for None), so the caller must: `assert {value} is not None` before the call, "
                      f"or `if {value} is not None:` around it", None, safety=Safety.DISPLAY_ONLY,
                      location=diag.location or place(diag, func, source))
            continue
        if param.default_kind is ValueKind.NONE:
            wanted = tstypes.optional(wanted)
        ann = annotation(wanted, source)
        yield Fix(CODE, f"annotate parameter `{param.name}` of {func.qualname} as {ann.text}",
                  reason, AnnotateParam(func.qualname, param.name, ann),
                  location=place(diag, func, source))


def _passed_as(source: SourceIndex, diag: Diagnostic, callee: FunctionFacts, name: str) -> str | None:
    """The argument text a call at the diagnostic's line gives `callee`'s parameter `name`."""
    if diag.location is None:
        return None
    for call in (c for c in source.calls if c.line == diag.location.line):
        caller = source.function(call.function)
        if caller is not None and callee_of(source, caller, call.callee) == callee:
            return next((value for p, value in bound(callee, call) if p.name == name), None)
    return None


_NOT_VALID = "Arguments for call are not valid"


def _overloads_tried(diag: Diagnostic) -> int:
    """How many schemas a diagnostic's "Arguments for call are not valid" lists (0: not one of those).
    Only INFERRED_TENSOR takes its type from a schema: the others name the value's own type."""
    if diag.kind is not DiagnosticKind.INFERRED_TENSOR or _NOT_VALID not in diag.raw:
        return 0
    lines = diag.raw.splitlines()
    start = next(i for i, line in enumerate(lines) if _NOT_VALID in line)
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("The original call")), len(lines))
    return len(jt.variants(lines[start:end]))


def _wanted_type(diag: Diagnostic, func: FunctionFacts) -> TSType | None:
    param = func.param(diag.symbol or "")
    if diag.kind is DiagnosticKind.DEFAULT_TYPE:
        if param is None or param.default_kind is None:
            return None
        name = _DEFAULT_TYPES.get(param.default_kind)
        if name is None and param.default_kind is ValueKind.NONE:
            return tstypes.TENSOR
        return tstypes.TSType(name) if name else None
    if not diag.types:
        return None
    wanted = usable(diag.types[0])
    if wanted is None or wanted == tstypes.TENSOR or wanted.is_none:
        return None
    # A caller passes an Optional value (`self.merge(attn_mask)` with `attn_mask: Optional[Tensor]`):
    # the parameter must accept None even without a None default; `Tensor` alone would change nothing.
    return None if wanted.is_optional and wanted.args and wanted.args[0].is_none else wanted
