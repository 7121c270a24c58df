"""Real code: strip the TorchScript annotations from modules torch ships, let tsannotate put them back.

    python bench/realcode.py [CASE ...]

Each case copies, at run time, one or more classes of an installed `torch.nn.modules.*` file into a
standalone `model.py` in a temp dir: the classes, the module-level helpers and constants they use
from the same file (transitively), and the file's imports made absolute; then a `probe()` is
appended. Nothing of torch's source is committed — only this script.

The copy's TorchScript annotations are stripped (`bench/realcode_annotations.py`: parameter,
return and variable annotations, `torch.jit.annotate(T, v)` → `v`, `Final`/`__constants__`,
`@torch.jit.ignore`/`unused`, `__jit_unused_properties__`). The stripped copy must run eagerly with
the outputs of torch's own class on the probe inputs, and must fail to script (compile, or call
equal to eager); otherwise the case is reported and left out of the totals. Then
`tsannotate fix --apply` runs on it through the command line, and the case reports: does it script
(and equal the original's eager outputs when scripted), passes, wall time, and how many of the
maintainers' annotations that matter came back identically.

"Annotations that matter" are those in code TorchScript compiles (the functions the scripted
unstripped copy holds; attributes of its classes; every ignore/unused), minus what TorchScript
assumes anyway (a parameter annotated `Tensor`) and minus return annotations (the compiler infers
those; tsannotate writes them only for ignored functions), which are counted apart.

Columns: ann — annotations stripped (all); scripts — the fixed copy compiles and the scripted model
equals its eager outputs on every probe input; ==orig — the fixed copy's eager outputs equal torch's
own class's; restored — identical / annotations that matter; other — another type written at a
maintainers' place; returns — return annotations in compiled code; extra — annotations written
where the maintainers wrote none. `python bench/realcode.py LSTM GRU` runs only those cases.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import json
import subprocess
import sys
import tempfile
import time
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import libcst as cst

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realcode_annotations import Slot, read, strip  # noqa: E402

TOOL_TIMEOUT = 900.0


@dataclass(frozen=True)
class Case:
    name: str
    module: str  # the torch module whose file the classes are copied from
    classes: tuple[str, ...]  # copied with what they use from the same file
    probe: str  # a `def probe()` using the class names; run against torch's classes and the copy
    support: str = ""  # scriptable code of our own the probe uses, appended after stripping


# The probes follow the project's convention: seed, build the model, return it with inputs that
# exercise the optional arguments (None and not None) the way callers do.
# A scripted RNN/LSTM/GRU cannot be called from Python (its forward is overloaded: the compiled
# module holds forward__0 and forward__1); it is scripted, as torch documents, inside a model.
_RNN_WRAPPER = """
class Wrapped(torch.nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x, hx: typing.Optional[torch.Tensor] = None):
        return self.rnn(x, hx)
"""
_LSTM_WRAPPER = _RNN_WRAPPER.replace("typing.Optional[torch.Tensor]",
                                     "typing.Optional[typing.Tuple[torch.Tensor, torch.Tensor]]")

CASES: tuple[Case, ...] = (
    Case("Linear", "torch.nn.modules.linear", ("Linear",), """
def probe():
    torch.manual_seed(0)
    return Linear(4, 3), [(torch.randn(2, 4),)]
"""),
    Case("Bilinear", "torch.nn.modules.linear", ("Bilinear",), """
def probe():
    torch.manual_seed(0)
    return Bilinear(4, 5, 3), [(torch.randn(2, 4), torch.randn(2, 5))]
"""),
    Case("Embedding", "torch.nn.modules.sparse", ("Embedding",), """
def probe():
    torch.manual_seed(0)
    model = Embedding(10, 4, padding_idx=0)
    return model, [(torch.randint(0, 10, (2, 5)),)]
"""),
    Case("EmbeddingBag", "torch.nn.modules.sparse", ("EmbeddingBag",), """
def probe():
    torch.manual_seed(0)
    model = EmbeddingBag(10, 4, mode="sum")
    flat = torch.randint(0, 10, (6,))
    offsets = torch.tensor([0, 2])
    weights = torch.rand(6)
    return model, [(flat.view(2, 3),), (flat, offsets), (flat, offsets, weights)]
"""),
    Case("Hardtanh", "torch.nn.modules.activation", ("Hardtanh",), """
