"""Decide what to script: the probe's (model, inputs) pairs, or every zero-argument module.

A probe is `--probe path.py:callable`, or a callable named `probe` in the model file;
it returns `(module_or_function, [args_tuple, ...])` or a list of such pairs. Without
a probe (or when the probe fails), the targets are the `nn.Module` subclasses defined
in the model file that construct with no arguments, plus the free functions the file
decorates with `@torch.jit.script`.
"""

from __future__ import annotations

import inspect
import os
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from tsannotate.records import LoadError, LoadFailure, Observation, ScriptRequest
from tsannotate.worker.errors import (
    LoadFailed,
    compile_source,
    describe,
    format_user_traceback,
    import_failure,
)
from tsannotate.worker.loader import Loaded, Restore, add_path, import_name
from tsannotate.worker.recorder import Recorder, held_objects
from tsannotate.worker.rng import seed


@dataclass
class Target:
    name: str  # "Net", "helper"
    obj: Any  # nn.Module, plain function, or something torch.jit.script already made
    inputs: list[tuple[Any, ...]] | None = None  # probe inputs; None: compile only
    # what torch.jit.script(obj) returns, when already known (the worker's last script pass
    # scripted this very instance, and copied both before anything called them): see kept.py
    twin: Any = None
    # the constructor arguments of the plain objects (not modules) of the project that the
    # probe's models hold as attributes, as the probe built them (see recorder.held_objects)
    held: tuple[Observation, ...] = ()


@dataclass
class Found:
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _ProbeProblem(Exception):
    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.details = details


def find_targets(loaded: Loaded, request: ScriptRequest, restore: Restore) -> Found:
    """The targets of this pass; raises LoadFailed when there is nothing to script."""
    found = Found()
    try:
        probe = None if request.no_probe else _probe_callable(loaded, request, restore)
        if probe is not None:
            found.targets = _call_probe(probe, loaded.project_files)
    except _ProbeProblem as exc:  # the user's probe is broken: bad input, never a silent fallback
        raise LoadFailed(LoadError(
            LoadFailure.PROBE, f"{exc.message}; fix the probe, or pass --no-probe to work from compiler "
                               "errors and static evidence alone", exc.details)) from None
    if not found.targets:
        if request.no_probe:
            found.notes.append("--no-probe: the probe was not run; compiler errors and mypy's "
                               "inferences only")
        else:
            found.notes.append(
                "no probe: compiler errors only. A probe() returning (model, [inputs]) adds the "
                "runtime types (most fixes in one pass) and checks the scripted model against eager; "
                f"`tsannotate probe {os.path.relpath(loaded.path)} --template` prints a skeleton")
        found.targets = _zero_argument_modules(loaded, found.notes)
    given = {id(t.obj) for t in found.targets}
    found.targets += [Target(f.__name__, f) for f in loaded.scripted_functions if id(f) not in given]
    _unique_names(found.targets)
    if found.targets:
        return found
    raise LoadFailed(LoadError(
        LoadFailure.NO_TARGET,
        f"no nn.Module with a zero-argument constructor and no probe in {loaded.path}; add a "
        "`probe()` function returning (model, [inputs]) or pass --probe",
        "\n".join(found.notes),
    ))


# --------------------------------------------------------------------------- probe


def _probe_callable(loaded: Loaded, request: ScriptRequest,
                    restore: Restore) -> Callable[[], Any] | None:
    if request.probe is None:
        fn = loaded.module.__dict__.get("probe")
        return fn if callable(fn) else None
    file, sep, name = request.probe.rpartition(":")
    if not sep or not file or not name.isidentifier():
        raise _ProbeProblem(f"--probe must look like path.py:callable, got {request.probe!r}")
    file = os.path.abspath(file)
    module = loaded.module if file == loaded.path else _load_probe_file(file, loaded, restore)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise _ProbeProblem(f"{file} has no callable `{name}` (from --probe {request.probe})")
    return fn  # type: ignore[no-any-return]


def _load_probe_file(path: str, loaded: Loaded, restore: Restore) -> types.ModuleType:
    """Execute the probe file afresh, so it imports this pass's model module."""
    try:
        with open(path, encoding="utf-8") as f:
            source = f.read()
    except OSError as exc:
        raise _ProbeProblem(f"cannot read the probe file {path}: {exc.strerror or exc}") from None
    loaded.read[path] = source
    try:
        code = compile_source(source, path, "probe")
    except LoadFailed as exc:
        raise _ProbeProblem(exc.error.message, exc.error.details) from None
    real_name, root = import_name(path)
    add_path(root)
    add_path(os.path.dirname(path))
    fresh = f"{loaded.fresh_name.partition('.')[0]}._probe_{real_name.rpartition('.')[2]}"
    module = types.ModuleType(fresh)
    module.__file__ = path
    module.__package__ = real_name.rpartition(".")[0]
    restore.module(fresh, module)
    loaded.renames[fresh] = real_name
    try:
        exec(code, module.__dict__)
    except (Exception, SystemExit) as exc:
        error = import_failure(exc, path, "probe")
        raise _ProbeProblem(error.message, error.details) from None
    return module


