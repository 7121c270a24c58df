"""Shared lookups for rules: which function a diagnostic is about, how to spell a type."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from tsannotate import tstypes
from tsannotate.records import (
    Annotation,
    AttributeAssignment,
    CallSite,
    Diagnostic,
    Evidence,
    FunctionFacts,
    LocalAssignment,
    Location,
    Observation,
    ParamFacts,
    Role,
    Source,
    SourceIndex,
)
from tsannotate.tstypes import TSType


def function_of(diag: Diagnostic, source: SourceIndex) -> FunctionFacts | None:
    """The function in this file a diagnostic is about, or None when it is elsewhere."""
    if diag.function:
        found = source.function(diag.function)
        if found:
            return found
        bare = diag.function.rsplit(".", 1)[-1]
        if diag.owner:
            found = source.function(f"{diag.owner}.{bare}")
            if found:
                return found
        # TorchScript names an inherited method after the subclass; trust that name for a
        # diagnostic about one of its parameters (others are placed by their location below)
        owner = diag.function.rsplit(".", 1)[0] if "." in diag.function else diag.owner
        found = inherited(source, owner, bare) if owner else None
        if found and diag.symbol and found.param(diag.symbol):
            return found
    if diag.location and _same_file(diag.location.path, source.path):
        return source.function_at(diag.location.line)
    if diag.function:
        bare = diag.function.rsplit(".", 1)[-1]
        named = [f for f in source.functions if f.name == bare]
        preferred = [f for f in named if f.class_name == diag.target]
        if len(preferred) == 1:
            return preferred[0]
        if len(named) == 1:
            return named[0]
    return None


def inherited(source: SourceIndex, class_name: str, method: str, seen: tuple[str, ...] = ()) -> FunctionFacts | None:
    """`RNN.permute_hidden` as TorchScript names it, when the file defines it on a base class
    (`class RNN(RNNBase)`, `RNNBase.permute_hidden`): the nearest definition up the bases."""
    cls = source.cls(class_name)
    if cls is None or class_name in seen:
        return None
    for base in (b.rsplit(".", 1)[-1] for b in cls.bases):
        found = source.function(f"{base}.{method}") or inherited(source, base, method, (*seen, class_name))
        if found:
            return found
    return None


def _same_file(a: str, b: str) -> bool:
    return a == b or a.endswith("/" + b.lstrip("./")) or b.endswith("/" + a.lstrip("./"))


def annotation(t: TSType, source: SourceIndex) -> Annotation:
    return tstypes.render(t, source.style)


def usable(text: str | None) -> TSType | None:
    """Parse a type the compiler named, if it is one an annotation can say."""
    if not text:
        return None
    t = tstypes.try_parse(text)
    if t is None or not tstypes.is_expressible(t):
        return None
    return t


def value_beside_none(types: tuple[str, ...]) -> TSType | None:
    """For a (before, after) pair where one side is NoneType, the other side's type,
    if an annotation can say it: ("NoneType", "Tensor") → Tensor."""
    if len(types) != 2:
        return None
    before, after = (tstypes.try_parse(t) for t in types)
    if before is None or after is None or before.is_none == after.is_none:
        return None
    value = after if before.is_none else before
    return value if tstypes.is_expressible(value) else None


def place(diag: Diagnostic, func: FunctionFacts | None, source: SourceIndex) -> Location | None:
    """Where a fix points: the compiler's location, else the function's `def` line (call-time
    errors raised at the call boundary carry none)."""
    if diag.location is not None or func is None:
        return diag.location
    return Location(source.path, func.first_line)


def cite(diag: Diagnostic) -> str:
    """The evidence of a fix's reason: what the compiler said (the fix's location says where)."""
    return diag.message


# --------------------------------------------------------------------------- runtime evidence

_UNCOMPILED = ("ignore", "unused")


def compiled_functions(source: SourceIndex) -> list[FunctionFacts]:
    """Functions TorchScript may compile: everything but @torch.jit.ignore/unused ones."""
    return [f for f in source.functions
            if not any(_decorator_name(d) in _UNCOMPILED for d in f.decorators)]


def observed_type(obs: Observation | None) -> TSType | None:
    """What the probe saw, when it is one TorchScript type (Unknown elements excluded)."""
    if obs is None or not obs.type:
        return None
    t = tstypes.try_parse(obs.type)
    if t is None or not tstypes.is_expressible(t):
        return None
    return t


def without_none(t: TSType) -> TSType:
    """Optional[T] → T; anything else unchanged."""
    return t.args[0] if t.is_optional and t.args else t


def takes(wanted: TSType, seen: TSType) -> bool:
    """Every value of type `seen` is a valid `wanted` too (a float takes an int, Optional[T] None)."""
    if wanted == seen or (wanted == TSType("float") and seen == TSType("int")):
        return True
    if wanted.is_optional and wanted.args:
        return seen.is_none or takes(wanted.args[0], without_none(seen))
    return wanted.name == seen.name == "Tuple" and len(wanted.args) == len(seen.args) \
        and all(takes(w, t) for w, t in zip(wanted.args, seen.args))


def first_assignments(source: SourceIndex) -> list[LocalAssignment]:
    """Each local's first assignment in its function (source order), unannotated ones only."""
    seen: set[tuple[str, str]] = set()
    firsts: list[LocalAssignment] = []
    for a in sorted(source.locals, key=lambda a: (a.function, a.line)):
        key = (a.function, a.name)
        if key in seen:
            continue
        seen.add(key)
        if not a.annotated:
            firsts.append(a)
    return firsts