def probe():
    return Hardtanh(-0.5, 0.5), [(torch.linspace(-2, 2, 9),)]
"""),
    Case("GELU", "torch.nn.modules.activation", ("GELU",), """
def probe():
    return GELU("tanh"), [(torch.linspace(-2, 2, 9),)]
"""),
    Case("Softmax", "torch.nn.modules.activation", ("Softmax",), """
def probe():
    torch.manual_seed(0)
    return Softmax(dim=1), [(torch.randn(2, 5),)]
"""),
    Case("PReLU", "torch.nn.modules.activation", ("PReLU",), """
def probe():
    torch.manual_seed(0)
    return PReLU(3), [(torch.randn(2, 3, 4),)]
"""),
    Case("Threshold", "torch.nn.modules.activation", ("Threshold",), """
def probe():
    return Threshold(0.1, 20.0), [(torch.linspace(-2, 2, 9),)]
"""),
    Case("LayerNorm", "torch.nn.modules.normalization", ("LayerNorm",), """
def probe():
    torch.manual_seed(0)
    return LayerNorm(8), [(torch.randn(2, 3, 8),)]
"""),
    Case("GroupNorm", "torch.nn.modules.normalization", ("GroupNorm",), """
def probe():
    torch.manual_seed(0)
    return GroupNorm(2, 4), [(torch.randn(2, 4, 3),)]
"""),
    Case("RMSNorm", "torch.nn.modules.normalization", ("RMSNorm",), """
def probe():
    torch.manual_seed(0)
    return RMSNorm(8), [(torch.randn(2, 3, 8),)]
"""),
    Case("Conv2d", "torch.nn.modules.conv", ("Conv2d",), """
def probe():
    torch.manual_seed(0)
    return Conv2d(3, 4, 3, padding=1, padding_mode="reflect"), [(torch.randn(1, 3, 6, 6),)]
"""),
    Case("ConvTranspose2d", "torch.nn.modules.conv", ("ConvTranspose2d",), """
def probe():
    torch.manual_seed(0)
    model = ConvTranspose2d(4, 3, 3, stride=2)
    x = torch.randn(1, 4, 5, 5)
    return model, [(x,), (x, [12, 12])]
"""),
    Case("MaxPool2d", "torch.nn.modules.pooling", ("MaxPool2d",), """
def probe():
    torch.manual_seed(0)
    return MaxPool2d(2), [(torch.randn(1, 2, 6, 6),)]
"""),
    Case("Upsample", "torch.nn.modules.upsampling", ("Upsample",), """
def probe():
    torch.manual_seed(0)
    return Upsample(scale_factor=2.0, mode="nearest"), [(torch.randn(1, 2, 3, 3),)]
"""),
    Case("Dropout", "torch.nn.modules.dropout", ("Dropout",), """
def probe():
    return Dropout(0.5).eval(), [(torch.ones(2, 4),)]
"""),
    Case("MultiheadAttention", "torch.nn.modules.activation", ("MultiheadAttention",), """
def probe():
    torch.manual_seed(0)
    model = MultiheadAttention(16, 4, batch_first=True).eval()
    q = torch.randn(2, 5, 16)
    padding = torch.zeros(2, 5, dtype=torch.bool)
    padding[0, -1] = True
    causal = torch.triu(torch.full((5, 5), float("-inf")), diagonal=1)
    return model, [(q, q, q), (q, q, q, padding), (q, q, q, None, False),
                   (q, q, q, None, True, causal), (q, q, q, padding, True, None, False)]
"""),
    Case("TransformerEncoderLayer", "torch.nn.modules.transformer", ("TransformerEncoderLayer",), """
def probe():
    torch.manual_seed(0)
    model = TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.0, batch_first=True).eval()
    src = torch.randn(2, 5, 16)
    padding = torch.zeros(2, 5, dtype=torch.bool)
    padding[0, -1] = True
    causal = torch.triu(torch.full((5, 5), float("-inf")), diagonal=1)
    return model, [(src,), (src, causal), (src, None, padding), (src, causal, None, True)]
"""),
    Case("TransformerDecoderLayer", "torch.nn.modules.transformer", ("TransformerDecoderLayer",), """
