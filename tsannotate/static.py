"""Static evidence: what mypy infers about the model file, as Observations tagged `static`.

One mypy build per pass over a private copy of the pass's source (never one per symbol),
through mypy's build API, with `check_untyped_defs` so the bodies of unannotated
functions are inferred. From the typed tree:

- LOCAL: each local's final type (mypy resolves `x = None` … `x = 1` to `int | None`, and
  `d = {}` … `d["k"] = 1.0` to `dict[str, float]`);
- RETURN: the join of a function's `return` expressions;
- ATTR: the join of every `self.a = v` (and `self.a.append(v)`, `self.a[k] = v`) in a class;
- ARG: the join of the arguments passed at the file's own call sites (`helper(x, 0.5)`,
  `self.block(x, mask)`, `model(x, 3)`).

Anything mypy types as `Any` says nothing. The rules use these only for functions TorchScript
compiles (`rules._common.Reach`): a helper only `__init__` calls (`to_2tuple(patch_size)`) is
inferred too, but never compiled, so its call sites' types are not proposed. The private copy differs from the pass's
source only in annotations mypy reads and TorchScript never sees: parameters with a
literal default get its type (`dim=4` → `dim: int = 4`), so `self.dim = dim` is an int.
Runs in the CLI process: mypy reads torch's inline types from the installed package, and
never imports torch. Its cache lives under the user cache directory, so only the first
run on a machine pays for reading torch (about a second: the parts of torch a model
file does not use are skipped).
"""

from __future__ import annotations

import ast
import gc
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace

from tsannotate import tstypes
from tsannotate.records import Observation, Role
from tsannotate.tstypes import TSType

MODULE = "__tsannotate_model__"
# One mypy build at a time in this process: the loop runs a pass's step on a thread while the
# worker scripts (loop._Ahead), and mypy's global state and cache writes are not for two builds.
_BUILDING = threading.Lock()
_MAX_BUILDS = 3
# torch subpackages a model file does not need typed; skipping them makes a cold cache
# cost ~1.5 s instead of ~45 s (all of torch).
_SKIPPED = (
    "torch._inductor", "torch.distributed", "torch.ao", "torch._dynamo", "torch.fx", "torch.onnx",
    "torch.distributions", "torch._functorch", "torch._higher_order_ops", "torch._export",
    "torch.export", "torch.testing", "torch.utils", "torch.cuda", "torch._vendor", "torch.optim",
    "torch.package", "torch._numpy", "torch.quantization", "torch.profiler", "torch._refs",
    "torch._subclasses", "torch._library", "torch.masked", "torch.autograd", "torch.backends",
    "torch._native", "torch._prims", "torch._prims_common", "torch._decomp", "torch.nested",
    "torch.sparse", "torch.signal", "torch.special", "torch.linalg", "torch.fft", "torch.mps",
    "torch.xpu", "torch.mtia", "torch.accelerator", "torch.compiler", "torch.func", "torch._logging",
    "torch.multiprocessing", "torch._guards", "torch._ops", "torch.overrides", "torch.hub",
    "torch.serialization", "torch.storage", "torch.library", "torch._meta_registrations",
    "torch._custom_ops", "sympy", "numpy", "jinja2", "networkx", "hypothesis", "setuptools",
    "markdown_it", "_pytest", "pytest", "filelock",
)


@dataclass(frozen=True)
class StaticResult:
    observations: tuple[Observation, ...] = ()
    seconds: float = 0.0
    note: str = ""  # why there is no static evidence, when mypy could not run
    learned: tuple[tuple[tuple[str, str], str], ...] = ()  # annotations the private copy carried


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    from mypy.version import __version__

    return os.path.join(base, "tsannotate", f"mypy-{__version__}")


def infer(path: str, source: str, cache: str | None = None,
          learned: tuple[tuple[tuple[str, str], str], ...] = ()) -> StaticResult:
    """Run mypy over `source` (the text of `path`) and read its inferred types.

    mypy takes an unannotated function to return Any and its parameters to be Any, so what
    one build learns (a helper is passed ints at every call site; it returns an int) goes
    into the private copy as annotations and mypy runs again: at most `_MAX_BUILDS` builds,
    whatever the file's size, and only while the copy gains annotations. `learned` is what
    the previous pass's step learned (its result's `learned`): later passes start from it
    and usually need one build. Safe to call from any thread (builds take turns)."""
    with _BUILDING:
        return _infer_all(path, source, cache, learned)


