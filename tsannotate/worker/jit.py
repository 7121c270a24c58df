"""Script the targets, read the compiler's errors, check the scripted model against eager.

The only caller of `torch.jit.script` in tsannotate. TorchScript stops at the first
error, so when a module fails, each submodule instance whose class is defined in the
model file is scripted on its own too (deepest first) to surface independent errors
in one pass.
"""

from __future__ import annotations

import copy
import inspect
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from tsannotate.records import (
    CompiledSignature,
    Diagnostic,
    DiagnosticKind,
    Observation,
    TargetResult,
)
from tsannotate.worker import executor
from tsannotate.worker.compare import fresh_args, mismatch, snapshot
from tsannotate.worker.errors import describe
from tsannotate.worker.loader import Loaded
from tsannotate.worker.recorder import Recorder
from tsannotate.worker.rng import seed
from tsannotate.worker.signatures import function_signatures, method_signatures, schema_signature
from tsannotate.worker.targets import Target


@dataclass
class Results:
    targets: list[TargetResult] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    signatures: list[CompiledSignature] = field(default_factory=list)
    observations: tuple[Observation, ...] = ()  # types the eager probe run saw
    notes: list[str] = field(default_factory=list)
    # per target: its eager outputs on the probe inputs ([] without inputs); None when one raised
    eager: dict[str, list[Any]] | None = None
    # per target (by id): (a copy of it taken before scripting, a copy of what scripting it
    # returned), both never called; only while every target so far scripted
    twins: dict[int, tuple[Any, Any]] = field(default_factory=dict)
    _seen: set[tuple[object, ...]] = field(default_factory=set)

    def diagnose(self, d: Diagnostic) -> None:
        key: tuple[object, ...] = (d.kind, d.location, d.symbol)
        if d.location is None:  # nothing to tell them apart but what they say
            key += (d.target, d.message)
        if key not in self._seen:
            self._seen.add(key)
            self.diagnostics.append(d)

    def sign(self, signatures: list[CompiledSignature]) -> None:
        for s in signatures:
            if s not in self.signatures:
                self.signatures.append(s)


def script_targets(loaded: Loaded, targets: list[Target]) -> Results:
    results = Results()
    if loaded.import_script_error is not None:
        failed = loaded.import_script_error
        results.targets.append(TargetResult(failed.target, scripted=False))
        results.diagnose(_compile_diagnostic(loaded, failed.exc, failed.target))
        results.notes.append(
            f"`torch.jit.script` on {failed.target} failed while the model was imported, "
            "so nothing else in the file was checked")
        return results
    recorder = Recorder(loaded.project_files)  # the types the project's functions see
    eager = {id(t): _eager_outputs(t, results.notes, recorder) for t in targets}  # before scripting
    if all(eager[id(t)] is not None or t.inputs is None for t in targets):
        results.eager = {t.name: e.outputs if e else [] for t in targets for e in [eager[id(t)]]}
    held = tuple(dict.fromkeys(o for t in targets for o in t.held))  # as the probe built the model
    results.observations = recorder.observations() + held
    results.notes.extend(recorder.notes())
    for target in targets:
        _script_one(loaded, target, eager[id(target)], results)
    results.sign(function_signatures(loaded))
    return results


# --------------------------------------------------------------------------- scripting


def _script_one(loaded: Loaded, target: Target, eager: _Eager | None, results: Results) -> None:
    keep = all(t.scripted for t in results.targets)
    original = _pristine(target.obj) if keep else None
    try:
        scripted = torch.jit.script(target.obj)
    except Exception as exc:  # RuntimeError, and frontend errors that are not RuntimeErrors
        _forget_failed_types()
        results.twins.clear()
        results.targets.append(TargetResult(target.name, scripted=False))
        diag = _compile_diagnostic(loaded, exc, target.name)
        results.diagnose(diag)
        if isinstance(target.obj, nn.Module):
            _held_class_error(loaded, target.obj, diag, target.name, results)
            _script_submodules(loaded, target, results)
        return
    if isinstance(target.obj, nn.Module):
        results.sign(method_signatures(loaded, target.obj, scripted))
    elif hasattr(scripted, "schema") and hasattr(target.obj, "__qualname__"):
        results.sign([schema_signature(target.obj.__qualname__, scripted.schema, loaded, method=False)])
    twin = _pristine(scripted) if original is not None else None  # before any call
    called = eager is not None and _call_check(loaded, target, scripted, eager, results)
    # a verify may run the twin instead of scripting again only after its deployed-style first
    # call passed (executor.py): the twin's own calls run plainly
    if original is not None and twin is not None and (called or not target.inputs):
        results.twins[id(target)] = (original, twin)
    results.targets.append(TargetResult(target.name, scripted=True, called=called))


