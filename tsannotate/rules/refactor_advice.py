"""TS020 — advice where no annotation helps: the refactor TorchScript needs, at the line.

What it does: for each compiler error about a construct TorchScript cannot compile, names the
refactor: `**kwargs`/`*args` in a signature, try/except, a lambda, a generator expression,
`self.layers[i]` in a `range` loop, a plain Python list of modules, a global dict, a number
(`.item()`) where an int is needed, recursion, dataclasses, sets, `super().forward()`, Python
library calls (numpy, random, time), print with a format spec, return statements of different
types (`if self.training: return losses` then `return detections`), an Optional used as its value.
Why: these are not type problems; the code itself has to change (or move behind
`@torch.jit.ignore`, which TS008 proposes for helpers).
Example: `for i in range(len(self.layers)): x = self.layers[i](x)` → "iterate the ModuleList:
`for layer in self.layers: x = layer(x)` (enumerate(self.layers) when the index is needed)".
Fix safety: display only — the report shows it; nothing is edited.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tsannotate.records import Diagnostic, DiagnosticKind, Evidence, Fix, Location, Safety, SourceIndex

CODE = "TS020"
K = DiagnosticKind
_ADVISED = (K.UNSUPPORTED, K.UNKNOWN, K.CONSTANT_NEEDED, K.ATTRIBUTE_CONVERSION, K.CALL_FAILED, K.RETURN_TYPE_CHANGED,
            K.OPTIONAL_USED)

_NO_CONVERSION = r"object has no attribute or method '(?:bool|bfloat16)'"

# (what the message or the offending source says, the refactor's name, what to do)
_ADVICE: tuple[tuple[re.Pattern[str], str, str], ...] = tuple((re.compile(p, re.S), name, todo) for p, name, todo in (
    (r"variable number of arguments", "**kwargs / *args",
     "give the function explicit parameters (`name: Optional[T] = None` for optional ones); TorchScript "
     "compiles fixed signatures only"),
    (r"try blocks aren't supported", "try/except",
     "move the try/except out of compiled code (into the caller, or an @torch.jit.ignore helper) and check "
     "the condition explicitly (`if ...: raise ...`)"),
    (r"Lambda aren't supported", "lambda", "write a named method (or a module-level def) instead of the lambda"),
    (r"unsupported kind of augmented assignment: (?:FloorDiv|Pow|Mod|LShift|RShift|BitXor|MatMult)",
     "an augmented assignment TorchScript lacks",
     "write it out: `n = n // 2` for `n //= 2` (likewise `**=`, `%=`, `<<=`, `>>=`, `^=`, `@=`)"),
    (r"is not defined in the (?:true|false) branch", "a variable assigned on one branch only",
     "assign it on every path: before the `if` (`raw = x`), or in an `else` too; TorchScript needs a "
     "variable defined (with one type) after the `if` whichever branch ran"),
    (r"Comprehension ifs are not supported", "a comprehension with `if`",
     "build the list with a for loop and an `if` (`out = []`, `for v in xs: if ...: out.append(v)`); "
     "torch's location for this error can be a few lines off"),
    (r"if-expression's true branch has type (.+) but false branch has type", "a conditional expression with "
     "two types", "both sides of `a if c else b` need one type: annotate the parameter or variable one side "
     "reads (a None default the code uses as an int is `Optional[int]`), or build the same structure on both "
     "sides (a tuple keeps its length, with None, typed Optional, in the missing place; or a Final flag "
     "leaves only one side compiled)"),
    (r"cannot call a value of type 'Tensor'", "calling a module passed as an argument",
     "TorchScript calls only what it compiles with the module: call a submodule this module holds "
     "(`self.head(x)`), or pass the function's output in instead of the function"),
    (r"generator expressions are not supported|GeneratorExp", "generator expression",
     "use a list comprehension or a for loop"),
    (r"ModuleList indexing needs", "`self.layers[i]` with a variable index",
     "iterate the ModuleList: `for layer in self.layers: x = layer(x)` (`for i, layer in "
     "enumerate(self.layers)` when the index is needed)"),
    (r"ModuleDict indexing needs", "`self.modules[key]` with a variable key",
     "iterate `for name, module in self.modules.items():`, or make the key a Final attribute"),
    (r"\(a list of modules\)", "a plain Python list of modules",
     "hold the submodules in `nn.ModuleList([...])` so TorchScript (and .to(), state_dict) sees them"),
    (r"python value of type 'dict' cannot be used as a value", "a global dict",
     "make it a module attribute set in `__init__` (`self.table = {...}`) or pass it in as an argument"),
    (r"python value of type '\w+' cannot be used as a value", "a global Python value",
     "make it a module attribute set in `__init__`, or pass it in as an argument"),
    (r"found number in argument|found Scalar in argument", "a number (`.item()`) where an int is needed",
     "`.item()` is a number (int or float) to TorchScript: convert it, `int(x.item())`"),
    (r"called recursively", "recursion", "rewrite the recursion as a loop (TorchScript cannot compile recursive calls)"),
    (r"Failed to get source for .*__init__|dataclass", "a dataclass",
     "use a typing.NamedTuple, or a plain class with an annotated `__init__`"),
    (r"Set aren't supported|type set\b", "a set", "use a List, or a Dict[T, bool] for membership"),
    (r"object has no attribute or method 'forward'", "super().forward()",
     "call the parent's computation through a named method of the base class (`self._base_forward(x)`) "
     "or repeat it; TorchScript does not compile super(). A torch layer's base has a functional form to "
     "call instead: `F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)` for "
     "nn.LayerNorm, `self._conv_forward(x, self.weight, self.bias)` for nn.Conv1d/2d, `F.linear(x, "
     "self.weight, self.bias)` for nn.Linear"),
    (r"Python builtin <built-in function next>", "`next(...)` (as in `next(self.parameters())`)",
     "read a named parameter or buffer instead (`self.decoder.weight`, `.device`/`.dtype` from it): TorchScript "
     "has no iterators, and an @torch.jit.ignore method sees no parameters on the scripted module"),
    (r"Python builtin <", "a Python library call",
     "use the torch equivalent (torch.rand for random.random, time is not available), or move the call into "
     "an @torch.jit.ignore helper"),
    (r"formatting in JoinedStr", "print with a format spec",
     "drop the format spec (`f\"{x}\"` compiles) or format outside the model"),
    (r"global variables aren't supported", "a global statement",
     "keep the state in a module attribute instead of a global"),
    (r"Yield aren't supported", "a generator function", "return a List instead of yielding"),
    (r"Previous return statement returned a value of type", "return statements of different types",
     "a compiled function has one return type: return the same structure on every path (both values, "
     "`return losses, detections`, as torchvision's detection models do, with the one not computed left "
     "empty), or keep the eager-only return behind `if not torch.jit.is_scripting():` or in an "
     "@torch.jit.unused method"),
    (r"is Optional\[.*\], used here as a value", "an Optional used as its value",
     "TorchScript needs the None case ruled out where the value is used: `assert {symbol} is not None` (or "
     "`if {symbol} is not None:`) before this line; an attribute is refined only through a local (`value = "
     "self.value`, then `assert value is not None`); a parameter every caller passes a value can drop its None "
     "default instead"),
    (r"'Optional\[.+\]' object is not iterable", "an Optional used as its value",
     "TorchScript needs the None case ruled out before the loop: for an attribute (torchvision's "
     "`self.cell_anchors`), read it into a local, `cell_anchors = self.cell_anchors`, `assert cell_anchors "
     "is not None`, then iterate the local; an attribute itself is never refined"),
    (r"Unknown builtin op: aten::(?:finfo|iinfo)", "torch.finfo / torch.iinfo",
     "TorchScript has no torch.finfo: write the constant (`torch.finfo(torch.float32).min` is "
     "-3.4028234663852886e+38; HF's masks use it) or use `float(\"-inf\")` where a masked softmax allows it"),
    (_NO_CONVERSION, "`.bool()` / `.bfloat16()` on a tensor",
     "TorchScript has no Tensor.bool() (nor .bfloat16()): write `x.to(torch.bool)` (`x.to(torch.bfloat16)`), which "
     "computes the same"),
    (r"cannot statically infer the expected size of a list", "`*` unpacking of a list",
     "pass the list itself (`x.view(sizes)`) or index its items"),
))


def fixes(evidence: Evidence) -> Iterator[Fix]:
    yield from _decorated_forward(evidence)
    yield from _module_api(evidence)
    for diag in evidence.diagnostics:
        if re.search(_NO_CONVERSION, diag.message):  # whatever kind the parser gave it: not a type problem
            pass
        elif diag.kind not in _ADVISED or (diag.kind is K.CONSTANT_NEEDED and (diag.symbol or "").startswith("self.")):
            continue  # an attribute index is TS007's (Final); a loop variable needs a refactor
        found = _advice(diag)
        if found is None:
            continue
        name, todo = found
        todo = todo.replace("{symbol}", diag.symbol or "value")
        place, inside = _placed(diag, evidence.source)
        if inside:  # the construct is in a file the user does not change: what to do is at their call
            name, todo = f"a call into code TorchScript cannot compile ({name})", (
                f"this line reaches {inside}, where TorchScript cannot compile {name}: keep the call out of "
                "compiled code (drop a `with warnings.catch_warnings():` and keep its body; put an eager-only "
                "call under `if not torch.jit.is_scripting():`), or move it into an @torch.jit.ignore helper")
        yield Fix(CODE, f"refactor: {name}", f"{todo} — the compiler said: {diag.message}", None,
                  safety=Safety.DISPLAY_ONLY, location=place or _constructed(diag, evidence.source))


def _quoted(raw: str) -> str:
    """The source lines the compiler quotes up to its `<--- HERE` marker (the offending line)."""
    head, marker, _ = raw.partition("<--- HERE")
    return "\n".join(head.splitlines()[-3:]) if marker else ""


_MODULE_API = {
    "register_buffer": "register the buffer once in `__init__` (`self.register_buffer(\"table\", t, persistent=False)`) "
                       "and assign it here (`self.table = t`): a compiled method can rebind a tensor attribute",
    "register_parameter": "create the parameter in `__init__` and update its value here (`self.weight.copy_(...)` "
                          "under `torch.no_grad()`, or keep a tensor attribute)",
    "add_module": "create the submodule in `__init__` (an `nn.ModuleDict` when the set varies) and only call it here",
}


def _module_api(evidence: Evidence) -> Iterator[Fix]:
    """LLaMA's rotary `_set_cos_sin_cache`, reached from forward, calls `self.register_buffer`: the
    compiler then fails inside torch's module.py ("Unknown type name 'torch.jit.ScriptModule'"), a file
    the user cannot change. The call is the user's: advise there."""
    for diag in evidence.diagnostics:
        method = (diag.function or "").rsplit(".", 1)[-1]
        todo = _MODULE_API.get(method)
        here = next((c for c in diag.call_chain if _same_path(c.path, evidence.source.path)), None)
        if todo is None or here is None:
            continue
        yield Fix(CODE, f"refactor: `self.{method}(...)` in compiled code",
                  f"TorchScript cannot compile nn.Module.{method}: {todo} — the compiler said: {diag.message}",
                  None, safety=Safety.DISPLAY_ONLY, location=here)


