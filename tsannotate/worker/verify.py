"""Proof: the scripted model computes what the eager model computes, and it deploys.

For every probe target: script it, `torch.jit.save` it to a buffer and `torch.jit.load` it
back, then run eager, scripted and loaded side by side on every probe input and on inputs
derived from them (another batch size, another length), comparing outputs (tensors: shape,
dtype, values; other values exactly; nested structures walked). A scripted model's first call
runs as in a deployed model, the rest without the graph executor's optimizing passes
(executor.py). Lists the calls back into
Python (`@torch.jit.ignore`), which keep the model from running in C++. Optionally traces
with the first input to find the lines a trace freezes, and runs the saved model from C++.
"""

from __future__ import annotations

import copy
import io
import os
import re
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn

from tsannotate.records import (
    Check,
    Hazard,
    LoadError,
    LoadFailure,
    PythonCall,
    ScriptRequest,
    VerifyReport,
    VerifyRequest,
)
from tsannotate.worker import executor, hazards, kept, tracing
from tsannotate.worker.compare import fresh_args, mismatch, snapshot
from tsannotate.worker.errors import LoadFailed, describe
from tsannotate.worker.loader import Loaded, loading, resumed
from tsannotate.worker.python_calls import python_calls
from tsannotate.worker.rng import seed
from tsannotate.worker.targets import Target, find_targets
from tsannotate.worker.variants import derive



@dataclass
class _Out:
    checks: list[Check] = field(default_factory=list)
    calls: list[PythonCall] = field(default_factory=list)
    hazards: list[Hazard] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Raised:
    """Eager raised on a probe input (a baseline entry)."""

    what: str


def handle_verify(request: VerifyRequest) -> VerifyReport:
    """Never raises: whatever goes wrong becomes the report's load_error."""
    began = time.perf_counter()
    cwd, grad = os.getcwd(), torch.is_grad_enabled()
    try:
        report = _verify(request)
    except (Exception, SystemExit) as exc:
        report = VerifyReport(load_error=LoadError(
            LoadFailure.CRASH,
            f"internal error in tsannotate verify: {type(exc).__name__}: {exc}".splitlines()[0][:300]
            + " — this is a tsannotate bug; please report it with the details",
            "".join(traceback.format_exception(exc)).rstrip("\n")))
    finally:
        torch.set_grad_enabled(grad)
        try:
            os.chdir(cwd)
        except OSError:
            pass
    return replace(report, seconds=time.perf_counter() - began)


def _verify(request: VerifyRequest) -> VerifyReport:
    out = _Out()
    baseline: dict[str, list[Any]] = {}
    try:
        if request.original is not None and (request.original != request.source or request.sources):
            baseline = _baseline(replace(request, source=request.original, sources=()))  # siblings: on disk
        with _targets(request, out, reuse=True) as (loaded, targets):
            for target in targets:
                _Verifier(loaded, target, request, out, baseline.get(target.name)).run()
    except LoadFailed as exc:
        return VerifyReport(load_error=exc.error, notes=tuple(out.notes))
    finally:
        kept.verified()
    return VerifyReport(tuple(out.checks), tuple(dict.fromkeys(out.calls)),
                        tuple(out.hazards), notes=tuple(dict.fromkeys(out.notes)))


def _script_request(request: VerifyRequest) -> ScriptRequest:
    return ScriptRequest(request.model_path, request.source, request.probe, sources=request.sources)


@contextmanager
def _targets(request: VerifyRequest, out: _Out, reuse: bool) -> Iterator[tuple[Loaded, list[Target]]]:
    """The request's targets: the worker's last script pass's, kept for this (see kept.py),
    when it loaded exactly this request's sources; else from a fresh load and probe call."""
    script_request = _script_request(request)
    session = kept.take(script_request) if reuse else None
    if session is not None:
        with resumed(session.restore, script_request):
            session.probed.put_back()
            _target_notes(out, session.notes, session.targets)
            yield session.loaded, session.targets
        return
    with loading(script_request) as (loaded, restore):
        failed = loaded.import_script_error
        if failed is not None:
            out.checks.append(Check(failed.target, "scripted", "", False,
                                    _compile_message(loaded, failed.exc, failed.target)))
            yield loaded, []
            return
        found = find_targets(loaded, script_request, restore)
        _target_notes(out, found.notes, found.targets)
        yield loaded, found.targets