def _infer_all(path: str, source: str, cache: str | None,
               learned: tuple[tuple[tuple[str, str], str], ...]) -> StaticResult:
    started = time.perf_counter()
    try:
        cache = cache or cache_dir()
        known = dict(learned)
        observations = _infer(path, private_copy(source, known), cache)
        for _ in range(_MAX_BUILDS - 1):
            more = _learned(source, observations)
            if more.items() <= known.items():
                break
            known.update(more)
            observations = _infer(path, private_copy(source, known), cache)
    except Exception as exc:  # mypy crashed or refused the file: no static evidence, say why
        first = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        return StaticResult((), time.perf_counter() - started, f"mypy could not analyse the file ({first})")
    return StaticResult(observations, time.perf_counter() - started, learned=tuple(known.items()))


def _learned(source: str, observations: tuple[Observation, ...]) -> dict[tuple[str, str], str]:
    """Annotations (Python spelling) the private copy can carry: {(qualname, param): type} for
    unannotated parameters without a default that every call site passes one type, and
    {(qualname, ""): type} for the returns of functions without a return annotation."""
    known = {(o.qualname, o.name): o.type for o in observations if o.role in (Role.ARG, Role.RETURN)}
    out: dict[tuple[str, str], str] = {}
    for qualname, node in _functions(ast.parse(source)):
        args = node.args.posonlyargs + node.args.args
        bare = [a.arg for a in args[:len(args) - len(node.args.defaults)] if a.annotation is None]
        for name in bare + ([""] if node.returns is None else []):
            t = tstypes.try_parse(known.get((qualname, name), ""))
            if t is not None and (text := _python_spelling(t)) is not None:
                out[(qualname, name)] = text
    return out


def _python_spelling(t: TSType) -> str | None:
    names = {"int": "int", "float": "float", "bool": "bool", "str": "str", "Tensor": "torch.Tensor"}
    if not t.args:
        return names.get(t.name)
    args = [_python_spelling(a) for a in t.args]
    if any(a is None for a in args):
        return None
    inner = ", ".join(a for a in args if a is not None)
    if t.name == "Optional":
        return f"{inner} | None"
    generic = {"List": "list", "Dict": "dict", "Tuple": "tuple"}.get(t.name)
    return f"{generic}[{inner}]" if generic else None