def probe():
    torch.manual_seed(0)
    model = TransformerDecoderLayer(16, 4, dim_feedforward=32, dropout=0.0, batch_first=True,
                                    norm_first=True).eval()
    tgt = torch.randn(2, 4, 16)
    memory = torch.randn(2, 5, 16)
    causal = torch.triu(torch.full((4, 4), float("-inf")), diagonal=1)
    padding = torch.zeros(2, 5, dtype=torch.bool)
    padding[1, -2:] = True
    return model, [(tgt, memory), (tgt, memory, causal), (tgt, memory, causal, None, None, padding),
                   (tgt, memory, causal, None, None, None, True)]
"""),
    Case("TransformerEncoder", "torch.nn.modules.transformer", ("TransformerEncoder", "TransformerEncoderLayer"), """
def probe():
    torch.manual_seed(0)
    layer = TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.0, batch_first=True)
    model = TransformerEncoder(layer, 2, norm=torch.nn.LayerNorm(16), enable_nested_tensor=False).eval()
    src = torch.randn(2, 5, 16)
    padding = torch.zeros(2, 5, dtype=torch.bool)
    padding[0, -1] = True
    causal = torch.triu(torch.full((5, 5), float("-inf")), diagonal=1)
    return model, [(src,), (src, causal), (src, None, padding), (src, causal, None, True)]
"""),
    Case("Transformer", "torch.nn.modules.transformer", ("Transformer",), """
def probe():
    torch.manual_seed(0)
    model = Transformer(16, 4, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=32,
                        dropout=0.0, batch_first=True).eval()
    src = torch.randn(2, 5, 16)
    tgt = torch.randn(2, 4, 16)
    causal = torch.triu(torch.full((4, 4), float("-inf")), diagonal=1)
    padding = torch.zeros(2, 5, dtype=torch.bool)
    padding[0, -1] = True
    return model, [(src, tgt), (src, tgt, None, causal), (src, tgt, None, causal, None, padding)]
"""),
    Case("RNN", "torch.nn.modules.rnn", ("RNN",), """
def probe():
    torch.manual_seed(0)
    model = Wrapped(RNN(4, 8, num_layers=2, batch_first=True))
    x = torch.randn(2, 5, 4)
    return model, [(x,), (x, torch.randn(2, 2, 8))]
""", _RNN_WRAPPER),
    Case("LSTM", "torch.nn.modules.rnn", ("LSTM",), """
def probe():
    torch.manual_seed(0)
    model = Wrapped(LSTM(4, 8, num_layers=2, batch_first=True))
    x = torch.randn(2, 5, 4)
    return model, [(x,), (x, (torch.randn(2, 2, 8), torch.randn(2, 2, 8)))]
""", _LSTM_WRAPPER),
    Case("GRU", "torch.nn.modules.rnn", ("GRU",), """
def probe():
    torch.manual_seed(0)
    model = Wrapped(GRU(4, 8, bidirectional=True))
    x = torch.randn(5, 2, 4)
    return model, [(x,), (x, torch.randn(2, 2, 8))]
""", _RNN_WRAPPER),
    Case("RNNCell", "torch.nn.modules.rnn", ("RNNCell",), """
def probe():
    torch.manual_seed(0)
    model = RNNCell(4, 8)
    x = torch.randn(3, 4)
    return model, [(x,), (x, torch.randn(3, 8)), (x[0],)]
"""),
    Case("LSTMCell", "torch.nn.modules.rnn", ("LSTMCell",), """
def probe():
    torch.manual_seed(0)
    model = LSTMCell(4, 8)
    x = torch.randn(3, 4)
    return model, [(x,), (x, (torch.randn(3, 8), torch.randn(3, 8)))]
"""),
    Case("GRUCell", "torch.nn.modules.rnn", ("GRUCell",), """
def probe():
    torch.manual_seed(0)
    model = GRUCell(4, 8)
    x = torch.randn(3, 4)
    return model, [(x,), (x, torch.randn(3, 8))]
"""),
)


# --------------------------------------------------------------------------- copying the source


class _Names(cst.CSTVisitor):
    """The plain names a statement reads (not attribute names, not keyword-argument names)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> bool:
        self.names.add(node.value)
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False


def _defines(stmt: cst.CSTNode) -> list[str]:
    if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)):
        return [stmt.name.value]
    if isinstance(stmt, cst.SimpleStatementLine):
        return [t.target.value for s in stmt.body if isinstance(s, cst.Assign)
                for t in s.targets if isinstance(t.target, cst.Name)]
    return []


