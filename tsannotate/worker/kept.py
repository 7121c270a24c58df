"""What the worker keeps between requests, so that verifying redoes nothing a script pass did.

`fix --apply` ends with a script pass over the fixed sources and then a VerifyRequest for those
same sources and the user's original. Verifying from scratch imports both texts again, runs
both probes again and scripts every target again. Instead the worker keeps:

- from its last ScriptRequest, when every target scripted and its call check (whose first
  call runs as a deployed model's does: executor.py) passed: the loaded module (its global
  changes undone, ready to be put back by `loader.resumed`) and, per target, a copy of the
  probe's instance taken before anything ran it and a copy of what `torch.jit.script` made of
  it taken before the call check ran it. Verifying the same sources runs these copies (never
  called, so a stateful model starts where its probe left it) instead of calling the probe and
  scripting again: the classes are the same objects, so the compiled code is the same, and
  it has already had its deployed-style first call.
- from the first ScriptRequest for a file (the loop starts from the user's text): the eager
  outputs on the probe inputs, which are what verify's baseline of that text computes.

Either is used only if loading the verify's request would execute exactly the same texts
(`loader.Executed.same`); the module only if its globals (and its classes' attributes) still
hold what they held once the probe had run (a forward that rebinds a module global or fills a
module-level list would otherwise start from another state than a fresh import) and no two
targets share a module or tensor (verifying from scratch chains their state). Otherwise
verify loads afresh, as it always did. What else the probe left behind that the worker has
undone since (grad mode, working directory, Python's random state) is put back. Each is used
once; a new ScriptRequest drops the previous pass's module before loading, so memory stays at
about one model's worth.
"""

from __future__ import annotations

import copy
import os
import random
import sys
import types
from dataclasses import dataclass
from typing import Any

import torch

from tsannotate.records import ScriptRequest
from tsannotate.worker.loader import Executed, Loaded, Restore
from tsannotate.worker.targets import Found, Target

_MAX_ITEMS = 1000  # a bigger module-level container is marked by its length alone

_Mark = tuple[tuple[object, ...], tuple[int, ...]]  # (objects compared by identity, tensor versions)
Marks = list[tuple[Any, dict[str, _Mark]]]  # (a namespace, a mark of each of its names)


@dataclass
class Probed:
    """The process as the probe left it, which is what a verify that calls the probe runs in.

    The worker restores grad mode and the working directory after each request, and the
    pass's calls drew from Python's (and numpy's) generators since: those are put back.
    What the probe changed and nothing restores (a default dtype) is still as it left it.
    """

    names: Marks  # the modules' and their classes' names
    grad: bool
    cwd: str
    random: tuple[Any, ...]
    numpy_random: object

    def unchanged(self) -> bool:
        return all(_same(_marks(ns), then) for ns, then in self.names)

    def put_back(self) -> None:
        torch.set_grad_enabled(self.grad)
        try:
            os.chdir(self.cwd)
        except OSError:
            pass
        random.setstate(self.random)
        numpy = sys.modules.get("numpy")
        if self.numpy_random is not None and numpy is not None:
            numpy.random.set_state(self.numpy_random)


@dataclass
class Session:
    executed: Executed
    loaded: Loaded
    restore: Restore  # undone; `loader.resumed` puts it back
    targets: list[Target]  # each with its uncalled copies: obj and twin
    notes: list[str]  # what find_targets said
    probed: Probed


_session: Session | None = None
_first: tuple[Executed, dict[str, list[Any]]] | None = None  # a file's first pass: its eager outputs
_path: str | None = None  # the model of the last ScriptRequest (None after a verify)
_opening = False  # the current ScriptRequest is its file's first


def begin(request: ScriptRequest) -> None:
    """A ScriptRequest arrives: drop the previous pass's module (one model's worth at a time)."""
    global _session, _first, _path, _opening
    _session = None
    path = os.path.abspath(request.model_path)
    _opening = path != _path
    if _opening:
        _first, _path = None, path