def _pristine(obj: Any) -> Any:
    """A copy of a module no call will touch (None if it cannot be copied); a function itself."""
    if not isinstance(obj, nn.Module):
        return obj if inspect.isfunction(obj) or isinstance(obj, torch.jit.ScriptFunction) else None
    try:
        return copy.deepcopy(obj)
    except Exception:
        return None


def _script_submodules(loaded: Loaded, target: Target, results: Results) -> None:
    """Script each project-defined submodule on its own, children before parents.

    A class whose first instance fails is not tried again; instances that script
    are cheap (TorchScript reuses the compiled type for identical instances).
    """
    root: nn.Module = target.obj
    failed_classes: set[type] = set()
    for name, sub in _post_order(root):
        cls = type(sub)
        if sub is root or not loaded.in_project(cls) or cls in failed_classes:
            continue
        try:
            scripted = torch.jit.script(sub)
        except Exception as exc:
            _forget_failed_types()
            failed_classes.add(cls)
            if _REDEFINED in str(exc):  # the class failed in the target's own attempt: that error is the news
                continue
            diag = _compile_diagnostic(loaded, exc, f"{target.name}.{name}")
            results.diagnose(diag)
            _held_class_error(loaded, sub, diag, f"{target.name}.{name}", results)
        else:  # how it compiles on its own is evidence too (e.g. `mask=None` → Tensor)
            results.sign(method_signatures(loaded, sub, scripted))


def _held_class_error(loaded: Loaded, root: nn.Module, diag: Diagnostic, target: str,
                      results: Results) -> None:
    """The compiler's own error for the class of a plain object a module holds.

    `self.box_coder = BoxCoder(...)`: TorchScript compiles the class of such an attribute when
    it can, and when that fails it reports only that the value "could not be converted",
    swallowing why. Compiling the class again, as TorchScript did, brings back the error the
    rules can act on (an attribute inferred as a Tensor, a method parameter). A dataclass is
    left alone: TorchScript's attribute conversion cannot take one (see TS015's advice).
    """
    import dataclasses

    if diag.kind is not DiagnosticKind.ATTRIBUTE_CONVERSION or not diag.symbol or not diag.types:
        return
    for module in root.modules():
        if type(module).__name__ != diag.owner:
            continue
        value = vars(module).get(diag.symbol)
        cls = type(value)
        if value is None or isinstance(value, nn.Module) or dataclasses.is_dataclass(cls) \
                or not loaded.in_project(cls) or not diag.types[0].endswith(cls.__qualname__):
            continue
        try:
            torch.jit.script(cls)
        except Exception as exc:
            _forget_failed_types()
            results.diagnose(_compile_diagnostic(loaded, exc, f"{target}.{diag.symbol}"))
        return


# TorchScript's compilation unit keeps a class whose compile failed half-defined; compiling it again
# in the same process says so ("Can't redefine method: forward on class: __torch__.m.LayerNorm"), which
# is about the worker's state, not about the user's code.
_REDEFINED = "Can't redefine method"


def _post_order(root: nn.Module) -> list[tuple[str, nn.Module]]:
    out: list[tuple[str, nn.Module]] = []
    seen: set[int] = set()

    def visit(prefix: str, module: nn.Module) -> None:
        if id(module) in seen:
            return
        seen.add(id(module))
        for name, child in module.named_children():
            visit(f"{prefix}.{name}" if prefix else name, child)
        out.append((prefix, module))

    visit("", root)
    return out


def _forget_failed_types() -> None:
    """Drop the user's classes from TorchScript's concrete-type cache.

    A failed compile leaves a half-defined type behind; scripting an instance of that
    class again (a submodule on its own, a second target, or the next pass, for a class
    from a sibling module that is not reloaded) then fails with "Can't redefine method:
    forward on class ..." instead of the real error. Forgetting the cached types makes
    the next attempt compile afresh under a mangled name. torch's own classes stay.
    """
    try:
        store = torch.jit._recursive.concrete_type_store.type_store
    except AttributeError:  # a torch without this private cache: nothing to forget
        return
    for cls in [c for c in store if not _from_torch(c)]:
        del store[cls]