def _placed(diag: Diagnostic, source: SourceIndex) -> tuple[Location | None, str]:
    """Where advice goes: the error's line, or, for an error inside another file (the standard
    library's warnings.catch_warnings, a package) that this file's code reaches, the line of this file
    that reaches it, and where the construct itself is ("" when it is here)."""
    if diag.location is None or _same_path(diag.location.path, source.path):
        return diag.location, ""
    here = next((c for c in diag.call_chain if _same_path(c.path, source.path)), None)
    if here is None:
        return diag.location, ""
    return here, f"{diag.location.path}:{diag.location.line}"


def _same_path(a: str, b: str) -> bool:
    return a == b or a.endswith("/" + b.lstrip("./")) or b.endswith("/" + a.lstrip("./"))


_WRAPPING = ("no_grad", "inference_mode", "enable_grad", "autocast")


def _decorated_forward(evidence: Evidence) -> Iterator[Fix]:
    """`@torch.no_grad()` on a compiled method: TorchScript compiles the decorator's wrapper in
    torch/utils/_contextlib.py, and the error (often `attribute lookup is not defined on python
    value of type 'TypeVar'`, a name of the method looked up among the wrapper's globals) points
    into torch. The method is the user's: say so there."""
    for diag in evidence.diagnostics:
        where = diag.location.path if diag.location else ""
        if not (where.endswith("_contextlib.py") or "_contextlib.py" in diag.raw):
            continue
        for func in evidence.source.functions:
            index = next((i for i, d in enumerate(func.decorators) if d.split("(")[0].rsplit(".", 1)[-1] in _WRAPPING),
                         None)
            if index is not None:
                decorator = func.decorators[index]
                line = func.first_line - (len(func.decorators) - index)  # the decorator's own line
                yield Fix(CODE, f"refactor: `@{decorator}` on a compiled method",
                          f"TorchScript compiles the decorator's wrapper (torch/utils/_contextlib.py), not "
                          f"{func.qualname}: remove `@{decorator}` and put the body under `with "
                          f"{decorator.split('(')[0]}():` — the compiler said: {diag.message}", None,
                          safety=Safety.DISPLAY_ONLY, location=Location(evidence.source.path, max(line, 1)))
        return