def evidence_of(obs: Observation) -> Source:
    """PROBE for what the eager run saw, STATIC for what mypy inferred."""
    return Source.STATIC if obs.static else Source.PROBE


def saw(obs: Observation, t: TSType) -> str:
    """The evidence line of a fix from the probe (or, for a static observation, from mypy)."""
    if obs.static:
        sites = f"{obs.count} call site{'s' if obs.count != 1 else ''}"
        what = {"arg": f"`{obs.name}` is passed {t} at the {sites} of {obs.qualname} in this file",
                "local": f"local `{obs.name}` as {t} in {obs.qualname}",
                "attr": f"attribute `{obs.name}` of {obs.qualname} as {t}",
                "return": f"{obs.qualname} returns {t}"}[obs.role.value]
        return f"mypy infers {what}; {obs.note or 'no runtime value was seen'}"
    calls = f"{obs.count} value{'s' if obs.count != 1 else ''}"
    what = {"arg": f"passed `{obs.name}`", "local": f"left local `{obs.name}`",
            "attr": f"left attribute `{obs.name}`", "return": "returned"}[obs.role.value]
    return f"the probe run {what} as {t} ({calls} seen in {obs.qualname})"


def init_attributes(source: SourceIndex) -> list[AttributeAssignment]:
    """`self.x = ...` in a class's own `__init__`, for attributes the class body does not
    already annotate."""
    out = []
    for a in source.attributes:
        cls = source.cls(a.class_name)
        if a.function == f"{a.class_name}.__init__" and cls is not None and cls.annotation(a.attr) is None:
            out.append(a)
    return out


def observed_params(evidence: Evidence) -> Iterator[tuple[FunctionFacts, ParamFacts, Observation, TSType]]:
    """Each unannotated, non-star parameter of a compiled function with what was seen in it (in a
    function TorchScript compiles: see `Reach`)."""
    reach = Reach.of(evidence)
    for func in compiled_functions(evidence.source):
        for param in func.params:
            if param.annotation is not None or param.star:
                continue
            obs = evidence.observed(func.qualname, param.name, Role.ARG)
            seen = observed_type(obs)
            if obs is not None and seen is not None and reach.counts(func.qualname, obs):
                yield func, param, obs, seen


# --------------------------------------------------------------------------- what TorchScript compiles

# Decorators that make TorchScript compile a function without a call from compiled code: exported
# methods, scripted functions, old-style script methods, and a module's properties (compiled with it).
_ENTRY_DECORATORS = frozenset({"export", "script", "script_method", "property", "setter", "getter",
                               "deleter", "cached_property"})


