"""`tsannotate fix --apply` against the least any tool could take: import torch, run the probe, script.

    python bench/lower_bound.py [--repeat 3] [--keep DIR]

Three models of growing size (about 50, 300 and 1500 lines) that need fixes, built at run
time from the golden inputs (fixtures/cases/*/input.py): the cases are concatenated, every
top-level name of a case gets a suffix (so a case can appear more than once), and one
`probe()` returns every case's (model, inputs) pair. For each model:

- tool: wall time of `python -m tsannotate fix MODEL --apply` on a fresh copy (a new
  process, as a user runs it: interpreter, typer, libcst, mypy's static step, the worker's
  `import torch`, every pass, the verify gate, the write);
- lower bound: wall time of a fresh `python` that imports torch, imports the *fixed* model,
  runs its probe once (builds the models, calls them on every input) and scripts every
  model once — what any tool that must see the model run and compile pays.

Both are measured in the same run, interleaved, `--repeat` times; the medians are
compared. Before timing, one untimed run of each warms the OS file cache and mypy's cache
(its cold cost, once per machine, is in docs/benchmarks.md). Goal: tool ÷ lower bound ≤ 1.5.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "fixtures" / "cases"
SIZES = {"small": 50, "medium": 300, "large": 1500}

HEADER = '''"""Golden cases concatenated into one model file (built by bench/lower_bound.py)."""\n'''
TYPING = "from typing import Dict, Final, List, Optional, Tuple\n"  # the cases' typing imports, merged

PROBE = """

def _pairs(found):
    return list(found) if isinstance(found, list) else [found]


def probe():
    return [pair for make in ({makers},) for pair in _pairs(make())]
"""

BASELINE = """
import importlib.util, json, sys, time
started = time.perf_counter()
import torch
imported = time.perf_counter()
spec = importlib.util.spec_from_file_location("fixed_model", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["fixed_model"] = module  # as an import does: TorchScript reads a plain class's source through it
spec.loader.exec_module(module)
found = module.probe()
pairs = found if isinstance(found, list) else [found]
for model, inputs in pairs:
    for args in inputs:
        model(*args)
probed = time.perf_counter()
for model, _ in pairs:
    torch.jit.script(model)
scripted = time.perf_counter()
print(json.dumps({"import": imported - started, "probe": probed - imported, "script": scripted - probed}))
"""


def usable(case: Path) -> bool:
    """Cases that can share one module: a plain-LF, space-indented model with a probe, whose
    fix does not depend on the file's own imports."""
    text = (case / "input.py").read_bytes().decode()
    return ("\r" not in text and "\t" not in text and "jit.script" not in text and "def probe" in text
            and "__future__" not in text
            and not (case / "flags").exists() and case.name not in ("typing_already_imported",
                                                                    "tensor_imported_from_torch"))


def top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def renamed(text: str, suffix: str) -> str:
    """`text` with each top-level name `n` spelled `n_<suffix>` wherever it is used as a
    name (not after a dot, not as a keyword argument or parameter name), and in a string that
    is exactly `n` (the type name given to `namedtuple`)."""
    names = top_level_names(ast.parse(text))
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    depth = 0
    out: list[tokenize.TokenInfo] = []
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        if tok.type == tokenize.NAME and tok.string in names:
            prev = next((t for t in reversed(tokens[:i]) if t.type not in (tokenize.NL, tokenize.COMMENT)), None)
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            after_dot = prev is not None and prev.string == "."
            keyword = depth > 0 and nxt is not None and nxt.string == "="
            if not (after_dot or keyword):
                tok = tok._replace(string=f"{tok.string}_{suffix}")
        elif tok.type == tokenize.STRING and tok.string[1:-1] in names and tok.string[0] in "'\"":
            tok = tok._replace(string=f"{tok.string[0]}{tok.string[1:-1]}_{suffix}{tok.string[0]}")  # namedtuple("Name")
        out.append(tok)
    return tokenize.untokenize(out)


def body(text: str) -> str:
    """A case's text without its module docstring and top-level imports (the header has them)."""
    tree = ast.parse(text)
    drop: set[int] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or (
                node is tree.body[0] and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            drop.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    lines = [ln for n, ln in enumerate(text.splitlines(), 1) if n not in drop]
    return "\n".join(lines).strip("\n")


def build(lines: int, name: str = "input.py") -> str:
    """About `lines` lines of golden cases (`input.py` or `expected.py`) with one probe."""
    cases = sorted((c for c in CASES.iterdir() if (c / "input.py").exists() and usable(c)),
                   key=lambda c: (c.name != "transformer_block", c.name))  # the realistic one first
    imports: dict[str, None] = {}  # every case's own imports but typing's, in first-seen order
    for case in cases:
        for node in ast.parse((case / name).read_text()).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)) and getattr(node, "module", "") != "typing":
                imports.setdefault(ast.unparse(node))
    header = HEADER + "\n".join(imports) + "\n" + TYPING
    parts: list[str] = []
    makers: list[str] = []
    total = (header + PROBE).count("\n")
    copy = 0
    while total < lines:
        copy += 1
        for case in cases:
            suffix = f"{case.name}_{copy}"
            text = (case / name).read_text()
            part = body(renamed(text, suffix))
            parts.append(part)
            makers.append(f"probe_{suffix}")
            total += part.count("\n") + 3
            if total >= lines:
                break
    return header + "\n\n" + "\n\n\n".join(parts) + "\n" + PROBE.format(makers=", ".join(makers))


def timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    return time.perf_counter() - started, done


def run_tool(source: Path, work: Path) -> tuple[float, dict[str, object], str]:
    path = work / "model.py"
    shutil.copyfile(source, path)
    seconds, done = timed([sys.executable, "-m", "tsannotate", "fix", str(path), "--apply", "--format", "json"])
    if done.returncode != 0:
        raise SystemExit(f"fix --apply exited {done.returncode} on {source} (a model that no longer fixes "
                         f"cleanly: see its diagnostics):\n{done.stderr[-2000:]}{done.stdout[-3000:]}")
    return seconds, json.loads(done.stdout), path.read_text()


def run_baseline(fixed: Path) -> tuple[float, dict[str, float]]:
    seconds, done = timed([sys.executable, "-c", BASELINE, str(fixed)])
    if done.returncode != 0:
        raise SystemExit(f"the lower-bound run failed on {fixed}:\n{done.stderr[-3000:]}")
    return seconds, json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the built models (input, fixed) into this directory")
    parser.add_argument("--sizes", nargs="*", default=list(SIZES), choices=list(SIZES))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for size in args.sizes:
            source = work / f"{size}.py"
            source.write_text(build(SIZES[size]))
            _, data, fixed_text = run_tool(source, work)  # warm-up: file cache, mypy cache
            fixed = work / f"{size}_fixed.py"
            fixed.write_text(fixed_text)
            run_baseline(fixed)
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, args.keep / source.name)
                shutil.copyfile(fixed, args.keep / fixed.name)
            tool_s: list[float] = []
            base_s: list[float] = []
            parts: list[dict[str, float]] = []
            for _ in range(args.repeat):
                seconds, data, _ = run_tool(source, work)
                tool_s.append(seconds)
                seconds, split = run_baseline(fixed)
                base_s.append(seconds)
                parts.append(split)
            passes = data["passes"]
            assert isinstance(passes, list)
            rows.append((size, source.read_text().count("\n"), len(data["fixes"]),  # type: ignore[arg-type]
                         len(passes), data["scripts"], statistics.median(tool_s), statistics.median(base_s),
                         {k: statistics.median(p[k] for p in parts) for k in parts[0]},
                         float(data["seconds"])))  # type: ignore[arg-type]
    print(f"{'model':8} {'lines':>5} {'fixes':>5} {'passes':>6} {'scripts':>7} {'tool(s)':>8} "
          f"{'bound(s)':>8} {'ratio':>6}   bound = python + import torch + probe + script")
    for size, lines, fixes, passes, scripts, tool, base, split, loop in rows:
        print(f"{size:8} {lines:5} {fixes:5} {passes:6} {scripts!s:>7} {tool:8.2f} {base:8.2f} "
              f"{tool / base:5.2f}x   = {base - sum(split.values()):.2f} + {split['import']:.2f} + "
              f"{split['probe']:.2f} + {split['script']:.2f}  (the loop itself: {loop:.2f} s)")


if __name__ == "__main__":
    main()
