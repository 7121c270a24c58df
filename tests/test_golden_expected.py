"""Check the golden cases under fixtures/cases/ themselves, without tsannotate.

Every case directory holds ``input.py`` (a model that runs eagerly but does not
script, or scripts but fails/differs when called) and ``expected.py`` (the same file
after the minimal annotation fix, exactly as tsannotate should write it).  Both
define ``probe() -> (model_or_function, [args_tuple, ...])``.

For every case this test checks that

(a) input.py's probe model runs eagerly on its probe inputs;
(b) expected.py's probe model scripts, and the scripted model gives the same
    outputs as (a) on every probe input, called in order (models may keep state);
(c) input.py does NOT script cleanly: scripting raises (at import time for
    module-level ``@torch.jit.script`` functions), or the scripted model raises or
    differs on the probe inputs.  No-op cases (expected.py byte-identical to
    input.py) must instead script cleanly.

A case whose flaw shows only in a configuration its probe does not build (a flag the
probe turns on) also defines ``other_configuration()``, shaped like ``probe()``: there
input.py must fail to script, and expected.py must script and match eager.

Files are loaded in-process with importlib under a unique module name per load:
TorchScript caches compiled classes by qualified name (``__torch__.<module>.<cls>``),
so reusing a name would hand back a class compiled from the other file.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import math
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

import pytest
import torch

CASES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "cases"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "input.py").is_file())

_counter = itertools.count()


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)  # "Failed to initialize NumPy" etc.
        yield


@contextlib.contextmanager
def _eager_jit_script() -> Iterator[None]:
    """Make ``@torch.jit.script`` a no-op while a file is imported.

    Used to get an eager reference for inputs whose module-level
    ``@torch.jit.script`` raises at import time.
    """
    original = torch.jit.script
    torch.jit.script = lambda obj, *args, **kwargs: obj
    try:
        yield
    finally:
        torch.jit.script = original


def load(path: Path, tag: str, *, eager_script: bool = False) -> ModuleType:
    """Import ``path`` under a fresh module name (the file is on disk, so
    inspect/linecache find the source that TorchScript needs)."""
    name = f"golden_{path.parent.name}_{tag}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # TorchScript resolves classes via sys.modules
    dont_write_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # keep __pycache__ out of fixtures/cases
    try:
        with _quiet(), (_eager_jit_script() if eager_script else contextlib.nullcontext()):
            spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    finally:
        sys.dont_write_bytecode = dont_write_bytecode
    return module


def probe(module: ModuleType) -> tuple[Any, list[tuple[Any, ...]]]:
    with _quiet():
        model, inputs = module.probe()
    assert isinstance(inputs, list) and inputs, "probe() must return a non-empty list of arg tuples"
    assert all(isinstance(args, tuple) for args in inputs)
    return model, inputs


def run_all(model: Callable[..., Any], inputs: list[tuple[Any, ...]]) -> list[Any]:
    with _quiet(), torch.no_grad():
        return [model(*args) for args in inputs]


def script(model: Any) -> Any:
    with _quiet():
        return torch.jit.script(model)


def same(a: Any, b: Any, where: str = "output") -> str | None:
    """None if ``a`` and ``b`` match (tensors allclose, rest equal), else why not."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            return f"{where}: {type(a).__name__} vs {type(b).__name__}"
        if a.shape != b.shape or a.dtype != b.dtype:
            return f"{where}: tensor {a.dtype}{list(a.shape)} vs {b.dtype}{list(b.shape)}"
        if not torch.allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True):
            return f"{where}: tensor values differ (max abs diff {(a - b).abs().max().item()})"
        return None
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        # a scripted model's namedtuple is a class of TorchScript's own: same name and fields is the same
        named = all(isinstance(v, tuple) and hasattr(v, "_fields") for v in (a, b))
        if named and (type(a).__name__, a._fields) != (type(b).__name__, b._fields):
            return f"{where}: {type(a).__name__}{a._fields} vs {type(b).__name__}{b._fields}"
        if type(a) is not type(b) and not named:
            return f"{where}: {type(a).__name__} vs {type(b).__name__}"
        if len(a) != len(b):
            return f"{where}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            if (why := same(x, y, f"{where}[{i}]")) is not None:
                return why
        return None
    if isinstance(a, dict) or isinstance(b, dict):
        if not (isinstance(a, dict) and isinstance(b, dict)):
            return f"{where}: {type(a).__name__} vs {type(b).__name__}"
        if list(a) != list(b):
            return f"{where}: keys {list(a)} vs {list(b)}"
        for k in a:
            if (why := same(a[k], b[k], f"{where}[{k!r}]")) is not None:
                return why
        return None
    if isinstance(a, float) and isinstance(b, float):
        return None if math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9) else f"{where}: {a!r} vs {b!r}"
    if type(a) is not type(b) or a != b:
        return f"{where}: {a!r} vs {b!r}"
    return None