class Reach:
    """Which functions of this file TorchScript compiles, as far as the file and the worker say.

    Entry points: every `forward` method, methods decorated @torch.jit.export (and properties),
    functions decorated @torch.jit.script, a function a module attribute holds (`self.act = gelu`),
    every function that compiled (the worker's signatures) and every function a compiler error is
    in or was compiled from (its call chain; not a `__init__`: TorchScript compiles a module's
    `__init__` never, and a TorchScript class's only through a call of the class). From those, what
    the file's code refers to: `helper(...)` and `self.method(...)` (`rules._bool_params.callee_of`),
    a class of the file called (its methods), any `<expr>.name(...)` or `self.name` read — every
    method of that name in the file (a subclass's override, `self.encoder.step(...)`, a method passed
    as a value: `multi_apply(self.forward_single, feats)` compiles it) — and a function of the file
    passed as an argument by name. An over-approximation, never followed through a
    @torch.jit.ignore/unused function, whose body stays Python.

    What is left is run only by code TorchScript never compiles: `__init__` (timm's `to_2tuple`,
    YOLO's `autopad`, `_make_divisible`), the probe, a model factory (`vit_tiny`), an ignored
    method. Annotating those is noise at best and wrong at worst (`to_2tuple(x: int)` against its
    own `isinstance(x, (list, tuple))` branch), so evidence about them does not count (`counts`).
    """

    _last: tuple[Evidence, Reach] | None = None  # the rules of one plan ask about one evidence

    @classmethod
    def of(cls, evidence: Evidence) -> Reach:
        """The reach of `evidence`, computed once for the rules of a plan."""
        last = cls._last
        if last is not None and last[0] is evidence:
            return last[1]
        reach = cls(evidence)
        cls._last = (evidence, reach)
        return reach

    def __init__(self, evidence: Evidence) -> None:
        source = evidence.source
        self.source = source
        self._methods: dict[str, list[FunctionFacts]] = {}
        for f in source.functions:
            if f.class_name is not None:
                self._methods.setdefault(f.name, []).append(f)
        self.refers: dict[str, set[str]] = {}  # function → the functions its code may run or compile
        for call in source.calls:
            caller = source.function(call.function)
            if caller is not None:
                self.refers.setdefault(caller.qualname, set()).update(self._resolve(caller, call))
        for read in source.reads:  # `self.forward_single` passed as a value, a property read
            self.refers.setdefault(read.function, set()).update(f.qualname for f in self._methods.get(read.attr, ()))
        uncompiled = {f.qualname for f in source.functions} - {f.qualname for f in compiled_functions(source)}
        self.reached = self._closure(self._entries(evidence) - uncompiled, uncompiled)
        # run from Python only: by an ignored/unused function (the probe may have seen it run), and
        # not by compiled code
        self.python_only = self._closure(uncompiled, self.reached) - self.reached

    def _entries(self, evidence: Evidence) -> set[str]:
        source = evidence.source
        entries = {f.qualname for f in source.functions
                   if (f.name == "forward" and f.class_name is not None)
                   or _ENTRY_DECORATORS & {_decorator_name(d) for d in f.decorators}
                   or (f.class_name is None and any(a.value_text.strip() == f.name for a in source.attributes))}
        entries |= {s.qualname for s in evidence.signatures if source.function(s.qualname) is not None}
        for diag in evidence.diagnostics:
            named = [function_of(diag, source), source.function(diag.target) if diag.target else None]
            named += [source.function_at(loc.line) for loc in diag.call_chain if _same_file(loc.path, source.path)]
            entries |= {f.qualname for f in named if f is not None and f.name != "__init__"}
        return entries

    def _closure(self, start: Collection[str], stop: Collection[str]) -> frozenset[str]:
        """`start` and what it refers to, transitively, not through (nor into) `stop`."""
        found: set[str] = set()
        work = list(start)
        while work:
            qualname = work.pop()
            if qualname in found:
                continue
            found.add(qualname)
            work.extend(q for q in self.refers.get(qualname, ()) if q not in stop and q not in found)
        return frozenset(found)

    def _resolve(self, caller: FunctionFacts, call: CallSite) -> set[str]:
        from tsannotate.rules._bool_params import callee_of  # it imports this module

        source = self.source
        found: set[str] = set()
        direct = callee_of(source, caller, call.callee)
        if direct is not None:
            found.add(direct.qualname)
        if "." not in call.callee and source.cls(call.callee) is not None:  # `Box(...)`: a TorchScript class
            found |= {f.qualname for f in source.functions if f.class_name == call.callee}
        elif "." in call.callee:
            found |= {f.qualname for f in self._methods.get(call.callee.rsplit(".", 1)[-1], ())}
        for text in (*call.args, *(v for _, v in call.keywords)):  # `apply(helper, x)`
            named = source.function(text.strip())
            if named is not None and named.class_name is None:
                found.add(named.qualname)
        return found

    def compiles(self, qualname: str) -> bool:
        return qualname in self.reached

    def calls(self) -> Iterator[CallSite]:
        """The file's calls inside functions TorchScript compiles: where a call the compiler
        rejected in one function fails alike in the others, one pass later each."""
        return (c for c in self.source.calls if c.function in self.reached)

    def counts(self, qualname: str, obs: Observation) -> bool:
        """May a rule annotate function `qualname` from `obs`? mypy's inferences only where
        TorchScript compiles the function. The probe records only while the model runs, so what
        it saw stands unless the function is run only from code TorchScript does not compile (a
        helper of an ignored method): a function nothing here refers to (one another file calls)
        keeps it, this file cannot tell."""
        if obs.static:
            return self.compiles(qualname)
        return qualname not in self.python_only

    def class_counts(self, class_name: str, obs: Observation) -> bool:
        """The same for an attribute of a class: mypy's inferences only where TorchScript compiles
        some method of the class (its own, or one it inherits from a class of this file)."""
        if not obs.static:
            return True
        classes, todo = set(), [class_name]
        while todo:
            name = todo.pop()
            cls = self.source.cls(name)
            if name in classes or cls is None:
                continue
            classes.add(name)
            todo.extend(b.rsplit(".", 1)[-1] for b in cls.bases)
        return any(f.class_name in classes and f.qualname in self.reached for f in self.source.functions)