def _absolute(stmt: cst.SimpleStatementLine, package: str) -> cst.SimpleStatementLine:
    """`from .linear import Linear` → `from torch.nn.modules.linear import Linear`."""
    node = stmt.body[0]
    if not isinstance(node, cst.ImportFrom) or not node.relative:
        return stmt
    dotted = cst.Module([]).code_for_node(node.module) if node.module is not None else ""
    target = importlib.util.resolve_name("." * len(node.relative) + dotted, package)
    module = cst.parse_expression(target)
    assert isinstance(module, (cst.Name, cst.Attribute))
    return stmt.with_changes(body=[node.with_changes(relative=[], module=module)])


def _is_import(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 \
        and isinstance(stmt.body[0], (cst.Import, cst.ImportFrom))


def copy_source(case: Case) -> str:
    """The case's classes and what they use from their file, standalone, with the probe."""
    module = importlib.import_module(case.module)
    assert module.__file__ is not None
    tree = cst.parse_module(Path(module.__file__).read_text())
    where: dict[str, list[int]] = {}
    for i, stmt in enumerate(tree.body):
        for name in _defines(stmt):
            if name != "__all__":
                where.setdefault(name, []).append(i)
    wanted: set[int] = set()
    queue = [i for name in case.classes for i in where[name]]
    while queue:
        i = queue.pop()
        if i in wanted:
            continue
        wanted.add(i)
        names = _Names()
        tree.body[i].visit(names)
        queue.extend(j for name in names.names for j in where.get(name, ()))
    package = module.__package__ or ""
    imports = [_absolute(s, package) for s in tree.body if _is_import(s)
               and isinstance(s, cst.SimpleStatementLine)]
    header = tree.with_changes(body=imports, header=[]).code
    if "import torch\n" not in header:
        header = "import torch\n" + header
    body = "".join(tree.code_for_node(tree.body[i]) for i in sorted(wanted))
    origin = f"# Copied at run time by bench/realcode.py from {case.module} ({', '.join(case.classes)}).\n"
    return f"{origin}{header}\n\n{body}"


def model_file(copied: str, case: Case) -> str:
    """The copied (maybe stripped) source with the case's own support code and probe."""
    if not case.support:
        return f"{copied}\n\n{case.probe.strip()}\n"
    origin, _, rest = copied.partition("\n")  # the support code's `typing` is imported at the top
    return f"{origin}\nimport typing\n{rest}\n\n{case.support.strip()}\n\n\n{case.probe.strip()}\n"


# --------------------------------------------------------------------------- running models

_loaded = itertools.count()


def load(path: Path) -> ModuleType:
    """Import a model file under a fresh name (TorchScript caches classes by qualified name)."""
    name = f"realcode_{path.parent.name}_{next(_loaded)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def original_probe(case: Case) -> tuple[Any, list[tuple[Any, ...]]]:
    """The case's probe with its class names bound to torch's own classes."""
    import torch

    namespace: dict[str, Any] = {"torch": torch, "typing": typing}
    namespace.update(vars(importlib.import_module(case.module)))
    exec(case.support, namespace)
    exec(case.probe, namespace)
    return namespace["probe"]()  # type: ignore[no-any-return]


def outputs(model: Callable[..., Any], inputs: Sequence[tuple[Any, ...]]) -> list[Any]:
    return [model(*args) for args in inputs]


def same(a: Any, b: Any) -> bool:
    import torch

    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and torch.allclose(a, b, rtol=1e-5, atol=1e-6,
                                                                             equal_nan=True)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


@dataclass
class Run:
    """One model file loaded, run eagerly, and scripted (in this process)."""

    eager: list[Any] | None = None
    eager_error: str = ""
    scripts: bool = False  # compiles and the scripted model equals eager on every input
    script_error: str = ""
    compiled: set[str] = field(default_factory=set)  # "Class.method" / "helper" TorchScript compiled


def run(path: Path) -> Run:
    import torch

    result = Run()
    try:
        module = load(path)
        model, inputs = module.probe()
        result.eager = outputs(model, inputs)
    except Exception as e:  # the copy must run eagerly; report why not
        result.eager_error = f"{type(e).__name__}: {e}".splitlines()[0]
        return result
    try:
        scripted = torch.jit.script(model)
        result.compiled = _compiled(module)
        if not same(outputs(scripted, inputs), result.eager):
            result.script_error = "scripted outputs differ from eager"
            return result
    except Exception as e:
        result.script_error = f"{type(e).__name__}: {e}".strip().splitlines()[0][:120]
        return result
    result.scripts = True
    return result


def _compiled(module: ModuleType) -> set[str]:
    """What TorchScript compiled from this file: "helper", "Class.method" — an inherited method
    under the class that defines it (`RNN.check_input` is `RNNBase.check_input` in the source) —
    and "Class.<attributes>" for every class of the file a compiled class inherits from."""
    import torch

    prefix = f"__torch__.{module.__name__}."
    found = set()
    functions: list[Any] = torch.jit._state._python_cu.get_functions()  # type: ignore[func-returns-value, assignment]
    for f in functions:
        if not f.qualified_name.startswith(prefix):
            continue
        name = f.qualified_name[len(prefix):]
        owner, _, method = name.rpartition(".")
        cls = getattr(module, owner, None) if owner else None
        method = method.split("__")[0] if method.startswith("forward__") else method  # overloads
        mro = getattr(cls, "__mro__", ())
        defined = [k for k in mro if method in vars(k)]
        found.add(f"{defined[0].__name__}.{method}" if defined else name)
        # the attributes a compiled class reads may be declared on its bases (`_MaxPoolNd.__constants__`)
        found.update(f"{k.__name__}.<attributes>" for k in mro if k.__module__ == module.__name__)
    return found


# --------------------------------------------------------------------------- the tool, and the score


@dataclass
class Row:
    case: str
    lines: int
    note: str = ""  # why the case is not scored ("still scripts after stripping", ...)
    scripts: bool = False
    equal: bool = False  # the fixed copy's eager outputs (and scripted ones, when it scripts) == torch's
    passes: int = 0
    fixes: int = 0
    seconds: float = 0.0
    stripped: int = 0  # every annotation stripped from the copy
    matter: int = 0  # maintainers' annotations that matter (see the module docstring)
    restored: int = 0  # of those, written back identically
    different: int = 0  # of those, written back with another type
    returns: int = 0  # return annotations in compiled code (not written back, by design)
    extra: int = 0  # annotations written where the maintainers have none
    misses: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)


