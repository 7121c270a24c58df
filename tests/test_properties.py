"""Property tests by seeded mutation: strip annotations from fixed models, run `fix --apply`.

The golden outputs (fixtures/cases/*/expected.py) and a benchmark model built from them
(bench/lower_bound.py) script. Stripping a random subset of what makes them script —
parameter and return annotations, `Optional[...]` around an annotation, `torch.jit.annotate(T, v)`
around a value, class-level attribute annotations (`Final[...]` among them), local variable
annotations, `@torch.jit.ignore` / `@torch.jit.unused` — gives a file that runs eagerly and
may no longer script. `tsannotate fix --apply` (the real command line, the real worker) must
then leave a file that

- parses;
- is never worse than its input: a file that scripted still scripts, and the number of
  failing diagnostics (what `check` reports) never grows;
- computes what the input computes eagerly, on the probe's inputs, called in order;
- is a fixed point: a second `fix --apply` changes nothing.

Seeds are fixed, so a failure reproduces; the stripped symbols are in the assertion message.
The default suite runs a few cases; `pytest -m slow` sweeps every golden case.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import itertools
import json
import random
import shutil
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libcst as cst
import pytest
import torch
from typer.testing import CliRunner

from tsannotate.cli import app
from tsannotate.worker.compare import fresh_args, mismatch, snapshot

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "fixtures" / "cases"
EXPECTED = sorted(p / "expected.py" for p in CASES.iterdir() if (p / "expected.py").exists())
STRIP_RATE = 0.6


# ------------------------------------------------------------------ mutation


def _is_optional(node: cst.BaseExpression) -> bool:
    return (isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name)
            and node.value.value == "Optional" and len(node.slice) == 1
            and isinstance(node.slice[0].slice, cst.Index))


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return _dotted(node.func)
    return ""


class _Stripper(cst.CSTTransformer):
    """Removes each annotation-like construct with probability `rate` (seeded, in source order)."""

    def __init__(self, rng: random.Random, rate: float) -> None:
        super().__init__()
        self.rng, self.rate = rng, rate
        self.scopes: list[str] = []  # "class" / "def" names, innermost last
        self.records: list[bool] = []  # per class scope: a NamedTuple, whose fields are its definition
        self.stripped: list[str] = []

    def _take(self, what: str) -> bool:
        if self.rng.random() >= self.rate:
            return False
        self.stripped.append(f"{'.'.join(self.scopes) or '<module>'}: {what}")
        return True

    def _in_probe(self) -> bool:
        return bool(self.scopes) and self.scopes[0].startswith("probe")

    def _annotation(self, ann: cst.Annotation, what: str) -> cst.Annotation | None:
        """None: drop the annotation; else it, maybe with `Optional[...]` unwrapped."""
        if self._take(f"annotation of {what}"):
            return None
        inner = ann.annotation
        if _is_optional(inner) and self._take(f"Optional[...] around {what}"):
            element = cst.ensure_type(inner, cst.Subscript).slice[0].slice
            return ann.with_changes(annotation=cst.ensure_type(element, cst.Index).value)
        return ann

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.append(node.name.value)
        self.records.append(any((_dotted(b.value) or "").endswith("NamedTuple") for b in node.bases))

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.scopes.pop()
        self.records.pop()
        return updated

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append(node.name.value)

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        if not self._in_probe():
            decorators = [d for d in updated.decorators if not (
                _dotted(d.decorator) in ("torch.jit.ignore", "torch.jit.unused")
                and self._take(f"@{_dotted(d.decorator)}"))]
            returns = updated.returns
            if returns is not None:
                returns = self._annotation(returns, "the return")
            updated = updated.with_changes(decorators=decorators, returns=returns)
        self.scopes.pop()
        return updated

    def leave_Param(self, original: cst.Param, updated: cst.Param) -> cst.Param:
        if updated.annotation is None or self._in_probe():
            return updated
        return updated.with_changes(annotation=self._annotation(updated.annotation, updated.name.value))

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if _dotted(updated.func) == "torch.jit.annotate" and len(updated.args) == 2 and self._take(
                f"torch.jit.annotate({cst.Module([]).code_for_node(updated.args[0].value)}, ...)"):
            return updated.args[1].value
        return updated

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
                                  ) -> cst.BaseStatement | cst.RemovalSentinel:
        if len(updated.body) != 1 or not isinstance(updated.body[0], cst.AnnAssign) or self._in_probe():
            return updated
        stmt = updated.body[0]
        name = cst.Module([]).code_for_node(stmt.target)
        if stmt.value is None:  # `cache: Optional[Tensor]` at class level
            if self.records and self.records[-1]:
                return updated  # a NamedTuple's field: its definition, not an annotation the tool writes
            return cst.RemoveFromParent() if self._take(f"declaration `{name}: ...`") else updated
        ann = self._annotation(stmt.annotation, name)
        if ann is None:
            return updated.with_changes(body=[cst.Assign([cst.AssignTarget(stmt.target)], stmt.value)])
        return updated.with_changes(body=[stmt.with_changes(annotation=ann)])


def strip(text: str, seed: int, rate: float = STRIP_RATE) -> tuple[str, list[str]]:
    """`text` with a seeded random subset of its annotations stripped, and what was stripped."""
    stripper = _Stripper(random.Random(seed), rate)
    module = cst.parse_module(text).visit(stripper)
    if any(isinstance(s, cst.ClassDef) and not s.body.body for s in module.body):
        raise AssertionError("a class body was emptied")  # pragma: no cover - never with these files
    return module.code, stripper.stripped


def test_strip_is_seeded_and_touches_only_annotations() -> None:
    text = (CASES / "transformer_block" / "expected.py").read_text()
    first, stripped = strip(text, 3, rate=1.0)
    assert strip(text, 3, rate=1.0) == (first, stripped)
    assert "Optional" not in first.replace("from typing import Optional", "")
    assert "head_dim: int" not in first and "last_attn: " not in first
    assert ast.dump(ast.parse(strip(text, 3, rate=0.0)[0])) == ast.dump(ast.parse(text))
    assert len(stripped) >= 4


# ------------------------------------------------------------------ eager outputs


_loads = itertools.count()


@contextlib.contextmanager
def _eager_script() -> Iterator[None]:
    """`@torch.jit.script` at import time leaves the function eager: a stripped copy of a file
    that scripts functions as it is imported must still load, to be run eagerly."""
    script = torch.jit.script
    torch.jit.script = lambda obj, *args, **kwargs: obj
    try:
        yield
    finally:
        torch.jit.script = script


def eager_outputs(path: Path) -> list[list[Any]]:
    """Per probe target, the outputs of the eager model on its probe inputs, called in order."""
    spec = importlib.util.spec_from_file_location(f"_tsannotate_property_{next(_loads)}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        with warnings.catch_warnings(), _eager_script():
            warnings.simplefilter("ignore")
            spec.loader.exec_module(module)
            found = module.probe()
            pairs = found if isinstance(found, list) else [found]
            results: list[list[Any]] = []
            for model, inputs in pairs:
                outputs: list[Any] = []
                for args in inputs:
                    torch.manual_seed(0)
                    try:
                        outputs.append(snapshot(model(*fresh_args(args))))
                    except Exception as exc:
                        outputs.append(f"raised {type(exc).__name__}")
                results.append(outputs)
            return results
    finally:
        sys.modules.pop(spec.name, None)


# ------------------------------------------------------------------ the property


@dataclass(frozen=True)
class Mutant:
    name: str
    source: Path  # the scripting file it was made from
    seed: int


def _mutant_id(m: Mutant) -> str:
    return f"{m.name}-seed{m.seed}"


def _write(mutant: Mutant, directory: Path) -> tuple[Path, list[str]]:
    text = mutant.source.read_bytes().decode("utf-8")
    mutated, stripped = strip(text, mutant.seed)
    path = directory / _mutant_id(mutant) / "model.py"
    path.parent.mkdir(parents=True)
    path.write_bytes(mutated.encode("utf-8"))
    return path, stripped


def _check(paths: Sequence[Path]) -> dict[Path, dict[str, Any]]:
    """`tsannotate check --format json` over all of them (one worker): outcome per file."""
    result = CliRunner().invoke(app, ["check", *map(str, paths), "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    data = json.loads(result.stdout)
    return {Path(d["path"]).resolve(): d for d in (data if isinstance(data, list) else [data])}


class Prepared:
    """Mutated copies of some scripting files, and what `check` says about each before fixing."""

    def __init__(self, mutants: Sequence[Mutant], directory: Path) -> None:
        self.files = {m: _write(m, directory) for m in mutants}
        self.before = _check([path for path, _ in self.files.values()])


def _fails(data: dict[str, Any]) -> int:
    return 0 if data["scripts"] else max(len(data["diagnostics"]), 1)


def assert_property(prepared: Prepared, mutant: Mutant) -> None:
    path, stripped = prepared.files[mutant]
    what = f"{_mutant_id(mutant)}, stripped: {stripped}"
    text = path.read_bytes()
    before = prepared.before[path.resolve()]
    runner = CliRunner()

    first = runner.invoke(app, ["fix", str(path), "--apply", "--format", "json"])
    assert first.exit_code in (0, 1), f"{what}\n{first.stderr}"
    after = json.loads(first.stdout)
    fixed = path.read_bytes()
    ast.parse(fixed)
    if not after["written"]:
        assert fixed == text, what
    assert after["scripts"] or not before["scripts"], f"{what}: scripted before `fix --apply`, not after"
    assert _fails(after) <= _fails(before), f"{what}: {after['diagnostics']} after, {before['diagnostics']} before"
    assert after["written"] == after["changed"], f"{what}: not written\n{first.stderr}"

    copy = path.with_name("input.py")
    copy.write_bytes(text)
    for target, (old, new) in enumerate(zip(eager_outputs(copy), eager_outputs(path), strict=True)):
        for n, (o, f) in enumerate(zip(old, new, strict=True)):
            assert mismatch(o, f) is None, f"{what}: eager output of target {target}, input {n} changed"

    second = runner.invoke(app, ["fix", str(path), "--apply", "--format", "json"])
    assert second.exit_code == (0 if after["scripts"] else 1), f"{what}\n{second.stderr}"
    assert not json.loads(second.stdout)["changed"], f"{what}: the second run changed the file again"
    assert path.read_bytes() == fixed, what


# ------------------------------------------------------------------ default suite: a few seeded cases

FAST = [Mutant(name, CASES / name / "expected.py", seed) for name, seed in (
    ("transformer_block", 3),
    ("ignore_print_helper", 3),
)]


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    return Prepared(FAST, tmp_path_factory.mktemp("fast"))


@pytest.mark.parametrize("mutant", FAST, ids=_mutant_id)
def test_fix_after_stripping_is_no_worse_and_stable(fast: Prepared, mutant: Mutant) -> None:
    assert fast.files[mutant][1], "the seed strips nothing: pick another"
    assert_property(fast, mutant)


# ------------------------------------------------------------------ slow sweep


def _bench_model(directory: Path) -> Path:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import lower_bound
    finally:
        sys.path.remove(str(ROOT / "bench"))
    path = directory / "bench_medium_expected.py"
    path.write_text(lower_bound.build(300, "expected.py"))
    return path


SLOW = [Mutant(p.parent.name, p, 100 + i) for i, p in enumerate(EXPECTED)]
BENCH = [Mutant("bench_medium", Path("bench_medium_expected.py"), seed) for seed in (7, 8)]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    directory = tmp_path_factory.mktemp("sweep")
    bench = _bench_model(directory)
    mutants = SLOW + [Mutant(m.name, bench, m.seed) for m in BENCH]
    prepared = Prepared(mutants, directory)
    # the bench mutants are keyed by their real source; let the test ask with the placeholder
    prepared.files.update({m: prepared.files[Mutant(m.name, bench, m.seed)] for m in BENCH})
    return prepared


@pytest.mark.slow
@pytest.mark.parametrize("mutant", SLOW + BENCH, ids=_mutant_id)
def test_sweep_fix_after_stripping_is_no_worse_and_stable(sweep: Prepared, mutant: Mutant) -> None:
    assert_property(sweep, mutant)