def _target_notes(out: _Out, notes: list[str], targets: list[Target]) -> None:
    out.notes.extend(n for n in notes if not n.startswith("no probe:"))
    if not any(t.inputs for t in targets):
        out.notes.append("no probe inputs, so no outputs were compared: a probe() returning "
                         "(model, [inputs]) is what verify runs eagerly and scripted")


def _baseline(request: VerifyRequest) -> dict[str, list[Any]]:
    """Eager outputs of the source before fixes, per target, on the probe inputs (those of the
    worker's first script pass over that source, when it ran exactly this: see kept.py)."""
    first_pass = kept.baseline(_script_request(request))
    if first_pass is not None:
        return first_pass
    result: dict[str, list[Any]] = {}
    try:
        with _targets(request, _Out(), reuse=False) as (_, targets):
            for target in targets:
                model = _copy(target.obj)
                outputs: list[Any] = []
                for args in target.inputs or []:
                    seed()
                    try:
                        outputs.append(snapshot(model(*fresh_args(args))))
                    except Exception as exc:
                        outputs.append(_Raised(describe(exc)))
                result[target.name] = outputs
    except LoadFailed:
        return {}
    return result


class _Verifier:
    def __init__(self, loaded: Loaded, target: Target, request: VerifyRequest, out: _Out,
                 baseline: list[Any] | None) -> None:
        self.loaded, self.target, self.request, self.out = loaded, target, request, out
        self.baseline = baseline
        self.lines: set[tuple[str, int]] = set()  # lines of the model file the trace ran
        self.warned: list[Hazard] = []  # where the tracer warned

    def check(self, stage: str, label: str, ok: bool, message: str = "") -> None:
        self.out.checks.append(Check(self.target.name, stage, label, ok, message))

    def run(self) -> None:
        target = self.target
        # a kept target (kept.py) is an uncalled copy with an uncalled scripted twin: run it as is
        eager = target.obj if target.twin is not None else _copy(target.obj)  # before anything runs
        to_trace = _copy(target.obj) if self.request.trace and target.inputs else None
        try:
            scripted = target.twin if target.twin is not None else torch.jit.script(target.obj)
        except Exception as exc:
            from tsannotate.worker.jit import _forget_failed_types

            _forget_failed_types()  # a half-compiled class must not poison the worker's next request
            self.check("scripted", "", False, _compile_message(self.loaded, exc, target.name))
            self.eager_only(eager)
            return
        self.out.calls.extend(python_calls(scripted, target.obj))
        saved, loaded = self.round_trip(scripted)
        if not target.inputs:
            self.check("scripted", "", True)
            return
        traced = self.trace(to_trace, target.inputs[0]) if to_trace is not None else None
        models = [("scripted", scripted)] + [(s, m) for s, m in (("loaded", loaded), ("traced", traced))
                                             if m is not None]
        probe_cases = [(f"probe input {i}", args) for i, args in enumerate(target.inputs)]
        ran: list[tuple[str, tuple[Any, ...], Any]] = []
        skipped: list[str] = []
        unstable: list[str] = []  # derived inputs eager computes differently when run again
        untraceable: list[str] = []  # a trace takes the traced call's arguments, nothing else
        for n, (label, args) in enumerate(probe_cases + derive(target.inputs)):
            derived = n >= len(probe_cases)
            seed()
            try:
                expected = snapshot(eager(*fresh_args(args)))
            except Exception as exc:
                if derived:
                    skipped.append(f"{label.removeprefix('probe ')} ({describe(exc)})")
                else:
                    self.check("eager", label, False, f"the eager model raises {describe(exc)}")
                continue
            if self.baseline is not None and n < len(self.baseline):
                self.compare_baseline(label, self.baseline[n], expected)
            checked = len(self.out.checks)
            for stage, model in models:
                if stage == "traced" and not tracing.same_call(args, target.inputs[0]):
                    untraceable.append(label.removeprefix("probe "))
                    continue
                first = stage == "scripted" and n == 0 and target.twin is None  # its first call
                with executor.deployed() if first else nullcontext():  # see executor.py
                    self.compare(stage, label, expected, lambda m=model: m(*fresh_args(args)))
            if derived and any(not c.ok for c in self.out.checks[checked:]):
                why = self.unreproducible(eager, args, expected)
                if why:  # not an input this model takes: what eager returns on it means nothing
                    del self.out.checks[checked:]
                    unstable.append(f"{label.removeprefix('probe ')} ({why})")
                    continue
            ran.append((label, args, expected))
        if skipped:
            self.out.notes.append(f"{target.name}: derived inputs the eager model rejects were "
                                  f"skipped: {'; '.join(skipped)}")
        if unstable:
            self.out.notes.append(f"{target.name}: derived inputs on which the eager model gives "
                                  "different results from run to run (not inputs this model takes, "
                                  f"e.g. resized offsets or indices) were skipped: {'; '.join(unstable)}")
        if untraceable:
            self.out.notes.append(f"{target.name}: the trace was not run on inputs whose arguments "
                                  f"differ from probe input 0 beyond tensor shapes: {', '.join(untraceable)}")
        if traced is not None:
            self.find_hazards()
        if self.request.cpp and saved is not None:
            self.run_cpp(saved, ran)

    def unreproducible(self, eager: Any, args: tuple[Any, ...], expected: Any) -> str:
        """Why eager run again on `args` (seeded as before) disagrees with its first run, or "".

        Run only on a derived input some model already differs from eager on: an input the model
        does not take (offsets that are no longer offsets) can make eager read memory it never
        wrote, returning garbage or raising at random, and that says nothing about the scripted
        model. A frozen shape makes the scripted model differ from an eager one that is stable.
        """
        seed()
        try:
            again = snapshot(eager(*fresh_args(args)))
        except Exception as exc:
            return f"a second eager run raises {describe(exc)}"
        diff = mismatch(expected, again)
        if diff is None:
            return ""
        where, got, first = diff
        return f"{where}: a second eager run returns {got} where the first returned {first}"

    def eager_only(self, eager: Any) -> None:
        """The model does not script: still check the fixes left its eager outputs alone."""
        if self.baseline is None:
            return
        for n, args in enumerate(self.target.inputs or []):
            seed()
            try:
                now = snapshot(eager(*fresh_args(args)))
            except Exception as exc:
                now = _Raised(describe(exc))
            if n < len(self.baseline):
                self.compare_baseline(f"probe input {n}", self.baseline[n], now)

    def compare(self, stage: str, label: str, expected: Any, call: Any) -> None:
        seed()
        try:
            got = call()
        except Exception as exc:
            self.check(stage, label, False, f"{stage} raises {_call_error(self.loaded, exc)}")
            return
        if stage == "traced":  # a trace returns a traced `x.shape[0]` as a 0-dim tensor
            got = tracing.numbers_from_tensors(expected, got)
        self.report_diff(stage, label, mismatch(expected, got))

    def report_diff(self, stage: str, label: str, diff: tuple[str, str, str] | None) -> None:
        if diff is None:
            self.check(stage, label, True)
            return
        where, got, expected = diff
        self.check(stage, label, False, f"{where}: {stage} returns {got} where eager returns {expected}")

    def compare_baseline(self, label: str, before: Any, now: Any) -> None:
        if isinstance(before, _Raised):
            return  # the original raised here; the fixed model working is not a regression
        if isinstance(now, _Raised):
            self.check("eager", label, False, f"the fixes make the eager model raise {now.what}")
            return
        diff = mismatch(before, now)
        if diff is not None:
            where, got, expected = diff
            self.check("eager", label, False, f"{where}: the fixes change the eager output: it is "
                       f"now {got} where the original source gives {expected}")

    def round_trip(self, scripted: Any) -> tuple[bytes | None, Any]:
        if not isinstance(scripted, torch.jit.ScriptModule):
            self.out.notes.append(f"{self.target.name} is a function: torch.jit.save needs a module, "
                                  "so the save/load round trip was not run (wrap it in an nn.Module)")
            return None, None
        buffer = io.BytesIO()
        try:
            _save(scripted, buffer, twin=self.target.twin is not None)
        except Exception as exc:
            self.check("saved", "", False, f"torch.jit.save fails: {_first_line(self.loaded, exc)}")
            return None, None
        data = buffer.getvalue()
        try:
            loaded = torch.jit.load(io.BytesIO(data))  # type: ignore[no-untyped-call]
        except Exception as exc:
            self.check("loaded", "", False, f"torch.jit.load fails: {_first_line(self.loaded, exc)}"
                       + _not_ascii(scripted, exc))
            return None, None
        self.check("saved", "", True, f"{len(data)} bytes")
        return data, loaded

    # ------------------------------------------------------------------ tracing

    def trace(self, model: Any, args: tuple[Any, ...]) -> Any:
        try:
            traced, self.lines, self.warned = tracing.trace(model, fresh_args(args), self.loaded.path)
        except Exception as exc:
            self.check("traced", "", False,
                       f"torch.jit.trace fails on probe input 0: {_first_line(self.loaded, exc)}")
            return None
        return traced

    def find_hazards(self) -> None:
        failed = any(c.stage == "traced" and not c.ok for c in self.out.checks
                     if c.target == self.target.name)
        if not (failed or self.warned):
            return
        scanned = [h for h in hazards.scan(self.request.source, self.loaded.path)
                   if (h.location.path, h.location.line) in self.lines]
        self.out.hazards.extend(h for h in hazards.merge(self.warned, scanned)
                                if h not in self.out.hazards)

    # ------------------------------------------------------------------ C++

    def run_cpp(self, saved: bytes, ran: list[tuple[str, tuple[Any, ...], Any]]) -> None:
        from tsannotate.worker import cpp

        try:
            runner = cpp.build_runner(self.request.cache_dir)
            outputs = cpp.run(runner, saved, [args for _, args, _ in ran])
        except cpp.CppUnavailable as exc:
            self.out.notes.append(f"{self.target.name}: the C++ run was skipped: {exc}")
            return
        for (label, _, expected), got in zip(ran, outputs):
            if isinstance(got, cpp.CppError):
                self.check("cpp", label, False, f"cpp raises {got.message}")
            else:
                self.report_diff("cpp", label, mismatch(expected, got))