def _constructed(diag: Diagnostic, source: SourceIndex) -> Location | None:
    """Where compiled code builds the class whose `__init__` the compiler could not read (a
    dataclass's generated one: the message has no line), else the class itself."""
    m = re.search(r"<function (\w+)\.__init__", diag.message)
    if m is None:
        return None
    name = m.group(1)
    call = next((c for c in source.calls if c.callee.rsplit(".", 1)[-1] == name), None)
    cls = source.cls(name)
    line = call.line if call is not None else cls.first_line if cls is not None else None
    return Location(source.path, line) if line is not None else None


_SORT_KEY = ("sorting with a key",
             "TorchScript's sorted() and list.sort() take no key, named or lambda: sort a list of tuples whose "
             "first item is the key (`sorted([(score, i) for ...])`), or keep the scores in a tensor and use "
             "`torch.sort` / `torch.topk` and index with the result")


def _advice(diag: Diagnostic) -> tuple[str, str] | None:
    if diag.kind is K.CALL_FAILED and "value of type set" not in diag.message:
        return None
    if "Lambda aren't supported" in diag.message and re.search(r"\bsorted\(|\.sort\(", _quoted(diag.raw)):
        return _SORT_KEY
    for pattern, name, todo in _ADVICE:
        if pattern.search(diag.message):
            return name, todo
    return None