def _functions(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for top in tree.body:
        if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield top.name, top
        elif isinstance(top, ast.ClassDef):
            for item in top.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield f"{top.name}.{item.name}", item


def private_copy(source: str, learned: dict[tuple[str, str], str] | None = None) -> str:
    """The text mypy reads: literal-default parameters annotated with their default's type,
    `learned` annotations ({(qualname, param or ""): "int"}, see `_learned`), and a unique
    trailing comment so mypy's cache never answers for this module. Lines are the source's."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    inserts: dict[int, list[tuple[int, str]]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        args = node.args
        positional = args.posonlyargs + args.args
        pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
        pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
        for arg, default in pairs:
            text = _literal_type(default)
            if arg.annotation is None and text and arg.end_col_offset is not None:
                inserts.setdefault(arg.lineno, []).append((arg.end_col_offset, f": {text}"))
    for qualname, node in _functions(tree) if learned else ():
        for arg in node.args.posonlyargs + node.args.args:
            text = learned.get((qualname, arg.arg)) if learned else None
            if text and arg.annotation is None and arg.end_col_offset is not None:
                inserts.setdefault(arg.lineno, []).append((arg.end_col_offset, f": {text}"))
        text = learned.get((qualname, "")) if learned else None
        if text and (at := _params_close(lines, node)) is not None:
            inserts.setdefault(at[0], []).append((at[1], f" -> {text}"))
    for lineno, items in inserts.items():
        raw = lines[lineno - 1].encode("utf-8")  # ast columns count UTF-8 bytes
        for col, text in sorted(items, reverse=True):
            raw = raw[:col] + text.encode("utf-8") + raw[col:]
        lines[lineno - 1] = raw.decode("utf-8")
    text = "".join(lines)
    return text + ("" if text.endswith("\n") or not text else "\n") + f"# {uuid.uuid4().hex}\n"


def _params_close(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, int] | None:
    """(line, byte column) just after the `)` that closes a def's parameters."""
    body_line = node.body[0].lineno  # the header ends before it (a `for ...:` body must not count)
    header = [ln.encode("utf-8") for ln in lines[node.lineno - 1:max(body_line - 1, node.lineno)]]
    last = 0
    for i, raw in enumerate(header):  # the def's colon is the last ':' before the body
        stripped = raw.split(b"#", 1)[0].rstrip()
        if stripped.endswith(b":"):
            last = i
    raw = header[last].split(b"#", 1)[0].rstrip()
    col = raw.rfind(b")")
    if col < 0 or raw[col + 1:].strip() != b":":
        return None  # a multi-line or unusual header: leave it
    return node.lineno + last, col + 1


def _literal_type(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float, str, bool):
        return type(node.value).__name__
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _literal_type(node.operand) if isinstance(node.operand, ast.Constant) else None
    if isinstance(node, (ast.Tuple, ast.List)) and node.elts:
        kinds = {_literal_type(e) for e in node.elts}
        if len(kinds) == 1 and None not in kinds:
            kind = kinds.pop()
            return f"tuple[{kind}, ...]" if isinstance(node, ast.Tuple) else f"list[{kind}]"
    return None


def _infer(path: str, text: str, cache: str) -> tuple[Observation, ...]:
    from mypy import build
    from mypy.modulefinder import BuildSource
    from mypy.options import Options

    from tsannotate.static_walk import observations

    options = Options()
    options.check_untyped_defs = True
    options.follow_imports = "silent"
    options.incremental = True
    options.cache_dir = cache
    options.export_types = True
    options.preserve_asts = True
    options.python_executable = sys.executable
    options.mypy_path = [os.path.dirname(os.path.abspath(path))]
    for name in _SKIPPED:
        options.per_module_options[f"{name}.*"] = {"follow_imports": "skip"}
        options.per_module_options[name] = {"follow_imports": "skip"}
    with tempfile.TemporaryDirectory(prefix="tsannotate-mypy-") as tmp:
        copy = os.path.join(tmp, f"{MODULE}.py")
        with open(copy, "w", encoding="utf-8") as f:
            f.write(text)
        result = build.build([BuildSource(copy, MODULE, text)], options)
    try:
        return tuple(observations(text, result.types, MODULE)) if MODULE in result.graph else ()
    finally:
        del result
        _note_build()


_garbage = 0  # builds whose graphs wait for a full collection
_GARBAGE_LOCK = threading.Lock()
# ~1 GB of graphs. A one-file run stays under it: the 1500-line bench model takes 5 builds in
# 3 passes, and at 4 its full collection (0.9 s, the worker slowed beside it by the memory
# traffic) landed on the critical path, 4.0 -> 4.5 s.
_COLLECT_AT = 12


def _note_build() -> None:
    global _garbage
    with _GARBAGE_LOCK:
        _garbage += 1


def collect_garbage(at_least: int | None = None) -> None:
    """Free the graphs of the last builds, once `at_least` (default `_COLLECT_AT`) are waiting.

    A build's graph (torch's stubs read from the cache included, ~70-90 MB) is held in reference
    cycles, which Python's collector reaches only at its rare full collections: `fix DIR` on 73
    models grew to 6.6 GB and the in-process test suite to 18 GB. A full collection costs
    ~0.15 s per build freed, so the loop calls this on its `_Ahead` thread, while the worker
    scripts (loop.py); a one-file run seldom reaches the threshold, and its process ends with
    os._exit, never paying for the collection."""
    global _garbage
    with _GARBAGE_LOCK:
        if _garbage < (_COLLECT_AT if at_least is None else at_least):
            return
        _garbage = 0
    gc.collect()


def join_types(types: list[TSType | None]) -> TSType | None:
    """The join of what every occurrence says; None when any says nothing (Any)."""
    if not types or any(t is None for t in types):
        return None
    return tstypes.join_all(t for t in types if t is not None)


def unobserved(static: tuple[Observation, ...], runtime: tuple[Observation, ...]) -> tuple[Observation, ...]:
    """The static observations the rules may use: those about symbols the probe saw nothing of
    (runtime evidence wins), and those that complete what the probe saw only empty (`[]` seen,
    never filled on the probe's path: List[Unknown] + mypy's List[float] → List[float])."""
    seen = {(o.qualname, o.name, o.role): o for o in runtime}
    out: list[Observation] = []
    for o in static:
        r = seen.get((o.qualname, o.name, o.role))
        if r is None:
            out.append(o)
        elif "Unknown" in r.type and (done := _complete(r.type, o.type)) is not None:
            out.append(replace(o, type=done, note=f"the probe saw it only as {r.type}"))
    return tuple(out)


def _complete(runtime: str, inferred: str) -> str | None:
    a, b = tstypes.try_parse(runtime), tstypes.try_parse(inferred)
    if a is None or b is None:
        return None
    joined = tstypes.join(a, b)
    return str(joined) if joined == b else None  # only where mypy's type holds all the probe saw