def _from_torch(cls: type) -> bool:
    module = getattr(cls, "__module__", "") or ""
    return module == "torch" or module.startswith("torch.")


def _compile_diagnostic(loaded: Loaded, exc: BaseException, target: str) -> Diagnostic:
    from dataclasses import replace

    from tsannotate.jit_messages import parse_compile_error

    d = parse_compile_error(loaded.scrub(str(exc)), type(exc).__name__, target)
    if d.function:  # the error may be at a call site, about a callee another project file defines
        d = replace(d, function_path=_defining_file(loaded, d.function))
    return d


def _defining_file(loaded: Loaded, qualname: str) -> str:
    """The project file defining the function or method `qualname` ("" if none does)."""
    import sys

    head, _, rest = qualname.partition(".")
    for name in [loaded.fresh_name, *loaded.renames]:
        module = loaded.module if name == loaded.fresh_name else sys.modules.get(name)
        obj = getattr(module, head, None)
        for part in rest.split(".") if rest else ():
            obj = getattr(obj, part, None)
        if obj is not None and (inspect.isfunction(obj) or inspect.isclass(obj)) and loaded.in_project(obj):
            return loaded.file_of(obj)
    return ""


# --------------------------------------------------------------------------- call check


@dataclass
class _Eager:
    outputs: list[Any]
    state: dict[str, torch.Tensor] | None


def _eager_outputs(target: Target, notes: list[str], recorder: Recorder) -> _Eager | None:
    """Run the eager model on the probe inputs, on a copy of the model when possible.

    The calls run with `recorder` active, which sees the types the model file's own
    functions get and keep (see `recorder.py`).

    A forward that rebinds attributes (`self.cache = x` over `self.cache = None`) or
    fills a list attribute would otherwise change what TorchScript infers afterwards:
    the model would script here yet fail for the user, who scripts a fresh instance.
    """
    if target.inputs is None:
        return None
    state = _save_state(target.obj)
    model = target.obj
    if isinstance(model, nn.Module):
        try:
            model = copy.deepcopy(model)
        except Exception as exc:
            notes.append(f"could not copy {target.name} ({describe(exc)}); the eager calls ran on "
                         "the probe's instance, so attributes its forward changes may hide errors")
    outputs: list[Any] = []
    i = 0
    try:
        for i, args in enumerate(target.inputs):
            seed()
            call_args = fresh_args(args)
            with recorder.active():
                output = model(*call_args)
            outputs.append(snapshot(output))
    except (Exception, SystemExit) as exc:
        notes.append(f"eager {target.name} raised {describe(exc)} on probe input {i}, "
                     "so the scripted model was not called")
        return None
    finally:
        _load_state(target.obj, state)
    return _Eager(outputs, state)


def _call_check(loaded: Loaded, target: Target, scripted: Any, eager: _Eager,
                results: Results) -> bool:
    from tsannotate.jit_messages import parse_call_error

    assert target.inputs is not None
    _load_state(target.obj, eager.state)
    matched = bool(target.inputs)
    for i, (args, expected) in enumerate(zip(target.inputs, eager.outputs)):
        try:
            seed()
            with executor.deployed() if i == 0 else nullcontext():  # see executor.py
                got = scripted(*fresh_args(args))
        except Exception as exc:
            matched = False
            results.diagnose(parse_call_error(loaded.scrub(str(exc)), target.name))
            continue
        diff = mismatch(expected, got)
        if diff is not None:
            matched = False
            where, got_text, expected_text = diff
            results.diagnose(Diagnostic(
                kind=DiagnosticKind.CALL_FAILED,
                message=f"scripted {target.name} returns {got_text} where eager returns "
                        f"{expected_text} at {where} (probe input {i})",
                symbol=where, target=target.name))
    _load_state(target.obj, eager.state)
    return matched


def _save_state(obj: Any) -> dict[str, torch.Tensor] | None:
    if not isinstance(obj, nn.Module):
        return None
    try:
        return {k: v.detach().clone() for k, v in obj.state_dict().items()}
    except Exception:
        return None


def _load_state(obj: Any, state: dict[str, torch.Tensor] | None) -> None:
    if state is None or not isinstance(obj, nn.Module):
        return
    try:
        obj.load_state_dict(state, strict=False)
    except Exception:
        pass