def _call_probe(probe: Callable[[], Any], files: set[str] | frozenset[str] = frozenset()) -> list[Target]:
    name = getattr(probe, "__name__", "probe")
    constructors = Recorder(files, constructors=True)
    try:
        seed()
        with constructors.active():
            result = probe()
    except (Exception, SystemExit) as exc:
        raise _ProbeProblem(f"{name}() raised {describe(exc)}", format_user_traceback(exc)) from None
    expected = f"{name}() must return (model, [args_tuple, ...]) or a list of such pairs"
    if _is_pair(result):
        pairs = [result]
    elif isinstance(result, (list, tuple)) and result and all(_is_pair(p) for p in result):
        pairs = list(result)
    else:
        raise _ProbeProblem(f"{expected}; it returned {_shape(result)}")
    targets: list[Target] = []
    for obj, inputs in pairs:
        for i, args in enumerate(inputs):
            if not isinstance(args, tuple):
                raise _ProbeProblem(
                    f"{expected}; it returned {_shape(result)}, and input {i} is "
                    f"{_shape(args)}, not a tuple of arguments (write [(x,)] for one argument)")
        targets.append(Target(_target_name(obj), obj, list(inputs)))
    held = held_objects(constructors, [t.obj for t in targets])
    for t in targets:
        t.held = held
    return targets


def _is_pair(value: object) -> bool:
    return (
        isinstance(value, tuple) and len(value) == 2
        and (isinstance(value[0], nn.Module) or callable(value[0]))
        and not isinstance(value[0], (tuple, list))
        and isinstance(value[1], (list, tuple))
    )


def _shape(value: object, depth: int = 0) -> str:
    """A short picture of a value for error messages: `(Net, [Tensor, Tensor])`."""
    if isinstance(value, (tuple, list)) and depth < 2:
        items = [_shape(v, depth + 1) for v in value[:3]] + (["..."] if len(value) > 3 else [])
        inner = ", ".join(items)
        return f"({inner}{',' if len(value) == 1 else ''})" if isinstance(value, tuple) else f"[{inner}]"
    if isinstance(value, torch.Tensor):
        return "Tensor"
    if value is None:
        return "None"
    if isinstance(value, nn.Module) or inspect.isfunction(value):
        return _target_name(value)
    return type(value).__name__


def _target_name(obj: object) -> str:
    original = getattr(obj, "original_name", None)  # an already scripted module
    if isinstance(original, str) and isinstance(obj, torch.jit.ScriptModule):
        return original
    if isinstance(obj, nn.Module):
        return type(obj).__name__
    return str(getattr(obj, "__name__", type(obj).__name__))


def _unique_names(targets: list[Target]) -> None:
    seen: dict[str, int] = {}
    for t in targets:
        seen[t.name] = seen.get(t.name, 0) + 1
        if seen[t.name] > 1:
            t.name = f"{t.name}#{seen[t.name]}"


# --------------------------------------------------------------------------- compiler-only


def _zero_argument_modules(loaded: Loaded, notes: list[str]) -> list[Target]:
    instances: list[nn.Module] = []
    skipped: dict[str, str] = {}
    for name, obj in list(vars(loaded.module).items()):
        if not (isinstance(obj, type) and issubclass(obj, nn.Module)
                and loaded.defined_here(obj) and obj.__name__ == name):
            continue
        try:
            inspect.signature(obj).bind()
        except TypeError:
            skipped[name] = f"skipped {name}: its constructor needs arguments (use a probe to script it)"
            continue
        except ValueError:
            pass  # no signature to inspect: just try it
        try:
            seed()
            instances.append(obj())
        except (Exception, SystemExit) as exc:
            skipped[name] = f"skipped {name}: {name}() raised {describe(exc)}"
    # A class that is a submodule of another target gets scripted with it.
    inner = {type(m) for inst in instances for m in inst.modules() if m is not inst}
    notes.extend(note for name, note in skipped.items() if name not in {t.__name__ for t in inner})
    return [Target(type(inst).__name__, inst) for inst in instances if type(inst) not in inner]