def remember(request: ScriptRequest, loaded: Loaded, restore: Restore, found: Found,
             eager: dict[str, list[Any]] | None, twins: dict[int, tuple[Any, Any]],
             scripted: bool, probed: Probed | None) -> None:
    """After a ScriptRequest: keep what a verify of the same sources can use."""
    global _session, _first
    executed = Executed.of(loaded, request)
    if _opening and eager is not None:
        _first = (executed, eager)
    targets = found.targets
    if not (scripted and probed is not None and targets and all(id(t) in twins for t in targets)
            and all(_copyable(args) for t in targets for args in t.inputs or []) and _apart(targets)):
        return
    kept = [Target(t.name, twins[id(t)][0], t.inputs, twin=twins[id(t)][1]) for t in targets]
    _session = Session(executed, loaded, restore, kept, list(found.notes), probed)


def take(request: ScriptRequest) -> Session | None:
    """The last pass's module and uncalled copies, if `request` loads exactly what it loaded
    and nothing has changed the module's globals since its probe ran; never the same twice."""
    global _session
    session, _session = _session, None
    if session is None or not session.executed.same(request) or not session.probed.unchanged():
        return None
    return session


def baseline(request: ScriptRequest) -> dict[str, list[Any]] | None:
    """The eager outputs per target of a file's first pass, if `request` loads what it loaded."""
    if _first is None or not _first[0].same(request):
        return None
    return _first[1]


def verified() -> None:
    """After a VerifyRequest: the next ScriptRequest starts another file's (or run's) passes."""
    global _session, _first, _path
    _session, _first, _path = None, None, None


# --------------------------------------------------------------------------- globals


def probed(loaded: Loaded) -> Probed:
    """Right after the probe ran (while the load is in place: its project modules are in
    sys.modules): what the modules' and their classes' names hold, and the process state."""
    modules = [loaded.module] + [m for name in loaded.renames if name != loaded.fresh_name
                                 for m in [sys.modules.get(name)] if isinstance(m, types.ModuleType)]
    namespaces: list[Any] = []
    for module in modules:
        namespaces.append(vars(module))
        namespaces += [vars(v) for v in list(vars(module).values())
                       if isinstance(v, type) and v.__module__ == module.__name__]
    numpy = sys.modules.get("numpy")
    try:
        numpy_random = numpy.random.get_state() if numpy is not None else None
    except Exception:
        numpy_random = None
    return Probed([(ns, _marks(ns)) for ns in namespaces], torch.is_grad_enabled(), os.getcwd(),
                  random.getstate(), numpy_random)


def _marks(namespace: Any) -> dict[str, _Mark]:
    return {k: _mark(v) for k, v in list(namespace.items())
            if not (k.startswith("__") and k.endswith("__"))}  # __warningregistry__, __dict__...


def _mark(value: object) -> _Mark:
    items: tuple[object, ...] = ()
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        if len(value) > _MAX_ITEMS:
            return (value,), (len(value),)
        items = tuple(x for kv in value.items() for x in kv) if isinstance(value, dict) else tuple(value)
    refs = (value, *items)
    return refs, tuple(_version(x) for x in refs if isinstance(x, torch.Tensor))


def _version(tensor: torch.Tensor) -> int:
    try:
        return int(tensor._version)
    except Exception:  # an inference tensor keeps no version counter
        return -1


def _same(now: dict[str, _Mark], then: dict[str, _Mark]) -> bool:
    if now.keys() != then.keys():
        return False
    for key, (refs, versions) in then.items():
        refs_now, versions_now = now[key]
        if versions_now != versions or len(refs_now) != len(refs) \
                or any(a is not b for a, b in zip(refs_now, refs)):
            return False
    return True


def _apart(targets: list[Target]) -> bool:
    """No two targets share a module or a tensor. A verify that calls the probe runs each
    target's scripted module on the probe's instance's own tensors, so a later target sharing
    them would start from what that run left; the copies taken in the pass cannot tell."""
    seen: set[int] = set()
    for target in targets:
        if not isinstance(target.obj, torch.nn.Module):
            continue
        try:
            ids = {id(m) for m in target.obj.modules()}
            ids |= {id(v) for v in target.obj.state_dict(keep_vars=True).values()}
        except Exception:
            return False
        if ids & seen:
            return False
        seen |= ids
    return True


def _copyable(args: tuple[Any, ...]) -> bool:
    """Every call copied these arguments (compare.fresh_args), so none could change them."""
    try:
        copy.deepcopy(args)
    except Exception:
        return False
    return True