def _decorator_name(text: str) -> str:
    """`torch.jit.export` → "export"; `torch.jit.ignore(drop=True)` → "ignore"; `x.setter` → "setter"."""
    return text.split("(", 1)[0].strip().rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Sighting:
    """A function that makes a call TorchScript rejects: named by the compiler (`diagnostic`), or
    found making the same call in other compiled code. `key` tells calls of one rule apart
    (`.bool()` from `.bfloat16()`)."""

    function: str
    key: str
    location: Location | None
    diagnostic: Diagnostic | None


def named_then_alike(evidence: Evidence, named: Callable[[Diagnostic], str | None],
                     alike: Callable[[CallSite], str | None]) -> Iterator[Sighting]:
    """The functions the compiler names for a call it rejects (`named` gives the diagnostic's key,
    None: not this rule's), then every other compiled function making such a call (`alike` gives
    the call's key): the compiler stops at one per model per pass, and each fails alike. One
    sighting per (function, key); the second kind only for keys the compiler named."""
    source = evidence.source
    done: set[tuple[str, str]] = set()
    for diag in evidence.diagnostics:
        key = named(diag)
        func = function_of(diag, source) if key is not None else None
        if key is None or func is None or (func.qualname, key) in done:
            continue
        done.add((func.qualname, key))
        yield Sighting(func.qualname, key, diag.location, diag)
    keys = {key for _, key in done}
    if not keys:
        return
    for call in Reach.of(evidence).calls():
        key = alike(call)
        if key is None or key not in keys or (call.function, key) in done:
            continue
        done.add((call.function, key))
        yield Sighting(call.function, key, Location(source.path, call.line), None)

