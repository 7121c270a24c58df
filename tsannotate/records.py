"""Frozen records passed between the stages of tsannotate.

Standard library only: the CLI process, the worker process, the rules and the
rewriter all speak in these types, and they cross the worker boundary pickled.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


# --------------------------------------------------------------------------- places


@dataclass(frozen=True)
class Location:
    """A place in a source file: 1-based line, 0-based column (libcst's convention)."""

    path: str
    line: int
    column: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column + 1}"


# --------------------------------------------------------------------------- compiler side


class DiagnosticKind(enum.Enum):
    """What the TorchScript compiler (or a call of the compiled model) complained about."""

    VARIABLE_TYPE_CHANGED = "variable-type-changed"  # `x = None` then `x = tensor`
    ATTRIBUTE_TYPE_CHANGED = "attribute-type-changed"  # `self.a = None` in __init__, Tensor later
    EMPTY_CONTAINER = "empty-container"  # `[]`/`{}` assumed to hold Tensors
    ATTRIBUTE_CONVERSION = "attribute-conversion"  # module attribute of a type TorchScript can't infer
    INFERRED_TENSOR = "inferred-tensor"  # unannotated parameter assumed Tensor, used otherwise
    DEFAULT_TYPE = "default-type"  # default value does not match the (inferred) parameter type
    NONE_DEFAULT = "none-default"  # `p=None` compiled as a plain Tensor: fails when called with None
    UNSUPPORTED = "unsupported"  # a construct TorchScript cannot compile (NotSupportedError ...)
    CALL_FAILED = "call-failed"  # scripted, but raised when called on the probe inputs
    CONSTANT_NEEDED = "constant-needed"  # `self.layers[self.k]`: the index must be a constant
    ARGUMENT_TYPE = "argument-type"  # `f(x, 2 ** i)`: the callee's annotated parameter does not take the value
    RETURN_TYPE_CHANGED = "return-type-changed"  # two return statements of one function return different types
    OPTIONAL_USED = "optional-used"  # an Optional value used where its T is needed: refine it first
    TOLIST_HINT = "tolist-hint"  # `seq = t.tolist()`: the result's type must be written (List[int] ...)
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Diagnostic:
    """One compiler error (or call-time failure), parsed into the parts the rules need.

    `symbol` is the variable, attribute or parameter the message is about; `types`
    are the TorchScript types it names, in message order (e.g. ("NoneType", "Tensor")
    for "previously had type NoneType but is now being assigned ... Tensor");
    `call_chain` holds the "is being compiled since it was called from" locations,
    innermost first; `function` is the qualified name of the function the error is
    in, when known (filled in by the loop from source facts if the message lacks it).
    """

    kind: DiagnosticKind
    message: str
    location: Location | None = None
    symbol: str | None = None
    types: tuple[str, ...] = ()
    call_chain: tuple[Location, ...] = ()
    raw: str = ""
    target: str = ""  # what was being scripted when this appeared ("Net", "helper", "Net.encoder")
    function: str | None = None
    owner: str | None = None  # class the symbol belongs to: "G" in "Module 'G' has no attribute 'foo'"
    function_path: str = ""  # the file defining `function`, when the worker found it (a callee elsewhere)

    def where(self) -> str:
        return str(self.location) if self.location else "<unknown location>"


@dataclass(frozen=True)
class CompiledParam:
    name: str
    type: str  # TorchScript's spelling: "Tensor", "int", "Optional[Tensor]", "List[int]"
    has_default: bool = False


@dataclass(frozen=True)
class CompiledSignature:
    """How TorchScript typed a compiled function or method (qualname as in the source)."""

    qualname: str  # "Net.forward", "helper"
    params: tuple[CompiledParam, ...]
    returns: str
    path: str = ""  # the file defining it ("" when unknown: the model file)


class Role(enum.Enum):
    """What an observed value was, in the function (or class) it was seen in."""

    ARG = "arg"  # a parameter's value at call time
    RETURN = "return"  # the return value
    LOCAL = "local"  # a local variable's value at a return
    ATTR = "attr"  # a module attribute's value before or after a method call