# --------------------------------------------------------------------------- helpers


def _copy(obj: Any) -> Any:
    if not isinstance(obj, nn.Module):
        return obj
    try:
        return copy.deepcopy(obj)
    except Exception:
        return obj


def _save(scripted: Any, buffer: io.BytesIO, twin: bool) -> None:
    """torch.jit.save; a scripted twin's attribute values are held meanwhile.

    A twin (kept.py) is a copy: its tensors have no other owner, whereas the module that
    `torch.jit.script` returns shares them with the instance it scripted. TorchScript's pickler
    memoizes only values with another owner, so without these references the saved bytes (and
    the size the check reports) would differ from a fresh script's by a few memo entries.
    """
    held: object = None
    if twin:
        try:
            held = getattr(torch._C, "_jit_debug_module_iterators")(scripted._c)["named_attributes_r"]
        except Exception:  # a torch without it: only the size could differ
            pass
    torch.jit.save(scripted, buffer)
    del held


def _compile_message(loaded: Loaded, exc: BaseException, target: str) -> str:
    from tsannotate.jit_messages import parse_compile_error

    d = parse_compile_error(loaded.scrub(str(exc)), type(exc).__name__, target)
    return f"does not script: {d.where()}: {d.message}" if d.location else f"does not script: {d.message}"