def tool(path: Path) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tsannotate", "fix", str(path), "--apply", "--format", "json"],
                          capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    seconds = time.perf_counter() - started
    try:
        data: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        data = {"error": (done.stderr.strip().splitlines() or ["no output"])[-1], "passes": [], "fixes": []}
    return seconds, data


def matters(slot: Slot, text: str, compiled: set[str]) -> bool:
    kind, scope, _ = slot
    if kind == "decorator":
        return True
    if kind == "attr":
        return any(c.startswith(f"{scope}.") for c in compiled)
    if kind == "param" and text == "Tensor":
        return False  # what TorchScript assumes of a bare parameter
    return scope in compiled


def same_annotation(theirs: str, ours: str) -> bool:
    return theirs == ours or (theirs == "Final" and ours.startswith("Final["))


def score(row: Row, theirs: dict[Slot, str], ours: dict[Slot, str], compiled: set[str]) -> None:
    for slot, text in sorted(theirs.items()):
        if not matters(slot, text, compiled):
            continue
        if slot[0] == "return":
            row.returns += 1
            continue
        row.matter += 1
        got = ours.get(slot)
        if got is not None and same_annotation(text, got):
            row.restored += 1
        else:
            row.different += got is not None
            row.misses.append(f"{'/'.join(filter(None, slot))}: {text} → {got or '-'}")
    for slot, text in sorted(ours.items()):
        if slot not in theirs:
            row.extra += 1
            row.extras.append(f"{'/'.join(filter(None, slot))}: {text}")