@dataclass(frozen=True)
class Observation:
    """The types the eager probe run saw for one symbol, joined across every value.

    `type` is a TorchScript type in typing spelling ("Optional[Tensor]", "List[int]",
    "Dict[str, List[float]]"); an empty container whose elements were never seen has
    "Unknown" inside ("List[Unknown]"). Empty `type` means no TorchScript type holds what
    was seen, and `note` says why ("a Python object of type Config", "mixes int and str").
    """

    qualname: str  # "Net.forward", "helper"; for ATTR the class: "Net"
    name: str  # parameter, local or attribute name; "" for RETURN
    role: Role
    type: str
    count: int = 1  # values seen
    note: str = ""
    static: bool = False  # inferred by mypy from the code, not seen at runtime (count is 0)
    path: str = ""  # the file the function (or class) is in ("" when unknown: the model file)


@dataclass(frozen=True)
class TargetResult:
    name: str  # "Net", "helper"
    scripted: bool
    called: bool = False  # the scripted target was called on probe inputs and matched eager


class LoadFailure(enum.Enum):
    SYNTAX = "syntax-error"
    IMPORT = "import-error"
    PROBE = "probe-error"
    NO_TARGET = "no-target"
    CRASH = "worker-crash"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class LoadError:
    failure: LoadFailure
    message: str  # one line, for people: what failed and what to do
    details: str = ""  # the user's own traceback, when there is one


@dataclass(frozen=True)
class ScriptRequest:
    """CLI → worker: load these sources, find targets, script them."""

    model_path: str  # absolute path of the file being fixed
    source: str  # the current (possibly edited, not yet written) text of that file
    probe: str | None = None  # "path.py:callable", or None to look in the model file
    no_probe: bool = False  # --no-probe: don't run the probe; compile zero-argument modules
    # other files of the user's project, as this pass has them: (absolute path, text); the
    # worker executes these instead of what is on disk when the model imports them
    sources: tuple[tuple[str, str], ...] = ()
    project_root: str = ""  # whose files load afresh each pass ("" = tsannotate.project's choice)