def _call_error(loaded: Loaded, exc: BaseException) -> str:
    """`RuntimeError: the last line of what TorchScript said` (its first is boilerplate)."""
    lines = [line.strip() for line in loaded.scrub(str(exc)).splitlines() if line.strip()]
    text = lines[-1] if lines else ""
    if re.match(r"\w+(Error|Exception): ", text):
        return text[:300]
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def _not_ascii(scripted: Any, exc: BaseException) -> str:
    """What to do when the load fails on names that are not ASCII (`class Ünïcode`): torch.jit.save
    writes them, torch.jit.load cannot read them back."""
    if not isinstance(exc, UnicodeDecodeError):
        return ""
    modules = list(scripted.modules())
    names = sorted({n for m in modules for n in (str(getattr(m, "original_name", "")),) if not n.isascii()}
                   | {n for m in modules for n in m._c._method_names() if not n.isascii()})
    named = ", ".join(f"`{n}`" for n in names) if names else "an identifier of the model"
    return (f" — TorchScript saves names that are not ASCII but cannot load them: rename {named} "
            "to ASCII letters")


def _first_line(loaded: Loaded, exc: BaseException) -> str:
    lines = [line.strip() for line in loaded.scrub(str(exc)).splitlines() if line.strip()]
    return lines[0][:300] if lines else type(exc).__name__