def bench(case: Case, workdir: Path) -> Row:
    copied = copy_source(case)
    stripped_copy, theirs = strip(copied)
    original, stripped = model_file(copied, case), model_file(stripped_copy, case)
    row = Row(case.name, original.count("\n"), stripped=len(theirs))
    try:
        model, inputs = original_probe(case)
        expected = outputs(model, inputs)
    except Exception as e:  # a probe this script got wrong: say so, go on with the other cases
        row.note = f"the probe fails on torch's own class: {type(e).__name__}: {e}".splitlines()[0]
        return row
    copy_dir = workdir / f"{case.name}_original"
    copy_dir.mkdir()
    (copy_dir / "model.py").write_text(original)
    baseline = run(copy_dir / "model.py")
    if not baseline.scripts:
        row.note = f"the unstripped copy does not script: {baseline.script_error or baseline.eager_error}"
        return row
    case_dir = workdir / case.name
    case_dir.mkdir()
    path = case_dir / "model.py"
    path.write_text(stripped)
    before = run(path)
    if before.eager is None or not same(before.eager, expected):
        row.note = f"stripped copy differs eagerly: {before.eager_error or 'outputs differ'}"
        return row
    if before.scripts:
        row.note = "still scripts after stripping"
        return row
    row.seconds, data = tool(path)
    row.passes, row.fixes = len(data.get("passes", [])), len(data.get("fixes", []))
    if "error" in data:
        row.note = f"tool: {data['error']}"
    after = run(path)
    row.scripts = after.scripts
    row.equal = after.eager is not None and same(after.eager, expected)
    if row.scripts and not data.get("scripts"):
        row.note = row.note or "scripts here, but the tool reported it does not"
    ours = read(path.read_text())
    ours_only = {slot: text for slot, text in ours.items() if slot not in read(model_file("", case))}
    score(row, theirs, ours_only, baseline.compiled)
    return row


# --------------------------------------------------------------------------- report


def print_table(rows: Sequence[Row]) -> None:
    print(f"\n{'case':26} {'lines':>5} {'ann':>4} {'scripts':>7} {'==orig':>6} {'passes':>6} {'fixes':>5} "
          f"{'wall(s)':>7} {'restored':>9} {'other':>5} {'returns':>7} {'extra':>5}  note")
    for r in rows:
        if not r.seconds:
            print(f"{r.case:26} {r.lines:5} {r.stripped:4} {'':>7} {'':>6} {'':>6} {'':>5} {'':>7} {'':>9} {'':>5} {'':>7} "
                  f"{'':>5}  {r.note}")
            continue
        print(f"{r.case:26} {r.lines:5} {r.stripped:4} {_yn(r.scripts):>7} {_yn(r.equal):>6} {r.passes:6} {r.fixes:5} "
              f"{r.seconds:7.1f} {f'{r.restored}/{r.matter}':>9} {r.different:5} {r.returns:7} {r.extra:5}  {r.note}")
    scored = [r for r in rows if r.seconds]
    if not scored:
        return
    print(f"\nscored cases: {len(scored)} of {len(rows)}; scripts after fix --apply: "
          f"{sum(r.scripts for r in scored)}/{len(scored)}; equal to torch's eager outputs: "
          f"{sum(r.equal for r in scored)}/{len(scored)}")
    print(f"annotations that matter restored identically: {sum(r.restored for r in scored)}/"
          f"{sum(r.matter for r in scored)} (another type at the same place: {sum(r.different for r in scored)}); "
          f"return annotations in compiled code, not restored by design: {sum(r.returns for r in scored)}; "
          f"annotations the maintainers did not write: {sum(r.extra for r in scored)}")
    print(f"passes: {sum(r.passes for r in scored)}, fixes: {sum(r.fixes for r in scored)}, "
          f"wall time: {sum(r.seconds for r in scored):.1f} s")


def print_details(rows: Sequence[Row]) -> None:
    for r in rows:
        if r.misses or r.extras:
            print(f"\n{r.case}:")
            for line in r.misses:
                print(f"  not restored  {line}")
            for line in r.extras:
                print(f"  extra         {line}")


def _yn(flag: bool) -> str:
    return "yes" if flag else "no"


def selected(names: Sequence[str]) -> Iterator[Case]:
    unknown = set(names) - {c.name for c in CASES}
    if unknown:
        sys.exit(f"unknown case(s): {', '.join(sorted(unknown))}")
    return (c for c in CASES if not names or c.name in names)


def main(argv: Sequence[str]) -> None:
    import torch

    print(f"torch {torch.__version__}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in selected(argv):
            row = bench(case, Path(tmp))
            rows.append(row)
            print(f"{case.name}: {row.note or ('scripts' if row.scripts else 'does not script')}"
                  f"{f' ({row.seconds:.1f} s)' if row.seconds else ''}", flush=True)
    print_table(rows)
    print_details(rows)


if __name__ == "__main__":
    main(sys.argv[1:])