@dataclass(frozen=True)
class ScriptReport:
    """Worker → CLI: what happened when the pass's source was loaded and scripted."""

    targets: tuple[TargetResult, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    signatures: tuple[CompiledSignature, ...] = ()
    observations: tuple[Observation, ...] = ()  # from the eager probe run; empty without a probe
    load_error: LoadError | None = None
    notes: tuple[str, ...] = ()  # non-fatal, for people: "probe raised ...; compiler-only mode"
    seconds: float = 0.0

    @property
    def scripts(self) -> bool:
        return (
            self.load_error is None
            and bool(self.targets)
            and all(t.scripted for t in self.targets)
            and not self.diagnostics
        )


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class VerifyRequest:
    """CLI → worker: is the scripted model the eager model, and does it deploy?"""

    model_path: str
    source: str
    probe: str | None = None
    original: str | None = None  # the source before fixes: its eager outputs must not change
    trace: bool = False  # also trace with the first input and look for frozen values
    cpp: bool = False  # also run the saved model from a C++ program, without Python
    cache_dir: str | None = None  # where the C++ runner is built (default ~/.cache/tsannotate)
    sources: tuple[tuple[str, str], ...] = ()  # fixed sibling files (the originals are on disk)


@dataclass(frozen=True)
class Check:
    """One comparison: `stage` ("scripted", "loaded", "traced", "cpp", "eager") of `target`
    against eager on one input ("probe input 0", "probe input 1 with batch 3")."""

    target: str
    stage: str
    input: str
    ok: bool
    message: str = ""  # for a failure: what differs, where (output[1]), or what raised


@dataclass(frozen=True)
class PythonCall:
    """A method the scripted model calls back into Python for (`@torch.jit.ignore`)."""

    name: str  # "Net.helper"
    location: Location | None = None  # the call site in the scripted code


@dataclass(frozen=True)
class Hazard:
    """A line that freezes a runtime value into a trace (`len(x)`, `.item()`, ...)."""

    location: Location
    what: str  # "len() of a tensor becomes a constant"
    warned: bool = False  # the tracer itself warned here


@dataclass(frozen=True)
class VerifyReport:
    checks: tuple[Check, ...] = ()
    python_calls: tuple[PythonCall, ...] = ()
    hazards: tuple[Hazard, ...] = ()
    load_error: LoadError | None = None
    notes: tuple[str, ...] = ()  # skipped variants, a missing compiler, no probe ...
    seconds: float = 0.0

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    @property
    def compared(self) -> bool:
        """Some output was compared with eager (there was a probe with inputs)."""
        return any(c.input for c in self.checks)

    @property
    def ok(self) -> bool:
        return self.load_error is None and not self.failures


# --------------------------------------------------------------------------- source facts


class ValueKind(enum.Enum):
    """The shape of a right-hand side, as far as the rules care."""

    NONE = "none"
    EMPTY_LIST = "empty-list"
    EMPTY_DICT = "empty-dict"
    DICT_OF_EMPTY_LISTS = "dict-of-empty-lists"  # {"a": [], "b": []}
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    STR = "str"
    OTHER = "other"


@dataclass(frozen=True)
class ParamFacts:
    name: str
    annotation: str | None  # source text of the annotation, if any
    default: str | None  # source text of the default, if any
    default_kind: ValueKind | None = None
    star: str = ""  # "", "*", "**"
    keyword_only: bool = False


@dataclass(frozen=True)
class FunctionFacts:
    qualname: str  # "Net.forward", "helper", "outer.<locals>.inner" is not supported
    name: str
    class_name: str | None
    params: tuple[ParamFacts, ...]
    returns: str | None
    decorators: tuple[str, ...]  # source text without "@": "torch.jit.ignore"
    first_line: int  # the `def` line (decorators excluded)
    last_line: int

    def param(self, name: str) -> ParamFacts | None:
        return next((p for p in self.params if p.name == name), None)


@dataclass(frozen=True)
class LocalAssignment:
    function: str  # qualname
    name: str
    line: int
    value: ValueKind
    annotated: bool  # `x: T = ...`
    dict_keys: tuple[str, ...] = ()  # source text of keys for DICT_OF_EMPTY_LISTS
    beside_none: str = ""  # `A` of `A if c else None` / `None if c else A` (source text)
    beside_none_test: str = ""  # and its `c`


@dataclass(frozen=True)
class AttributeAssignment:
    class_name: str
    attr: str
    function: str  # qualname of the method that assigns `self.attr = ...`
    line: int
    value: ValueKind
    value_text: str


@dataclass(frozen=True)
class ClassFacts:
    name: str
    bases: tuple[str, ...]  # source text
    first_line: int
    last_line: int
    annotations: tuple[tuple[str, str], ...]  # class-level `name: annotation`
    constants: tuple[str, ...] = ()  # names listed in __constants__
    assigned: tuple[tuple[str, str], ...] = ()  # class-level `NAME = value`: (name, value text)

    def annotation(self, attr: str) -> str | None:
        return next((text for name, text in self.annotations if name == attr), None)


@dataclass(frozen=True)
class ImportStyle:
    """How the file already spells the names a fix may need."""

    tensor: str = "torch.Tensor"  # "Tensor" when the file does `from torch import Tensor`
    typing_module: str | None = None  # "typing" / "t" when the file does `import typing [as t]`
    typing_names: frozenset[str] = frozenset()  # names imported `from typing import ...`
    torch_alias: str = "torch"


@dataclass(frozen=True)
class Branch:
    """An `if` statement inside a function: its test's source text and the lines of its body
    (`first_line`..`body_last_line`) and of the whole statement, `else` included."""

    function: str
    test: str  # "self.use_norm", "not torch.jit.is_scripting()"
    first_line: int
    body_last_line: int
    last_line: int


@dataclass(frozen=True)
class CallSite:
    """A call inside a function: `callee` is the called expression's text ("self.aux", "helper");
    `args` the positional arguments' texts, `keywords` (name, value text) pairs (a `*a`/`**k` is left out)."""

    function: str
    callee: str
    line: int
    args: tuple[str, ...] = ()
    keywords: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TruthUse:
    """A plain name used as a bool inside a function: compared with `is True` / `== False`, or
    tested for truth (an `if`/`while`/`assert`/conditional-expression test, a `not` operand, an
    `and`/`or` operand of such a test)."""

    function: str
    name: str
    line: int


@dataclass(frozen=True)
class Narrowing:
    """Lines of a function on which its parameter `name` may not hold what the function was passed:
    a None test that TorchScript refines an Optional by (`if mask is not None:`, `a if mask is None
    else b`, `assert mask is not None`, an `if mask is None: return` before) covers them, or the
    function rebinds the name (then: the whole function). An over-approximation."""

    function: str
    name: str
    first_line: int
    last_line: int
    by: str = "test"  # "none-test" (compared with None), "test" (isinstance, truth, `is`), "rebinding"


@dataclass(frozen=True)
class AttributeRead:
    """`self.name` read (not assigned) inside a method: the class constants and None-able
    submodules the method's code reaches."""

    function: str
    attr: str
    line: int


@dataclass(frozen=True)
class SourceIndex:
    path: str
    functions: tuple[FunctionFacts, ...] = ()
    classes: tuple[ClassFacts, ...] = ()
    locals: tuple[LocalAssignment, ...] = ()
    attributes: tuple[AttributeAssignment, ...] = ()
    style: ImportStyle = field(default_factory=ImportStyle)
    branches: tuple[Branch, ...] = ()
    calls: tuple[CallSite, ...] = ()
    reads: tuple[AttributeRead, ...] = ()
    truth_uses: tuple[TruthUse, ...] = ()
    narrowings: tuple[Narrowing, ...] = ()

    def narrowed(self, function: str, name: str, line: int) -> bool:
        """May parameter `name` of `function` hold something else than it was passed on `line`?"""
        return any(n.function == function and n.name == name and n.first_line <= line <= n.last_line
                   for n in self.narrowings)

    def tests_for_none(self, function: str, name: str) -> bool:
        """Does `function` compare its parameter `name` with None (and never rebind it)?"""
        facts = [n.by for n in self.narrowings if n.function == function and n.name == name]
        return "none-test" in facts and "rebinding" not in facts

    def function(self, qualname: str) -> FunctionFacts | None:
        return next((f for f in self.functions if f.qualname == qualname), None)

    def function_at(self, line: int) -> FunctionFacts | None:
        """The innermost function whose body spans `line`."""
        best: FunctionFacts | None = None
        for f in self.functions:
            if f.first_line <= line <= f.last_line:
                if best is None or f.first_line >= best.first_line:
                    best = f
        return best

    def cls(self, name: str) -> ClassFacts | None:
        return next((c for c in self.classes if c.name == name), None)


# --------------------------------------------------------------------------- fixes


class Safety(enum.Enum):
    """ruff's three levels of applicability."""

    SAFE = "safe"  # eager behaviour unchanged, saved model runs without Python
    NEEDS_DECISION = "needs-decision"  # changes what the deployed model can do
    DISPLAY_ONLY = "display-only"  # no mechanical fix; the report names the refactor


@dataclass(frozen=True)
class ImportName:
    """`from module import name`, or `import module` when name is empty."""

    module: str
    name: str = ""


@dataclass(frozen=True)
class Annotation:
    text: str  # "Optional[torch.Tensor]"
    imports: tuple[ImportName, ...] = ()


@dataclass(frozen=True)
class AnnotateParam:
    function: str
    param: str
    annotation: Annotation


@dataclass(frozen=True)
class AnnotateReturn:
    function: str
    annotation: Annotation


@dataclass(frozen=True)
class AnnotateLocal:
    """`name = value` (first assignment in `function`) → `name: T = value`."""

    function: str
    name: str
    annotation: Annotation


@dataclass(frozen=True)
class AnnotateEmpty:
    """`name = []` → `name = torch.jit.annotate(T, [])`.

    With `key` set, the assignment is a dict literal and only the value under that
    key (source text of the key, e.g. '"a"') is wrapped.
    """

    function: str
    name: str
    annotation: Annotation
    key: str | None = None


@dataclass(frozen=True)
class AnnotateAttribute:
    """Add (or replace) a class-level `attr: T` in `class_name`'s body."""

    class_name: str
    attr: str
    annotation: Annotation


@dataclass(frozen=True)
class Decorate:
    """Put `@decorator` ("torch.jit.ignore") on `function`; with `returns`, also annotate its
    return type when it has none (an ignored function is assumed to return a Tensor)."""

    function: str
    decorator: str
    returns: Annotation | None = None


@dataclass(frozen=True)
class WrapValue:
    """`target = [...]` (first assignment in `function`) → `target = wrapper([...])`:
    a plain list of modules becomes `nn.ModuleList([...])`."""

    function: str
    target: str  # "self.blocks"
    wrapper: str  # "nn.ModuleList"


@dataclass(frozen=True)
class EnumerateLoop:
    """`for i in range(len(self.layers)): ... self.layers[i](x)` in `function` → iterate the
    container itself (`for layer in self.layers:`; `enumerate(...)` when `i` is used otherwise).
    With `class_name` and `attr` (the ModuleList `self.<attr>`): where no such loop holds the
    indexing, `self.<attr>[<index>](...)` calls go through a method added to the class that
    iterates it (`rewrite_refactors.module_list_at`)."""

    function: str
    index: str  # the loop variable: "i" (or the index expression's text)
    class_name: str = ""
    attr: str = ""


@dataclass(frozen=True)
class NamedTupleClass:
    """`Name = namedtuple("Name", [...])` (collections, at module level) → `class Name(NamedTuple):`
    with one annotated field per name, in the namedtuple's order."""

    name: str
    fields: tuple[tuple[str, str], ...]  # (field, annotation text)
    base: str = "NamedTuple"  # as the file spells typing: "NamedTuple", "typing.NamedTuple"
    imports: tuple[ImportName, ...] = ()  # what the base and the field annotations need


@dataclass(frozen=True)
class ConvertDtype:
    """`x.bool()` in `function` → `x.to(torch.bool)` (every call of that Tensor method there without
    arguments): TorchScript has no `Tensor.bool()` nor `.bfloat16()`, and `.to(dtype)` is the same
    call in Python."""

    function: str
    method: str  # "bool" or "bfloat16"


@dataclass(frozen=True)
class GuardBranch:
    """`if condition is not None: ... self.cond_proj(...)` in `function` (each `if` whose test reads
    `test` and whose body calls `self.<attr>`) → `if condition is not None and self.cond_proj is
    not None:`: TorchScript compiles the branch only where the submodule is not None."""

    function: str
    test: str  # the `if`'s test, as the source index gives it
    attr: str  # the submodule: "cond_proj"


@dataclass(frozen=True)
class IsinstanceTensor:
    """`torch.is_tensor(x)` in `function` → `isinstance(x, torch.Tensor)`, every such call there:
    TorchScript has no `is_tensor`, and refines a Union through `isinstance`."""

    function: str


@dataclass(frozen=True)
class FloatLiteral:
    """`F.pad(x, p, value=0)` in `function` → `value=0.0` (every call there of `callee`, as written,
    passing `keyword=<literal>`): TorchScript does not widen an int to the float a callee's schema
    takes, and Python passes a float to that schema either way."""

    function: str
    callee: str  # the called expression as written: "F.pad", "nn.functional.interpolate"
    keyword: str
    literal: str  # an int literal: "0", "-1"


@dataclass(frozen=True)
class FunctionalActivation:
    """`torch.nn.ReLU()(x)` in `function` → `torch.nn.functional.relu(x)`, every such call there (an
    activation module built with no arguments and called at once): TorchScript cannot build a module
    in compiled code, and the functional form is what the module's forward calls."""

    function: str


@dataclass(frozen=True)
class NoGradBlock:
    """`@torch.no_grad()` on `function` → no decorator, the body (its docstring aside) under `with
    torch.no_grad():`: TorchScript compiles the decorator's wrapper, not the method, but it
    compiles the `with` block."""

    function: str
    decorator: str  # as written, without "@": "torch.no_grad()"


Edit = (AnnotateParam | AnnotateReturn | AnnotateLocal | AnnotateEmpty | AnnotateAttribute | Decorate
        | WrapValue | EnumerateLoop | NamedTupleClass | ConvertDtype | GuardBranch | IsinstanceTensor
        | FunctionalActivation | NoGradBlock | FloatLiteral)


class Source(enum.Enum):
    """Where the evidence behind a fix came from."""

    COMPILER = "compiler"  # a torch.jit.script error, or a call of the scripted model
    SIGNATURE = "signature"  # how TorchScript typed what compiled
    PROBE = "probe"  # what the eager probe run saw
    STATIC = "static"  # what mypy infers from the code (where the probe saw nothing)
    SOURCE = "source"  # the file's own code read as it is (a flag's branch uses what is None when it is off)


@dataclass(frozen=True)
class Fix:
    code: str  # "TS001"
    title: str  # "annotate `mask` as Optional[Tensor]"
    reason: str  # why: the compiler's message, or what the probe saw
    edit: Edit | None  # None for display-only advice
    safety: Safety = Safety.SAFE
    location: Location | None = None
    evidence: Source = Source.COMPILER

    @property
    def key(self) -> tuple[str, Edit | None]:
        return (self.code, self.edit)


@dataclass(frozen=True)
class Evidence:
    """Everything the rules may look at in one pass."""

    source: SourceIndex
    diagnostics: tuple[Diagnostic, ...] = ()
    signatures: tuple[CompiledSignature, ...] = ()
    observations: tuple[Observation, ...] = ()
    original: SourceIndex | None = None  # the file as the user has it, before this run's fixes

    def users_annotation(self, function: str, param: str) -> str | None:
        """The annotation the user wrote on a parameter (None when there was none, or the file
        or function is not known as it was)."""
        func = self.original.function(function) if self.original is not None else None
        found = func.param(param) if func is not None else None
        return found.annotation if found is not None else None

    def observed(self, qualname: str, name: str, role: Role) -> Observation | None:
        return next((o for o in self.observations
                     if o.qualname == qualname and o.name == name and o.role is role), None)


# --------------------------------------------------------------------------- outcome


@dataclass(frozen=True)
class PassRecord:
    number: int
    diagnostics: tuple[Diagnostic, ...]
    fixes: tuple[Fix, ...]  # applied in this pass
    backed_out: tuple[Fix, ...] = ()
    seconds: float = 0.0
    declined: tuple[tuple[Fix, str], ...] = ()  # proposed, but the rewrite could not make it: why


@dataclass(frozen=True)
class FileChange:
    """One file's text before and after the fixes."""

    path: str
    original: str
    final: str


@dataclass(frozen=True)
class Outcome:
    """What a `fix`/`check` run found; the CLI turns it into text and an exit code."""

    path: str
    original: str
    final: str
    scripts: bool  # the final source scripts (and, with a probe, calls correctly)
    passes: tuple[PassRecord, ...] = ()
    remaining: tuple[Diagnostic, ...] = ()  # what still fails, after the last pass
    advice: tuple[Fix, ...] = ()  # display-only fixes
    uncompiled: tuple[tuple[str, str], ...] = ()  # (qualname, "ignore"/"unused") in the final source
    targets: tuple[TargetResult, ...] = ()
    load_error: LoadError | None = None
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    files: tuple[FileChange, ...] = ()  # other project files the fixes edit (compiler errors in them)
    not_edited: tuple[str, ...] = ()  # files errors point into that are outside the project

    @property
    def fixes(self) -> tuple[Fix, ...]:
        return tuple(f for p in self.passes for f in p.fixes)

    @property
    def changed(self) -> bool:
        return self.final != self.original or bool(self.files)

    @property
    def changes(self) -> tuple[FileChange, ...]:
        """Every changed file, the model's first."""
        own = (FileChange(self.path, self.original, self.final),) if self.final != self.original else ()
        return own + self.files