def same_outputs(eager: list[Any], scripted: list[Any]) -> str | None:
    for i, (a, b) in enumerate(zip(eager, scripted)):
        if (why := same(a, b, f"probe input #{i}")) is not None:
            return why
    return None


@pytest.fixture(scope="module", autouse=True)
def _drop_loaded_modules() -> Iterator[None]:
    yield
    for name in [n for n in sys.modules if n.startswith("golden_")]:
        del sys.modules[name]


# --------------------------------------------------------------------------- tests


def test_cases_exist() -> None:
    assert len(CASES) >= 16, CASES
    for case in CASES:
        assert (CASES_DIR / case / "expected.py").is_file(), f"{case}: expected.py missing"


@pytest.mark.parametrize("case", CASES)
def test_newline_style_kept(case: str) -> None:
    """expected.py keeps input.py's line endings and indentation characters."""
    src = (CASES_DIR / case / "input.py").read_bytes()
    exp = (CASES_DIR / case / "expected.py").read_bytes()
    assert (b"\r\n" in src) == (b"\r\n" in exp)
    if b"\r\n" in src:
        assert exp.count(b"\n") == exp.count(b"\r\n"), "mixed line endings in expected.py"
    assert (b"\n\t" in src) == (b"\n\t" in exp)


@pytest.mark.parametrize("case", CASES)
def test_golden_case(case: str) -> None:
    input_path = CASES_DIR / case / "input.py"
    expected_path = CASES_DIR / case / "expected.py"
    noop = input_path.read_bytes() == expected_path.read_bytes()

    # (a) input runs eagerly.  An input whose module-level @torch.jit.script raises
    # at import gets its eager reference with torch.jit.script made a no-op.
    import_error: BaseException | None = None
    try:
        input_module = load(input_path, "input")
    except Exception as e:  # noqa: BLE001 - any compile error counts
        import_error = e
        input_module = load(input_path, "eager", eager_script=True)
    eager_model, inputs = probe(input_module)
    eager_out = run_all(eager_model, inputs)

    # (b) expected scripts, and the scripted model matches eager input on every input.
    expected_module = load(expected_path, "expected")
    expected_model, expected_inputs = probe(expected_module)
    assert same(list(inputs), list(expected_inputs), "probe inputs") is None, (
        "input.py and expected.py probes must build the same inputs"
    )
    try:
        scripted = script(expected_model)
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"expected.py does not script:\n{e}")
    try:
        scripted_out = run_all(scripted, expected_inputs)
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"scripted expected.py raised on the probe inputs:\n{e}")
    why = same_outputs(eager_out, scripted_out)
    assert why is None, f"scripted expected.py differs from eager input.py: {why}"

    # (c) input does not script cleanly (unless this is a no-op case).  A fresh
    # probe model: an eager run can change attributes (a cache set to a Tensor).
    failure: str | None = None
    if import_error is not None:
        failure = f"import: {type(import_error).__name__}"
    else:
        fresh_model, fresh_inputs = probe(input_module)
        try:
            scripted_input = script(fresh_model)
        except Exception as e:  # noqa: BLE001
            failure = f"script: {type(e).__name__}"
        else:
            try:
                failure = same_outputs(eager_out, run_all(scripted_input, fresh_inputs))
            except Exception as e:  # noqa: BLE001
                failure = f"call: {type(e).__name__}"
    if hasattr(input_module, "other_configuration"):
        other, other_inputs = input_module.other_configuration()
        try:
            script(other)
        except Exception as e:  # noqa: BLE001
            failure = failure or f"other configuration: script: {type(e).__name__}"
        else:
            pytest.fail("input.py's other configuration scripts: nothing shows there")
        fixed, _ = expected_module.other_configuration()
        why = same_outputs(run_all(other, other_inputs), run_all(script(fixed), other_inputs))
        assert why is None, f"expected.py's other configuration differs from eager: {why}"
    if noop:
        assert failure is None, f"no-op case must script cleanly, but: {failure}"
    else:
        assert failure is not None, "input.py scripts and matches eager: nothing to fix"
